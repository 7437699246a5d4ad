"""Refused booking requests are decisions: those resting on a rule about the people are audited with every reason
and its citation; a time that is simply taken is answered but not written to the audit chain (ADR 0006)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import transaction

from kinship.audit.models import AuditEvent
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import RequestChannel
from kinship.bookings.services import booking_request
from kinship.establishments.models import Establishment
from kinship.people.models import CompactRecord

from .conftest import Party, make_party

pytestmark = pytest.mark.django_db


def _request(party: Party, now: datetime) -> None:
    booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
        now=now,
    )


def _refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="booking_request_refused"))


def test_a_refusal_on_a_rule_about_the_people_is_audited_with_its_reasons(
    party: Party, now: datetime
) -> None:
    CompactRecord.objects.filter(resident=party.resident).delete()  # PF 4.9 / compact: not signed
    with pytest.raises(BookingRefused) as refused:
        _request(party, now)
    [event] = _refusals()
    assert event.subject_id == str(party.resident.pk)
    assert event.establishment_code == party.establishment.code
    assert event.actor_id == party.contact.user.pk
    assert {reason["code"] for reason in event.after["reasons"]} == refused.value.codes
    assert set(event.policy_ids) == set(refused.value.rule_ids)
    assert event.after["channel"] == RequestChannel.CONTACT


def test_a_time_that_is_taken_is_answered_but_not_audited(prison: Establishment, now: datetime) -> None:
    first = make_party(prison, capacity=1)
    _request(first, now)
    second = make_party(prison)
    second.slot = first.slot
    with pytest.raises(BookingRefused) as refused:
        _request(second, now)
    assert refused.value.codes == {"slot.full"}
    assert _refusals() == []


def test_a_dry_run_that_rolls_back_leaves_no_refusal(party: Party, now: datetime) -> None:
    CompactRecord.objects.filter(resident=party.resident).delete()
    with pytest.raises(BookingRefused), transaction.atomic():
        _request(party, now)
    assert _refusals() == []
