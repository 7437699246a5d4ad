"""Publishing schedules (DSO 7, DSO Annex A, PF 4.2) and generating slots from them (PF 4.7, DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kinship.bookings.errors import BookingRefused
from kinship.bookings.models import ClosedDate, SessionTemplate, Slot
from kinship.bookings.services import schedule_publish, slots_generate
from kinship.establishments.models import Establishment, Room
from kinship.factories import RoomFactory

from .factories import SessionTemplateFactory, StaffRosterFactory, terminals_in

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def every_day(establishment: Establishment, start: time, end: time, minutes: int = 60) -> Room:
    room = RoomFactory(establishment=establishment)
    for weekday in range(7):
        SessionTemplateFactory(
            establishment=establishment,
            room=room,
            weekday=weekday,
            start=start,
            end=end,
            slot_minutes=minutes,
        )
    return room


def test_an_irc_day_under_seven_hours_cannot_be_published(irc: Establishment, now: datetime) -> None:
    every_day(irc, time(9), time(17))
    SessionTemplate.objects.filter(weekday=2).update(end=time(15))
    with pytest.raises(BookingRefused) as refused:
        schedule_publish(establishment=irc, actor=None, now=now)
    assert refused.value.rule_ids == {"DSO 7"}
    assert "Wednesday" in refused.value.messages[0]
    assert not SessionTemplate.objects.filter(published_at__isnull=False).exists()


def test_irc_slots_must_last_30_to_60_minutes(irc: Establishment, now: datetime) -> None:
    every_day(irc, time(9), time(17), minutes=20)
    with pytest.raises(BookingRefused) as refused:
        schedule_publish(establishment=irc, actor=None, now=now)
    assert refused.value.rule_ids == {"DSO Annex A"}
    assert len(refused.value.problems) == 7


def test_a_good_irc_schedule_is_published(irc: Establishment, now: datetime) -> None:
    every_day(irc, time(9), time(17))
    decision = schedule_publish(establishment=irc, actor=None, now=now)
    assert decision.allowed
    assert SessionTemplate.objects.filter(published_at=now).count() == 7


def test_a_prison_schedule_without_evenings_or_weekends_is_warned(
    prison: Establishment, now: datetime
) -> None:
    SessionTemplateFactory(establishment=prison, weekday=0, start=time(9), end=time(12))
    decision = schedule_publish(establishment=prison, actor=None, now=now)
    assert decision.allowed
    assert {reason.code for reason in decision.warnings} == {"schedule.no_evenings", "schedule.no_weekends"}
    assert all(reason.rule_id == "PF 4.2" for reason in decision.warnings)


def test_a_prison_schedule_with_evenings_and_weekends_has_no_warning(
    prison: Establishment, now: datetime
) -> None:
    SessionTemplateFactory(establishment=prison, weekday=5, start=time(18), end=time(20))
    assert schedule_publish(establishment=prison, actor=None, now=now).warnings == ()


def test_an_empty_schedule_is_not_published(prison: Establishment, now: datetime) -> None:
    with pytest.raises(BookingRefused) as refused:
        schedule_publish(establishment=prison, actor=None, now=now)
    assert "schedule.empty" in refused.value.codes


def published(establishment: Establishment, **fields: object) -> SessionTemplate:
    template = SessionTemplateFactory(establishment=establishment, **fields)
    schedule_publish(establishment=establishment, actor=None, now=datetime(2027, 1, 1, tzinfo=UTC))
    template.refresh_from_db()
    return template


def test_slots_are_generated_idempotently_with_capacity(prison: Establishment) -> None:
    # Monday 1 March 2027, 09:00 to 12:00 in hour slots; three terminals; one supervisor, one monitor (4 calls).
    template = published(prison, weekday=0, start=time(9), end=time(12), slot_minutes=60)
    terminals_in(template.room, 3)
    StaffRosterFactory(
        establishment=prison, room=template.room, date=date(2027, 3, 1), start=time(9), end=time(11)
    )
    result = slots_generate(establishment=prison, start=date(2027, 3, 1), days=7)
    assert (result.created, result.updated) == (3, 0)
    slots = list(Slot.objects.order_by("starts_at"))
    assert [slot.starts_at.astimezone(LONDON).time() for slot in slots] == [time(9), time(10), time(11)]
    # The roster covers 09:00 to 11:00 only: the 11:00 slot has no staff and no capacity (PF 4.7).
    assert [slot.capacity for slot in slots] == [3, 3, 0]
    assert slots_generate(establishment=prison, start=date(2027, 3, 1), days=7) == type(result)(
        created=0, updated=0
    )

    # Two more terminals but monitoring for four calls only (PF 4.7 calls per monitoring officer).
    terminals_in(template.room, 2)
    again = slots_generate(establishment=prison, start=date(2027, 3, 1), days=7)
    assert (again.created, again.updated) == (0, 2)
    assert [slot.capacity for slot in Slot.objects.order_by("starts_at")] == [4, 4, 0]


def test_irc_capacity_is_not_limited_by_monitoring(irc: Establishment, now: datetime) -> None:
    room = every_day(irc, time(9), time(17))
    schedule_publish(establishment=irc, actor=None, now=now)
    terminals_in(room, 6)
    StaffRosterFactory(establishment=irc, room=room, date=date(2027, 3, 1), monitoring_officers=0)
    slots_generate(establishment=irc, start=date(2027, 3, 1), days=1)
    assert [slot.capacity for slot in Slot.objects.all()] == [6] * 8


def test_closed_dates_and_unpublished_sessions_get_no_slots(prison: Establishment) -> None:
    template = published(prison, weekday=0, start=time(9), end=time(10))
    SessionTemplateFactory(establishment=prison, room=template.room, weekday=1, start=time(9), end=time(10))
    ClosedDate.objects.create(establishment=prison, date=date(2027, 3, 1), reason="Bank holiday")
    result = slots_generate(establishment=prison, start=date(2027, 3, 1), days=14)
    assert result.created == 1
    assert Slot.objects.get().starts_at.date() == date(2027, 3, 8)


def test_slots_keep_their_local_time_across_the_autumn_clock_change(prison: Establishment) -> None:
    # The clocks go back at 02:00 on Sunday 31 October 2027 (the last Sunday of October).
    published(prison, weekday=6, start=time(10), end=time(11), slot_minutes=60)
    slots_generate(establishment=prison, start=date(2027, 10, 24), days=15)
    slots = list(Slot.objects.order_by("starts_at"))
    assert [slot.starts_at for slot in slots] == [
        datetime(2027, 10, 24, 9, 0, tzinfo=UTC),  # 10:00 BST
        datetime(2027, 10, 31, 10, 0, tzinfo=UTC),  # 10:00 GMT
        datetime(2027, 11, 7, 10, 0, tzinfo=UTC),
    ]
    assert {slot.starts_at.astimezone(LONDON).time() for slot in slots} == {time(10)}
    assert all(slot.ends_at - slot.starts_at == timedelta(hours=1) for slot in slots)


def test_a_slot_in_the_spring_gap_is_skipped(prison: Establishment) -> None:
    # 01:00 to 02:00 on Sunday 28 March 2027 does not exist in London.
    published(prison, weekday=6, start=time(0, 30), end=time(2, 30), slot_minutes=30)
    slots_generate(establishment=prison, start=date(2027, 3, 28), days=1)
    local = [slot.starts_at.astimezone(LONDON).time() for slot in Slot.objects.order_by("starts_at")]
    assert local == [time(0, 30), time(2, 0)]
