"""Seeding for the media benchmark (bench/media_load.py); imported by its child process with Django set up against
the benchmark's throwaway database (never the project's own) and the benchmark's Janus.

For each of K calls: a prison room with a slot that started a minute ago, an approved booking of an eligible
person in custody with one approved contact (terms accepted, email verified), a registered resident terminal in
that room, a monitoring officer with a verified second factor at a registered monitoring terminal, and the call
opened (its Janus room made), checked in, watched (an open ``MonitorViewing``) and started: live. Each participant
gets what a browser would hold: the contact a session cookie, the resident terminal its device cookie, the monitor
a session cookie (second factor verified) and the monitoring terminal's device cookie.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from kinship.bookings.models import Booking, BookingStatus, RequestChannel, Slot
from kinship.bookings.references import new_reference
from kinship.bookings.tests.factories import SlotFactory, approved_contact, eligible_resident
from kinship.calls import services
from kinship.calls.models import Call, CallParty, CallState
from kinship.calls.provider import media_server
from kinship.core.roles import Role
from kinship.establishments.models import Establishment, Room, Terminal, TerminalKind, hash_device_secret
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.factories import (
    EstablishmentFactory,
    RoomFactory,
    TerminalFactory,
    staff_with,
    verified_totp_device,
)


def _session(user: Any, **extra: str) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    for key, value in extra.items():
        session[key] = value
    session.create()
    assert session.session_key is not None
    return session.session_key


def _terminal(establishment: Establishment, kind: TerminalKind, room: Room | None) -> tuple[Terminal, str]:
    secret = secrets.token_urlsafe(24)
    terminal = cast(
        Terminal,
        TerminalFactory(
            establishment=establishment,
            kind=kind,
            room=room,
            device_secret_hash=hash_device_secret(secret),
            registered_at=timezone.now(),
        ),
    )
    return terminal, secret


def seed(*, calls: int) -> dict[str, Any]:
    """K live prison calls, each ready for a resident, a contact and a monitor to join."""
    assert "bench" in str(settings.DATABASES["default"]["NAME"]), "seeding only the benchmark database"
    prison = cast(Establishment, EstablishmentFactory(code="MEDIA", name="HMP Media Benchmark"))
    officer = staff_with(Role.SUPERVISING_OFFICER, prison)
    media = media_server()
    cookie = settings.SESSION_COOKIE_NAME
    starts = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    seeded = []
    for _ in range(calls):
        room = cast(Room, RoomFactory(establishment=prison))
        slot = cast(
            Slot,
            SlotFactory(
                establishment=prison, room=room, starts_at=starts, ends_at=starts + timedelta(minutes=60)
            ),
        )
        resident = eligible_resident(prison)
        contact = approved_contact(resident)
        user = contact.user
        assert user is not None
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at"])
        booking = Booking.objects.create(
            reference=new_reference(),
            slot=slot,
            resident=resident,
            lead_contact=contact,
            kind="social",
            requested_by=RequestChannel.CONTACT,
            requested_at=timezone.now(),
            status=BookingStatus.APPROVED,
        )
        _resident_terminal, resident_device = _terminal(prison, TerminalKind.RESIDENT, room)
        monitoring_terminal, monitor_device = _terminal(prison, TerminalKind.MONITORING, None)
        monitor = staff_with(Role.MONITORING_OFFICER, prison)
        device = verified_totp_device(monitor)

        call = services.call_open(booking=booking, media=media)
        if not call.has_room:
            raise RuntimeError("Janus did not make the call's room (is it running in the namespace?)")
        services.call_check_in(call=call, party=CallParty.RESIDENT, actor=officer)
        services.call_check_in(call=call, party=CallParty.OFFICER, actor=officer)
        services.monitor_viewing_start(
            call=call, officer=monitor, terminal=monitoring_terminal, reason="Media benchmark"
        )
        call = services.call_start(call=call, actor=officer)
        assert call.state == CallState.LIVE
        seeded.append(
            {
                "booking": str(booking.pk),
                "call": str(call.pk),
                "participants": {
                    "resident": {"role": "resident", "cookie": f"{TERMINAL_COOKIE_NAME}={resident_device}"},
                    "contact": {"role": "contact", "cookie": f"{cookie}={_session(user)}"},
                    "monitor": {
                        "role": "monitor",
                        "cookie": (
                            f"{cookie}={_session(monitor, **{DEVICE_ID_SESSION_KEY: device.persistent_id})}; "
                            f"{TERMINAL_COOKIE_NAME}={monitor_device}"
                        ),
                    },
                },
            }
        )
    return {"calls": seeded}


def tally() -> dict[str, int]:
    """Calls still live when the benchmark stopped its peers (each should be)."""
    return {"live": Call.objects.filter(state=CallState.LIVE).count(), "all": Call.objects.count()}
