"""Booking references: short, read aloud over the phone and typed from a letter, so never ambiguous.

The alphabet leaves out 0/O and 1/I/L, which are easily confused; 31 symbols in 8 places give about 8.5e11
references, drawn at random so a reference says nothing about how many bookings exist.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUP = 4
GROUPS = 2
PATTERN = re.compile(rf"^[{ALPHABET}]{{{GROUP}}}-[{ALPHABET}]{{{GROUP}}}$")


def new_reference() -> str:
    """For example ``KX7P-2MRA``."""
    groups = ("".join(secrets.choice(ALPHABET) for _ in range(GROUP)) for _ in range(GROUPS))
    return "-".join(groups)


def normalise_reference(text: str) -> str:
    """What someone typed, as stored: upper case, spaces dropped, the hyphen put back."""
    compact = re.sub(r"[\s-]", "", text).upper()
    return f"{compact[:GROUP]}-{compact[GROUP:]}" if len(compact) == GROUP * GROUPS else compact


def is_reference(text: str) -> bool:
    return bool(PATTERN.match(text))
