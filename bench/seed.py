"""Seeding and counting for the booking benchmark; imported by booking_rush.py's child processes with Django set
up against the benchmark database (never the project's own)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Count, Q, Sum
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret  # type: ignore[attr-defined]
from django.utils import timezone

from kinship.bookings.models import ACTIVE_STATUSES, AllowanceEntry, Booking, Slot
from kinship.bookings.tests.factories import SlotFactory, approved_contact, eligible_resident
from kinship.establishments.models import Establishment, Room
from kinship.factories import EstablishmentFactory, RoomFactory


def _session(user: Any) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return session.session_key


def seed(*, residents: int, slots: int) -> dict[str, Any]:
    """One prison; ``slots`` one-place slots, an hour apart from three days ahead; ``residents`` people ready to
    book (compact signed, assessed), each with two approved contacts who accepted the terms (PF 4.12, PF 4.15)."""
    assert "bench" in settings.DATABASES["default"]["NAME"], "seeding only the benchmark database"
    prison = cast(Establishment, EstablishmentFactory(code="BENCH", name="HMP Benchmark"))
    room = cast(Room, RoomFactory(establishment=prison))
    first = (timezone.now() + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    created = [
        cast(
            Slot,
            SlotFactory(
                establishment=prison,
                room=room,
                starts_at=first + timedelta(hours=hour),
                ends_at=first + timedelta(hours=hour, minutes=60),
                capacity=1,
            ),
        )
        for hour in range(slots)
    ]
    clients = []
    for _ in range(residents):
        resident = eligible_resident(prison)
        for _contact in range(2):
            contact = approved_contact(resident)
            secret = _get_new_csrf_string()
            clients.append(
                {
                    "session_key": _session(contact.user),
                    "csrf_secret": secret,
                    "csrf_token": _mask_cipher_secret(secret),
                    "resident_id": str(resident.pk),
                }
            )
    return {"slots": [str(slot.pk) for slot in created], "clients": clients}


def tally() -> dict[str, int]:
    """What the database says after the rush: places used against capacity, minutes against the allowance."""
    slots = Slot.objects.annotate(active=Count("bookings", filter=Q(bookings__status__in=ACTIVE_STATUSES)))
    double = sum(max(0, slot.active - slot.capacity) for slot in slots)
    # PF 4.1 (one call of up to 60 minutes a month by default): a person's month may hold at most 60 minutes.
    overspent = (
        AllowanceEntry.objects.values("resident_id", "month")
        .annotate(used=Sum("minutes"))
        .filter(used__lt=-60)
        .count()
    )
    per_person = (
        Booking.objects.filter(status__in=ACTIVE_STATUSES)
        .values("resident_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "booked": Booking.objects.filter(status__in=ACTIVE_STATUSES).count(),
        "capacity": sum(slot.capacity for slot in slots),
        "double_bookings": double,
        "overspent": overspent + per_person,
    }
