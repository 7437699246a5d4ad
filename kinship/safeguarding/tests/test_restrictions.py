"""Restrictions (PF 4.4), contact bans (PF 4.10), banned visitors (PF 4.12) and booking bans (DSO Annex A)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kinship import policy
from kinship.bookings import facts as booking_facts
from kinship.core.roles import Role
from kinship.factories import (
    ContactFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    ResidentFactory,
    staff_with,
)
from kinship.people.models import ContactLink, LinkStatus
from kinship.safeguarding import selectors_restrictions as selectors
from kinship.safeguarding import services_restrictions as services
from kinship.safeguarding.models import RestrictionKind, ReviewOutcome, Rule34Ground, VisitorBanKind

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 10, 20, 9, 0, tzinfo=LONDON)


@pytest.fixture
def prison():
    place = EstablishmentFactory()
    return {
        "place": place,
        "governor": staff_with(Role.GOVERNOR, place),
        "security": staff_with(Role.SECURITY, place),
        "resident": ResidentFactory(establishment=place),
    }


def restrict(prison, **kwargs):
    values = {
        "resident": prison["resident"],
        "kind": RestrictionKind.LIMIT,
        "ground": Rule34Ground.PRISON_SECURITY_GOOD_ORDER,
        "rationale": "Passing messages for a gang.",
        "necessity_and_proportionality": "Shorter calls with fewer people are enough.",
        "review_on": date(2026, 11, 3),
        "max_call_minutes": 30,
        "actor": prison["governor"],
        "now": NOW,
    }
    values.update(kwargs)
    return services.restriction_create(**values)


def test_a_restriction_reaches_the_facts_and_its_review_comes_due(prison):
    restriction = restrict(prison)
    facts = booking_facts.resident_facts(prison["resident"])
    assert facts.restrictions[0].max_call_minutes == 30
    place = prison["place"]
    assert not selectors.restrictions_due_for_review(place, today=date(2026, 11, 2), now=NOW).exists()
    assert list(selectors.restrictions_due_for_review(place, today=date(2026, 11, 3), now=NOW)) == [
        restriction
    ]
    services.restriction_review(
        restriction=restriction,
        outcome=ReviewOutcome.CONTINUE,
        notes="Still needed.",
        next_review_on=date(2026, 12, 1),
        actor=prison["governor"],
        now=NOW + timedelta(days=14),
    )
    assert not selectors.restrictions_due_for_review(place, today=date(2026, 11, 3), now=NOW).exists()


def test_lifting_ends_the_restriction(prison):
    restriction = restrict(prison, kind=RestrictionKind.WITHHOLD, max_call_minutes=None)
    services.restriction_review(
        restriction=restriction, outcome=ReviewOutcome.LIFT, notes="Done.", actor=prison["governor"], now=NOW
    )
    fact = booking_facts.resident_facts(prison["resident"]).restrictions[0]
    assert not fact.active_at(NOW + timedelta(minutes=1))


def test_security_cannot_decide_a_restriction_and_every_reason_is_given(prison):
    with pytest.raises(services.SafeguardingRefused) as refused:
        restrict(prison, actor=prison["security"], rationale="", necessity_and_proportionality="")
    messages = refused.value.messages
    assert "PF 4.4: Only a governor can restrict access to video calls." in messages
    assert "PF 4.4: Record why the restriction is necessary and proportionate." in messages
    assert len(messages) == 3


def test_a_limit_needs_a_limit(prison):
    with pytest.raises(services.SafeguardingRefused) as refused:
        restrict(prison, max_call_minutes=None)
    assert refused.value.problems[0].field == "kind"


def test_contact_ban_marks_the_link_and_lifting_clears_it(prison):
    contact = ContactFactory()
    ContactLinkFactory(resident=prison["resident"], contact=contact, status=LinkStatus.APPROVED)
    ban = services.contact_ban_create(
        resident=prison["resident"],
        contact=contact,
        reason="Threats.",
        review_on=date(2026, 11, 20),
        actor=prison["governor"],
        now=NOW,
    )
    assert ContactLink.objects.get(contact=contact).banned
    bans = booking_facts.resident_facts(prison["resident"]).contact_bans
    assert [b.contact_id for b in bans] == [str(contact.pk)]
    services.contact_ban_review(
        ban=ban, outcome=ReviewOutcome.LIFT, notes="Resolved.", actor=prison["governor"], now=NOW
    )
    assert not ContactLink.objects.get(contact=contact).banned


def test_banned_visitor_needs_recorded_authorisation(prison):
    contact = ContactFactory()
    services.visitor_ban_create(
        contact=contact,
        establishment=prison["place"],
        kind=VisitorBanKind.BANNED_VISITOR,
        reason="Smuggling at a visit.",
        until=date(2027, 1, 1),
        review_on=date(2026, 12, 1),
        actor=prison["governor"],
    )
    found = booking_facts.contact_facts([contact], resident=prison["resident"], terms_version="1")[0]
    assert found.banned_visitor
    assert found.banned_visitor_authorised_by is None
    services.banned_visitor_authorise(
        resident=prison["resident"], contact=contact, reason="Child's birthday.", actor=prison["governor"]
    )
    found = booking_facts.contact_facts([contact], resident=prison["resident"], terms_version="1")[0]
    assert found.banned_visitor_authorised_by == str(prison["governor"].pk)
    assert isinstance(found, policy.Contact)


def test_booking_ban_sets_and_clears_the_contact_date(prison):
    contact = ContactFactory()
    ban = services.visitor_ban_create(
        contact=contact,
        establishment=prison["place"],
        kind=VisitorBanKind.BOOKING,
        reason="Recorded a call.",
        until=date(2026, 12, 31),
        review_on=date(2026, 11, 30),
        actor=prison["governor"],
        now=NOW,
    )
    contact.refresh_from_db()
    assert contact.booking_banned_until == date(2026, 12, 31)
    services.visitor_ban_review(
        ban=ban, outcome=ReviewOutcome.LIFT, notes="Apologised.", actor=prison["governor"], now=NOW
    )
    contact.refresh_from_db()
    assert contact.booking_banned_until is None


def test_a_limit_on_calls_a_month_refuses_the_next_booking(prison):
    """PF 4.4: "limit the number of calls" is enforced when a call is requested, counting the call's month."""
    from kinship.bookings.errors import BookingRefused
    from kinship.bookings.services import booking_request
    from kinship.bookings.tests.conftest import make_party
    from kinship.bookings.tests.factories import SlotFactory

    place = prison["place"]
    place.allowance_pattern = "two_30"
    place.slot_lengths = [30]
    place.save()
    party = make_party(place, minutes=30)
    now = party.slot.starts_at - timedelta(days=3)
    restrict(
        prison,
        resident=party.resident,
        max_call_minutes=None,
        max_calls_per_month=1,
        review_on=(now + timedelta(days=28)).date(),
        now=now,
    )

    booking_request(
        slot=party.slot, resident=party.resident, lead_contact=party.contact, channel="contact", now=now
    )
    later = SlotFactory(
        establishment=place,
        room=party.slot.room,
        starts_at=party.slot.starts_at + timedelta(hours=2),
        minutes=30,
    )
    with pytest.raises(BookingRefused) as refused:
        booking_request(
            slot=later, resident=party.resident, lead_contact=party.contact, channel="contact", now=now
        )
    assert refused.value.codes == {"restriction.calls"}
