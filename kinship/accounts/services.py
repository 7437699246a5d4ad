"""Account services: everything that changes an account goes through here, audited in the same transaction."""

from __future__ import annotations

from typing import Any

from .models import TermsAcceptance, TermsVersion


def contact_must_accept_terms(user: Any) -> bool:
    """PF 4.15: a contact accepts the current terms and conditions before booking or joining; a new version must
    be accepted again."""
    current = TermsVersion.current()
    if current is None:
        return False
    return not TermsAcceptance.objects.filter(user=user, terms=current).exists()
