"""Extra free calls (PF 4.3): who may grant them, the capacity check, and booking with one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kinship.accounts.models import User
from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import (
    AllowanceEntry,
    BookingStatus,
    CancelledBy,
    ExtraCallReason,
    Funding,
    RequestChannel,
)
from kinship.bookings.services import booking_cancel, booking_request, extra_call_grant
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.factories import ResidentFactory, staff_with

from .conftest import Party, make_party
from .factories import SlotFactory

pytestmark = pytest.mark.django_db


def test_a_governor_grants_an_extra_call_when_capacity_allows(
    party: Party, now: datetime, governor: User
) -> None:
    grant = extra_call_grant(
        resident=party.resident,
        reason=ExtraCallReason.FAMILY_WELLBEING,
        notes="Bereavement",
        approver=governor,
        now=now,
    )
    assert (grant.month, grant.approved_by) == ("2027-03", governor)


def test_a_grant_is_refused_when_capacity_is_too_low(party: Party, now: datetime, governor: User) -> None:
    # Two places left this month (the party's slot holds 2) and three people without a call: no grant.
    ResidentFactory.create_batch(2, establishment=party.establishment)
    with pytest.raises(BookingRefused) as refused:
        extra_call_grant(
            resident=party.resident, reason=ExtraCallReason.RESIDENT_WELLBEING, approver=governor, now=now
        )
    assert refused.value.codes == {"extra_call.capacity"}


def test_only_a_governor_grants_in_prisons(party: Party, now: datetime, clerk: User) -> None:
    with pytest.raises(BookingRefused) as refused:
        extra_call_grant(resident=party.resident, reason=ExtraCallReason.AS_NEEDED, approver=clerk, now=now)
    assert refused.value.codes == {"extra_call.governor_only", "extra_call.reason_needed"}


def test_youth_custody_grants_as_needed(youth: Establishment, now: datetime) -> None:
    party = make_party(youth)
    officer = staff_with(Role.SUPERVISING_OFFICER, youth)
    grant = extra_call_grant(
        resident=party.resident, reason=ExtraCallReason.AS_NEEDED, approver=officer, now=now
    )
    assert grant.reason == ExtraCallReason.AS_NEEDED


def test_immigration_detention_has_no_allowance_to_add_to(irc_party: Party, now: datetime) -> None:
    manager = staff_with(Role.GOVERNOR, irc_party.establishment)
    with pytest.raises(BookingRefused) as refused:
        extra_call_grant(
            resident=irc_party.resident, reason=ExtraCallReason.RESIDENT_WELLBEING, approver=manager, now=now
        )
    assert refused.value.rule_ids == {"DSO 3"}


def test_a_grant_pays_for_a_call_beyond_the_allowance(party: Party, now: datetime, governor: User) -> None:
    booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        now=now,
    )
    second = SlotFactory(
        establishment=party.establishment, starts_at=party.slot.starts_at + timedelta(days=1)
    )

    def request_with_grant() -> object:
        return booking_request(
            slot=second,
            resident=party.resident,
            lead_contact=party.contact,
            channel=RequestChannel.CONTACT,
            use_extra_grant=True,
            now=now,
        ).booking

    with pytest.raises(BookingRefused) as refused:
        request_with_grant()
    assert refused.value.codes == {"extra_call.none_available"}
    SlotFactory(establishment=party.establishment, capacity=4)  # room in the month for the grant (PF 4.3)
    grant = extra_call_grant(
        resident=party.resident, reason=ExtraCallReason.RESIDENT_WELLBEING, approver=governor, now=now
    )
    booking = request_with_grant()
    assert (booking.funding, booking.extra_grant) == (Funding.EXTRA_GRANT, grant)  # type: ignore[attr-defined]
    assert not AllowanceEntry.objects.filter(booking=booking).exists()
    # Cancelled by the establishment: the grant is free to use again (PF 4.1 read for grants too).
    cancelled = booking_cancel(
        booking=booking,
        cancelled_by=CancelledBy.ESTABLISHMENT,
        reason="Room flooded",
        actor=governor,
        now=now,  # type: ignore[arg-type]
    ).booking
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.extra_grant is None
    assert request_with_grant().extra_grant == grant  # type: ignore[attr-defined]
