"""The one place that turns booking's models into policy facts (``kinship.policy.facts``).

Everything the engine reads about an establishment, a resident, contacts, a slot and the allowance is built
here, so a rule that misfires can be traced to one function. Times are aware datetimes; calendar questions
(the month that pays, the day a contact's age is counted on) use the establishment's timezone. ``now`` is
always passed in by the caller.

Restrictions (PF 4.4), contact bans (PF 4.10), suspensions (DSO 17, DSO 18) and banned visitors with their
authorisations (PF 4.12) come from ``kinship.safeguarding``.

The queries a booking decision runs every time (the ``_...`` ``PreparedQuery`` objects below) are compiled once
per database and then only run (``kinship.core.prepared``, ADR 6): each is the same queryset the ORM would
build, and the tests compare the two.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Sum

from kinship import policy
from kinship.accounts.models import TERMS_IN_FORCE, StaffRole, TermsAcceptance, TermsVersion, User
from kinship.core.prepared import PreparedQuery, many, statement_cursor
from kinship.establishments.models import Establishment
from kinship.people.models import (
    CompactOutcome,
    CompactRecord,
    Contact,
    ContactLink,
    ContactSource,
    LinkStatus,
    Resident,
    RiskAssessment,
    RiskAssessmentKind,
)
from kinship.policy.rules.safeguarding import SUSPENSION_THRESHOLD_DAYS, suspension_needs_authorisation
from kinship.policy.time import add_calendar_days
from kinship.policy.time import month_key as local_month_key
from kinship.safeguarding import models as safeguarding

from .models import (
    ACTIVE_STATUSES,
    AllowanceEntry,
    Booking,
    ExtraCallGrant,
    Funding,
    RequestChannel,
    SessionTemplate,
    Slot,
    SlotHold,
)

#: PF 4.13 large-family exception: the people app records only that the governor approved it, not a number;
#: the exception is for more than three children, so room for four children and two adults.
LARGE_FAMILY_LIMIT = 6

#: The languages that count as English in ``Resident.language`` (DSO 15: is the person's English enough?).
ENGLISH = frozenset({"english", "en"})


def timezone_of(establishment: Establishment) -> ZoneInfo:
    return ZoneInfo(establishment.timezone)


def month_key(moment: datetime, establishment: Establishment) -> str:
    """The local calendar month that pays for a call at ``moment`` (PF 4.1), as ``YYYY-MM``."""
    return local_month_key(moment, timezone_of(establishment))


_ID = models.UUIDField()


def current_terms_version(now: datetime | None = None) -> str:
    current = TermsVersion.current(now)
    # With no terms published nobody has accepted "the current version", so PF 4.15 refuses every contact.
    return current.version if current is not None else ""


def establishment_facts(
    establishment: Establishment, *, terms_version: str | None = None, now: datetime | None = None
) -> policy.Establishment:
    """The establishment with its settings and the terms in force at ``now`` (default: now), unless
    ``terms_version`` is given."""
    return policy.Establishment(
        id=str(establishment.pk),
        name=establishment.name,
        profile=policy.Profile(establishment.profile),
        type=policy.EstablishmentType(establishment.type),
        settings=establishment.policy_settings(),
        timezone=timezone_of(establishment),
        terms_version=current_terms_version(now) if terms_version is None else terms_version,
    )


def staff_facts(user: User, establishment: Establishment) -> policy.Staff:
    """The roles ``user`` holds at ``establishment``; the core role names are a subset of the engine's."""
    roles = StaffRole.objects.filter(user=user, establishment=establishment).values_list("role", flat=True)
    return policy.Staff(id=str(user.pk), roles=frozenset(policy.Role(role) for role in roles))


def _assessment(record: RiskAssessment | None) -> policy.RiskAssessment | None:
    if record is None:
        return None
    return policy.RiskAssessment(
        outcome=policy.RiskOutcome(record.outcome),
        assessed_by=str(record.assessed_by_id),
        assessed_at=record.assessed_at,
    )


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return min(present) if present else None


def restriction_fact(record: safeguarding.Restriction) -> policy.Restriction:
    return policy.Restriction(
        kind=policy.RestrictionKind(record.kind),
        ground=policy.Rule34Ground(record.ground),
        rationale=record.rationale,
        decided_by=str(record.decided_by_id),
        start=record.starts_at,
        review_on=record.review_on,
        end=_earliest(record.ends_at, record.lifted_at),
        max_participants=record.max_participants,
        max_call_minutes=record.max_call_minutes,
        max_calls_per_month=record.max_calls_per_month,
        dedicated_monitor=record.dedicated_monitor,
    )


def suspension_fact(
    record: safeguarding.Suspension, tz: ZoneInfo, *, reviewed: Sequence[datetime] | None = None
) -> policy.Suspension:
    """DSO 18: until the compliance manager authorises a suspension over 7 days, it ends at day 7.
    ``reviewed``: when its reviews took place, newest first (read from ``record.reviews`` when not given)."""
    end = _earliest(record.ends_at, record.lifted_at)
    if reviewed is None:
        reviewed = [review.reviewed_at for review in record.reviews.all()]
    draft = policy.Suspension(
        reason=policy.SuspensionReason(record.reason),
        decided_by=str(record.decided_by_id),
        start=record.starts_at,
        end=end,
        compliance_authorised_by=str(record.authorised_by_id) if record.authorised_by_id else None,
        reviews=tuple(moment for moment in reviewed if moment >= record.starts_at),
    )
    if draft.compliance_authorised_by is None and suspension_needs_authorisation(draft, tz):
        seventh_day = add_calendar_days(record.starts_at, SUSPENSION_THRESHOLD_DAYS, tz)
        return replace(draft, end=_earliest(end, seventh_day))
    return draft


_APPROVED_LINKS = PreparedQuery(
    lambda resident: ContactLink.objects.filter(resident_id=resident, status=LinkStatus.APPROVED).values(
        "contact_id", "banned", "child_contact_approved", "created_at", "status_changed_by_id", "source"
    ),
    resident=_ID,
)


def approved_links(resident: Resident) -> list[Mapping[str, Any]]:
    """The resident's approved contact links, as ``resident_facts`` and ``contact_facts`` read them: pass the
    same list to both and the links are read once per decision."""
    return _APPROVED_LINKS.fetch(resident=resident.pk)


#: The latest compact record, signed or refused, with what the fact needs of it.
_LATEST_COMPACT = PreparedQuery(
    lambda resident: (
        CompactRecord.objects.filter(resident_id=resident)
        .order_by("-recorded_at")
        .values_list(
            "outcome", "text__version", "language", "explained_by_id", "recorded_at", "interpreter_used"
        )[:1]
    ),
    resident=_ID,
)
#: Both kinds of assessment in one query, newest first: the first of each kind is its latest.
_ASSESSMENTS = PreparedQuery(
    lambda resident: RiskAssessment.objects.filter(
        resident_id=resident, kind__in=(RiskAssessmentKind.ELIGIBILITY, RiskAssessmentKind.INDIVIDUAL)
    ).order_by("-assessed_at"),
    resident=_ID,
)
_CONTACT_BANS = PreparedQuery(
    lambda resident: safeguarding.ContactBan.objects.filter(resident_id=resident), resident=_ID
)
_RESTRICTIONS = PreparedQuery(
    lambda resident: safeguarding.Restriction.objects.filter(resident_id=resident), resident=_ID
)
_SUSPENSIONS = PreparedQuery(
    lambda resident: safeguarding.Suspension.objects.filter(resident_id=resident), resident=_ID
)
#: When each of some suspensions was reviewed, newest first (``Suspension.reviews``' order).
_SUSPENSION_REVIEWS = PreparedQuery(
    lambda suspensions: safeguarding.DecisionReview.objects.filter(
        suspension__id__in=suspensions
    ).values_list("suspension_id", "reviewed_at"),
    suspensions=many(_ID),
)


def _suspensions(resident: Resident, tz: ZoneInfo) -> tuple[policy.Suspension, ...]:
    records = _SUSPENSIONS.fetch(resident=resident.pk)
    reviewed: dict[object, list[datetime]] = {record.pk: [] for record in records}
    for suspension_id, moment in _SUSPENSION_REVIEWS.fetch(suspensions=list(reviewed)):
        reviewed[suspension_id].append(moment)
    return tuple(suspension_fact(record, tz, reviewed=reviewed[record.pk]) for record in records)


def resident_facts(resident: Resident, *, links: list[Mapping[str, Any]] | None = None) -> policy.Resident:
    """The resident with their latest compact (signed or refused), latest assessments, flags and contact lists
    (``links``: ``approved_links(resident)``, read here when not given)."""
    latest_compact = _LATEST_COMPACT.first(resident=resident.pk)
    compact_outcome = latest_compact[0] if latest_compact is not None else None
    compact = None
    if latest_compact is not None and compact_outcome == CompactOutcome.SIGNED:
        _outcome, version, compact_language, explained_by, recorded_at, interpreter_used = latest_compact
        compact = policy.CompactRecord(
            version=version,
            language=compact_language,
            explained_by=str(explained_by),
            explained_at=recorded_at,
            # A SIGNED record is the record that it was explained, read and signed (people.CompactOutcome).
            read=True,
            signed=True,
            interpreter_used=interpreter_used,
        )
    latest: dict[str, RiskAssessment] = {}
    for record in _ASSESSMENTS.fetch(resident=resident.pk):
        latest.setdefault(record.kind, record)
    eligibility = latest.get(RiskAssessmentKind.ELIGIBILITY)
    individual = latest.get(RiskAssessmentKind.INDIVIDUAL)
    if links is None:
        links = approved_links(resident)
    language = resident.language.strip()
    bans: list[safeguarding.ContactBan] = _CONTACT_BANS.fetch(resident=resident.pk)
    recorded_ban_contacts = {ban.contact_id for ban in bans}
    tz = ZoneInfo(resident.establishment.timezone)
    return policy.Resident(
        id=str(resident.pk),
        compact=compact,
        compact_refused=compact_outcome == CompactOutcome.REFUSED,
        english_sufficient=language.lower() in ENGLISH,
        languages=frozenset({language}),
        eligibility_assessment=_assessment(eligibility),
        harassment_controls=(
            frozenset({policy.HarassmentControl.OTHER_HARASSMENT_CONTROL})
            if resident.harassment_measures
            else frozenset()
        ),
        individual_risk_assessment=_assessment(individual),
        restrictions=tuple(restriction_fact(record) for record in _RESTRICTIONS.fetch(resident=resident.pk)),
        contact_bans=tuple(
            policy.ContactBan(
                contact_id=str(ban.contact_id),
                decided_by=str(ban.decided_by_id),
                start=ban.starts_at,
                review_on=ban.review_on,
                end=_earliest(ban.ends_at, ban.lifted_at),
            )
            for ban in bans
        )
        + tuple(
            # A link marked banned without a safeguarding record (set by the people team): in force since the
            # link was made (PF 4.10).
            policy.ContactBan(
                contact_id=str(link["contact_id"]),
                decided_by=str(link["status_changed_by_id"] or ""),
                start=link["created_at"],
                review_on=link["created_at"].date(),
            )
            for link in links
            if link["banned"] and link["contact_id"] not in recorded_ban_contacts
        ),
        suspensions=_suspensions(resident, tz),
        support_needs=frozenset(policy.SupportNeed(need) for need in resident.support_needs or ()),
        e_list=resident.e_list,
        pprc=resident.pprc,
        approved_child_contacts=frozenset(
            str(link["contact_id"]) for link in links if link["child_contact_approved"]
        ),
        large_family_limit=LARGE_FAMILY_LIMIT if resident.large_family_exception else None,
        imminent_removal_directions=resident.imminent_removal_directions,
    )


_VISITOR_BANS = PreparedQuery(
    lambda contacts, establishment, now, today: safeguarding.VisitorBan.objects.filter(
        contact__id__in=contacts,
        establishment_id=establishment,
        kind=safeguarding.VisitorBanKind.BANNED_VISITOR,
        starts_at__lte=now,
        until__gte=today,
        lifted_at__isnull=True,
    ).values_list("pk", "contact_id"),
    contacts=many(_ID),
    establishment=_ID,
    now=models.DateTimeField(),
    today=models.DateField(),
)
#: Who last authorised a call between one banned visitor and one resident under one ban.
_VISITOR_AUTHORISED_BY = PreparedQuery(
    lambda ban, resident: (
        safeguarding.BannedVisitorAuthorisation.objects.filter(ban_id=ban, resident_id=resident)
        .order_by("-authorised_at")
        .values_list("authorised_by_id")[:1]
    ),
    ban=_ID,
    resident=_ID,
)


def _visitor_ban_values(contact_ids: Sequence[Any], resident: Resident, now: datetime) -> dict[str, Any]:
    today = now.astimezone(ZoneInfo(resident.establishment.timezone)).date()
    return {
        "contacts": list(contact_ids),
        "establishment": resident.establishment_id,
        "now": now,
        "today": today,
    }


def banned_visitors(
    contact_ids: Sequence[Any], *, resident: Resident, now: datetime | None = None
) -> dict[object, str | None]:
    """PF 4.12: the contacts who are banned visitors at the resident's establishment today, each with the id of
    the manager who authorised a call with this resident since the ban began (or ``None``)."""
    from django.utils import timezone

    bans = _VISITOR_BANS.fetch(**_visitor_ban_values(contact_ids, resident, now or timezone.now()))
    found: dict[object, str | None] = {}
    for ban_id, contact_id in bans:
        authorisation = _VISITOR_AUTHORISED_BY.first(ban=ban_id, resident=resident.pk)
        authorised = str(authorisation[0]) if authorisation is not None else None
        found[contact_id] = found.get(contact_id) or authorised
    return found


#: The versions of the terms some users accepted (PF 4.15), read without knowing which version is in force so
#: that a decision can read it with the rest (``decision_reads``).
_TERMS_ACCEPTED = PreparedQuery(
    lambda users: TermsAcceptance.objects.filter(user__id__in=users).values_list("user_id", "terms__version"),
    users=many(models.BigIntegerField()),
)


def _users(contacts: Sequence[Contact]) -> list[int]:
    return [contact.user_id for contact in contacts if contact.user_id]


def contact_facts(
    contacts: Sequence[Contact],
    *,
    resident: Resident,
    terms_version: str,
    links: list[Mapping[str, Any]] | None = None,
    now: datetime | None = None,
) -> tuple[policy.Contact, ...]:
    """Contacts in the order given, with the approved list they are on for this resident (PF 4.12), whether
    they are a banned visitor and who authorised the call (PF 4.12), and whether they accepted the current
    terms (PF 4.15). ``links``: ``approved_links(resident)``, read here when not given; ``now``: when the
    bans are judged (default: now)."""
    ids = [contact.pk for contact in contacts]
    banned = banned_visitors(ids, resident=resident, now=now)
    sources: dict[object, set[str]] = {}
    if links is None:
        links = approved_links(resident)
    wanted = set(ids)
    for link in links:
        if link["contact_id"] in wanted:
            sources.setdefault(link["contact_id"], set()).add(link["source"])
    accepted = {
        user_id
        for user_id, version in _TERMS_ACCEPTED.fetch(users=_users(contacts))
        if version == terms_version
    }
    return tuple(
        policy.Contact(
            id=str(contact.pk),
            name=contact.full_name,
            date_of_birth=contact.date_of_birth,
            on_phone_list=ContactSource.PHONE_LIST in sources.get(contact.pk, set()),
            on_visits_list=ContactSource.VISITS_LIST in sources.get(contact.pk, set()),
            banned_visitor=contact.pk in banned,
            banned_visitor_authorised_by=banned.get(contact.pk),
            terms_version_accepted=terms_version if contact.user_id in accepted else None,
        )
        for contact in contacts
    )


@dataclass(frozen=True, slots=True)
class SlotUse:
    """How full a slot is at ``now``: active bookings (and how many are E-list calls) and live holds."""

    capacity: int
    bookings: int
    e_list_bookings: int
    holds: int

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.bookings - self.holds)


def _use_sql(connection: BaseDatabaseWrapper) -> str:
    """Places used in one slot, in one plain statement built from the models' table and column names (quoted;
    every value is a parameter). The ORM spent about 3 ms of CPU compiling the same three correlated counts, on
    every booking request of a rush."""
    booking, resident, hold = Booking._meta, Resident._meta, SlotHold._meta
    statuses = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    quote = connection.ops.quote_name

    def column(meta: Any, field: str) -> str:
        return quote(meta.get_field(field).column)

    b_slot, b_status, b_resident = (column(booking, name) for name in ("slot", "status", "resident"))
    b_table, r_table, h_table = (quote(meta.db_table) for meta in (booking, resident, hold))
    r_pk, h_pk = column(resident, "id"), column(hold, "id")
    # Identifiers from the models' metadata, quoted; every value is a parameter.
    return (
        f"SELECT (SELECT COUNT(*) FROM {b_table} b"  # noqa: S608
        f" WHERE b.{b_slot} = %s AND b.{b_status} IN ({statuses})),"
        f" (SELECT COUNT(*) FROM {b_table} b JOIN {r_table} r ON r.{r_pk} ="
        f" b.{b_resident} WHERE b.{b_slot} = %s AND b.{b_status} IN ({statuses})"
        f" AND r.{column(resident, 'e_list')} = %s),"
        f" (SELECT COUNT(*) FROM {h_table} h WHERE h.{column(hold, 'slot')} = %s"
        f" AND h.{column(hold, 'released_at')} IS NULL AND h.{column(hold, 'converted_at')} IS NULL"
        f" AND h.{column(hold, 'expires_at')} > %s AND h.{h_pk} <> %s)"
    )


_USE_SQL: dict[str, str] = {}


def _counts(slot: Slot, *, now: datetime, exclude_hold: SlotHold | None, count_holds: bool) -> SlotUse:
    connection = connections[Slot.objects.db]
    sql = _USE_SQL.get(connection.vendor) or _USE_SQL.setdefault(connection.vendor, _use_sql(connection))
    slot_id = Slot._meta.get_field("id").get_db_prep_value(slot.pk, connection)
    # A hold id no hold has: the statement keeps one shape whether or not the caller's own hold is left out.
    hold_id = SlotHold._meta.get_field("id").get_db_prep_value(
        exclude_hold.pk if exclude_hold is not None else uuid.UUID(int=0), connection
    )
    statuses = list(ACTIVE_STATUSES)
    params = [
        slot_id,
        *statuses,
        slot_id,
        *statuses,
        True,
        slot_id,
        connection.ops.adapt_datetimefield_value(now),
        hold_id,
    ]
    with statement_cursor(connection) as cursor:
        cursor.execute(sql, params)
        bookings, e_list, holds = cursor.fetchone()
    return SlotUse(
        capacity=slot.capacity,
        bookings=bookings,
        e_list_bookings=e_list,
        holds=holds if count_holds else 0,
    )


def slot_use(
    slot: Slot, *, now: datetime, exclude_hold: SlotHold | None = None, count_holds: bool = True
) -> SlotUse:
    """Active bookings and live holds of ``slot``, counted in one statement. Call with the slot row already
    locked (``select_for_update``, in an earlier statement) when the answer decides a write: PostgreSQL
    evaluates a statement's subqueries on the snapshot it took before waiting for a row lock, so counting in the
    locking statement itself could miss the booking the lock holder just committed."""
    return _counts(slot, now=now, exclude_hold=exclude_hold, count_holds=count_holds)


def slot_facts(slot: Slot, use: SlotUse) -> policy.Slot:
    return policy.Slot(
        start=slot.starts_at,
        end=slot.ends_at,
        room=policy.Room(id=str(slot.room_id), accessible=slot.room.accessible),
        supports=frozenset(policy.SupportNeed(need) for need in slot.supports or ()),
        supervising_officers=slot.supervising_officers,
        monitoring_officers=slot.monitoring_officers,
        calls_booked=use.bookings - use.e_list_bookings,
        e_list_calls_booked=use.e_list_bookings,
    )


_LEDGER_BY_BOOKING = PreparedQuery(
    lambda resident, month: (
        AllowanceEntry.objects.filter(resident_id=resident, month=month)
        .values("booking_id")
        .annotate(net=Sum("minutes"))
        .order_by("booking_id")
    ),
    resident=_ID,
    month=models.CharField(),
)
_GRANTS_UNUSED = PreparedQuery(
    lambda resident, month: ExtraCallGrant.objects.filter(
        resident_id=resident, month=month, booking__isnull=True
    ).values_list("pk"),
    resident=_ID,
    month=models.CharField(),
)


def allowance_usage(resident: Resident, month: str) -> policy.AllowanceUsage:
    """The month's charges as the engine counts them: one per booking whose ledger rows still sum to a debit.

    Summed from the ledger every time (PF 4.1): a refund is a credit row, never an edit."""
    rows = _LEDGER_BY_BOOKING.fetch(resident=resident.pk, month=month)
    return policy.AllowanceUsage(
        charges=tuple(
            policy.Charge(booking_id=str(row["booking_id"]), minutes=-row["net"])
            for row in rows
            if row["net"] < 0
        )
    )


def grants_available(resident: Resident, month: str) -> int:
    """Extra-call grants for ``month`` not funding a booking (PF 4.3)."""
    return len(_GRANTS_UNUSED.fetch(resident=resident.pk, month=month))


def decision_reads(
    resident: Resident, contacts: Sequence[Contact], *, month: str, now: datetime
) -> list[tuple[PreparedQuery, dict[str, Any]]]:
    """The reads of one booking decision about ``resident`` and ``contacts`` at ``now``, paid from ``month``,
    with the values the functions above read them with, for ``kinship.core.prepared.read_ahead`` to run in
    one round trip: the terms in force, the approved links, the latest compact, the assessments, the contact
    bans, the restrictions, the suspensions, the banned visitors, the terms accepted, the month's ledger and the
    unused grants. Two reads depend on what these find, and are made after, only when needed: a suspension's
    reviews, and who authorised a banned visitor's call."""
    person = {"resident": resident.pk}
    paid = {"resident": resident.pk, "month": month}
    return [
        (TERMS_IN_FORCE, {"now": now}),
        (_APPROVED_LINKS, person),
        (_LATEST_COMPACT, person),
        (_ASSESSMENTS, person),
        (_CONTACT_BANS, person),
        (_RESTRICTIONS, person),
        (_SUSPENSIONS, person),
        (_VISITOR_BANS, _visitor_ban_values([contact.pk for contact in contacts], resident, now)),
        (_TERMS_ACCEPTED, {"users": _users(contacts)}),
        (_LEDGER_BY_BOOKING, paid),
        (_GRANTS_UNUSED, paid),
    ]


def requester(channel: str) -> policy.Requester:
    """PF 4.6 knows two requesters; staff booking on a person's behalf put in that person's request."""
    return policy.Requester.CONTACT if channel == RequestChannel.CONTACT else policy.Requester.RESIDENT


def booking_facts(
    *,
    establishment: policy.Establishment,
    resident: policy.Resident,
    slot: policy.Slot,
    contacts: Sequence[policy.Contact],
    kind: str,
    channel: str,
    now: datetime,
    usage: policy.AllowanceUsage,
    funding: policy.Funding,
    extra_grants_available: int,
) -> policy.BookingFacts:
    lead, *others = contacts
    return policy.BookingFacts(
        establishment=establishment,
        resident=resident,
        now=now,
        call_kind=policy.CallKind(kind),
        slot=slot,
        main_contact=lead,
        additional_contacts=tuple(others),
        requested_by=requester(channel),
        usage=usage,
        funding=funding,
        extra_grants_available=extra_grants_available,
    )


def booking_decision(
    *,
    establishment: Establishment,
    resident: Resident,
    slot: Slot,
    use: SlotUse,
    contacts: Sequence[Contact],
    kind: str,
    channel: str,
    funding: str,
    now: datetime,
    month: str,
    usage: policy.AllowanceUsage | None = None,
    ignore_booking: Booking | None = None,
) -> policy.Decision:
    """The engine's decision on booking ``slot`` (places used: ``use``) for ``resident`` with ``contacts`` at
    ``now``, paid (``funding``, a booking's ``Funding``) from ``month``, on facts read here: inside
    ``read_ahead(decision_reads(...))`` they are read in one round trip. ``usage``: the month's allowance usage,
    when the caller has read it already. ``ignore_booking``: a request being decided again, whose own charge and
    grant are not someone else's (its place is the caller's to leave out of ``use``)."""
    if usage is None:
        usage = allowance_usage(resident, month)
    grants = grants_available(resident, month)
    if ignore_booking is not None:
        usage = policy.AllowanceUsage(
            charges=tuple(item for item in usage.charges if item.booking_id != str(ignore_booking.pk))
        )
        grants += 1 if ignore_booking.extra_grant_id else 0
    place = establishment_facts(establishment, now=now)
    links = approved_links(resident)
    return policy.booking_allowed(
        booking_facts(
            establishment=place,
            resident=resident_facts(resident, links=links),
            slot=slot_facts(slot, use),
            contacts=contact_facts(
                contacts, resident=resident, terms_version=place.terms_version, links=links, now=now
            ),
            kind=kind,
            channel=channel,
            now=now,
            usage=usage,
            funding=policy.Funding.EXTRA_GRANT
            if funding == Funding.EXTRA_GRANT
            else policy.Funding.ALLOWANCE,
            extra_grants_available=grants,
        )
    )


def sessions(templates: Iterable[SessionTemplate]) -> tuple[policy.Session, ...]:
    return tuple(policy.Session(weekday=t.weekday, start=t.start, end=t.end) for t in templates)


def schedule_facts(
    establishment: Establishment, templates: Iterable[SessionTemplate]
) -> policy.ScheduleFacts:
    return policy.ScheduleFacts(profile=policy.Profile(establishment.profile), sessions=sessions(templates))
