"""Reads for bookings: querysets with what their pages need already joined, so a list costs the same number
of queries however long it grows. Balances are sums of the ledger, computed here, never stored."""

from __future__ import annotations

from datetime import datetime

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from kinship import policy
from kinship.establishments.models import Establishment
from kinship.people.models import Resident
from kinship.policy.time import month_bounds as local_month_bounds

from .facts import allowance_usage, timezone_of
from .models import (
    ACTIVE_STATUSES,
    CHANNEL_FIELDS,
    AllowanceEntry,
    Booking,
    BookingParticipant,
    BookingReview,
    BookingSettings,
    BookingStatus,
    ExtraCallGrant,
    RequestChannel,
    Slot,
    SlotHold,
)


def booking_settings_for(establishment: Establishment) -> BookingSettings:
    """The establishment's booking settings, or the defaults (unsaved) when it has none."""
    found = BookingSettings.objects.filter(establishment=establishment).first()
    return found or BookingSettings(establishment=establishment)


def _count(queryset: QuerySet[Booking] | QuerySet[SlotHold]) -> Subquery:
    # Separate subqueries, not Count() over two joins, which would multiply bookings by holds.
    return Subquery(
        queryset.order_by().values("slot_id").annotate(n=Count("pk")).values("n")[:1],
        output_field=IntegerField(),
    )


def slots_with_use(queryset: QuerySet[Slot], *, now: datetime) -> QuerySet[Slot]:
    """``booked`` (active bookings), ``held`` (live holds) and ``places_left`` on every slot."""
    booked = _count(Booking.objects.filter(slot=OuterRef("pk"), status__in=ACTIVE_STATUSES))
    held = _count(
        SlotHold.objects.filter(
            slot=OuterRef("pk"), released_at__isnull=True, converted_at__isnull=True, expires_at__gt=now
        )
    )
    return queryset.annotate(booked=Coalesce(booked, Value(0)), held=Coalesce(held, Value(0))).annotate(
        places_left=F("capacity") - F("booked") - F("held")
    )


def slots_available(
    *, establishment: Establishment, start: datetime, end: datetime, now: datetime, channel: str | None = None
) -> QuerySet[Slot]:
    """Slots starting in [start, end) and after ``now`` with a place left, optionally open to ``channel``."""
    slots = Slot.objects.filter(
        establishment=establishment, starts_at__gte=max(start, now), starts_at__lt=end
    ).select_related("room")
    if channel is not None:
        slots = slots.filter(**{CHANNEL_FIELDS[RequestChannel(channel)]: True})
    with_use = slots_with_use(slots, now=now)
    # The plugin cannot follow annotations made in another function.
    return with_use.filter(places_left__gt=0).order_by("starts_at", "room__name")  # type: ignore[misc]


def _with_people(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    return bookings.select_related("slot__room", "resident", "lead_contact").prefetch_related(
        Prefetch("participant_links", queryset=BookingParticipant.objects.select_related("contact"))
    )


def bookings_for_establishment(
    *, establishment: Establishment, start: datetime, end: datetime
) -> QuerySet[Booking]:
    """Every booking in slots starting in [start, end): the daily and weekly views."""
    return _with_people(
        Booking.objects.filter(
            slot__establishment=establishment, slot__starts_at__gte=start, slot__starts_at__lt=end
        )
    ).order_by("slot__starts_at", "slot__room__name", "reference")


def booking_requests_pending(*, establishment: Establishment) -> QuerySet[Booking]:
    """The request queue: oldest first, legal calls are among them (their priority shows on the booking)."""
    return _with_people(
        Booking.objects.filter(slot__establishment=establishment, status=BookingStatus.REQUESTED)
    ).order_by("requested_at")


def bookings_for_resident(*, resident: Resident, upcoming_after: datetime | None = None) -> QuerySet[Booking]:
    bookings = Booking.objects.filter(resident=resident)
    if upcoming_after is not None:
        bookings = bookings.filter(slot__starts_at__gte=upcoming_after, status__in=ACTIVE_STATUSES)
    return _with_people(bookings).order_by("slot__starts_at")


def booking_by_reference(reference: str) -> Booking | None:
    return _with_people(Booking.objects.filter(reference=reference)).first()


def reviews_open(*, establishment: Establishment) -> QuerySet[BookingReview]:
    """PF 4.8: calls that did not take place, waiting to be rebooked or closed."""
    return (
        BookingReview.objects.filter(booking__slot__establishment=establishment, closed_at__isnull=True)
        .select_related("booking__slot__room", "booking__resident", "booking__lead_contact")
        .order_by("opened_at")
    )


def allowance_entries(*, resident: Resident, month: str) -> QuerySet[AllowanceEntry]:
    return (
        AllowanceEntry.objects.filter(resident=resident, month=month)
        .select_related("booking", "created_by")
        .order_by("created_at")
    )


def allowance_minutes_used(*, resident: Resident, month: str) -> int:
    """Minutes charged in ``month``: minus the sum of the month's ledger rows (PF 4.1)."""
    total = AllowanceEntry.objects.filter(resident=resident, month=month).aggregate(total=Sum("minutes"))[
        "total"
    ]
    return -(total or 0)


def allowance_left_for(*, resident: Resident, month: str) -> policy.AllowanceLeft | None:
    """Minutes and calls left in ``month`` under the establishment's pattern; ``None`` where there is no
    allowance (immigration detention, DSO 3)."""
    pattern = resident.establishment.policy_settings().allowance_pattern
    if pattern is None:
        return None
    return policy.allowance_left(pattern, allowance_usage(resident, month))


def extra_call_grants(*, resident: Resident, month: str | None = None) -> QuerySet[ExtraCallGrant]:
    grants = ExtraCallGrant.objects.filter(resident=resident)
    if month is not None:
        grants = grants.filter(month=month)
    return grants.select_related("approved_by").order_by("-granted_at")


def places_left_in_month(
    *, establishment: Establishment, month_start: datetime, month_end: datetime, now: datetime
) -> int:
    """Places still bookable in the rest of a month (PF 4.3's capacity check)."""
    slots = Slot.objects.filter(
        establishment=establishment, starts_at__gte=max(month_start, now), starts_at__lt=month_end
    )
    rows = slots_with_use(slots, now=now).values_list("places_left", flat=True)  # type: ignore[misc]
    return sum(max(0, left) for left in rows)


def residents_without_call(
    *, establishment: Establishment, month_start: datetime, month_end: datetime
) -> int:
    """People in custody here with no call booked or had in the month (PF 4.3)."""
    had_call = Booking.objects.filter(
        resident=OuterRef("pk"),
        slot__starts_at__gte=month_start,
        slot__starts_at__lt=month_end,
        status__in=(*ACTIVE_STATUSES, BookingStatus.COMPLETED),
    )
    return (
        Resident.objects.filter(establishment=establishment, released_at__isnull=True)
        .exclude(Exists(had_call))
        .count()
    )


def month_bounds(establishment: Establishment, month: str) -> tuple[datetime, datetime]:
    """[start, end) of a ``YYYY-MM`` month on the establishment's wall clock."""
    year, number = (int(part) for part in month.split("-"))
    tz = timezone_of(establishment)
    return local_month_bounds(datetime(year, number, 1, 12, tzinfo=tz), tz)
