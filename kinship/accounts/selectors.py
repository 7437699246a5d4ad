"""Account reads. Every contact-facing selector takes the contact (or user) and returns only their own records;
every staff-facing selector takes the establishment the staff member is working in."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from kinship.establishments.models import Establishment
from kinship.people.models import Contact, ContactLink, LinkRequest, LinkRequestStatus, LinkStatus

from .models import IdentityVerification, TermsAcceptance, TermsVersion, User, VerificationStatus


def terms_current() -> TermsVersion | None:
    return TermsVersion.current()


def terms_acceptance_latest(*, user: User) -> TermsAcceptance | None:
    return TermsAcceptance.objects.filter(user=user).select_related("terms").order_by("-accepted_at").first()


def totp_device_confirmed(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def totp_device_unconfirmed(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def contact_for_user(*, user: User) -> Contact | None:
    return Contact.objects.filter(user=user).first()


def contact_links_approved(*, contact: Contact) -> QuerySet[ContactLink]:
    return (
        ContactLink.objects.filter(contact=contact, status=LinkStatus.APPROVED)
        .select_related("resident", "resident__establishment")
        .order_by("resident__last_name", "resident__first_name")
    )


def link_requests_for_contact(*, contact: Contact) -> QuerySet[LinkRequest]:
    """The contact's own link requests that have not (yet) become a link: waiting, or not matched."""
    return (
        LinkRequest.objects.filter(contact=contact)
        .exclude(status=LinkRequestStatus.MATCHED)
        .select_related("establishment")
        .order_by("-created_at")
    )


def link_request_for_contact(*, contact: Contact, pk: UUID | str) -> QuerySet[LinkRequest]:
    """A queryset holding at most the one request, and only if it is the contact's own (others give 404)."""
    return LinkRequest.objects.filter(contact=contact, pk=pk).select_related("establishment")


def establishments_for_link_requests() -> QuerySet[Establishment]:
    return Establishment.objects.filter(active=True).order_by("name")


def identity_latest(*, user: User) -> IdentityVerification | None:
    return IdentityVerification.objects.filter(user=user).order_by("-created_at").first()


def identity_checks_at(*, establishment: Establishment) -> QuerySet[IdentityVerification]:
    """Identity checks staff at ``establishment`` may see: the contact has a link or a link request there."""
    contacts = Contact.objects.filter(
        Q(links__resident__establishment=establishment) | Q(link_requests__establishment=establishment)
    ).values("user_id")
    return IdentityVerification.objects.filter(user_id__in=contacts).select_related("user", "user__contact")


def identity_checks_pending_at(*, establishment: Establishment) -> QuerySet[IdentityVerification]:
    return (
        identity_checks_at(establishment=establishment)
        .filter(status=VerificationStatus.PENDING)
        .order_by("created_at")
    )


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()
