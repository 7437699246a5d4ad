"""Deadlines that cannot be missed quietly: a registry of deadline sources, the dashboard's list, and the
background pass that reminds staff before a deadline and escalates an overdue one to the next role up.

A **source** is a function ``(establishment, now, until) -> Iterable[Due]`` registered with
``@deadline_source(...)``, naming the rule it serves, the role responsible for it and the roles that see it on the
dashboard. Another part of the app plugs in its deadlines with one decorated function::

    @deadline_source(key="appeal_decision", label="Appeal decision", policy_id="DSO 18",
                     responsible=Role.GOVERNOR, visible_to=frozenset({Role.GOVERNOR, Role.COMPLIANCE_MANAGER}))
    def appeal_decisions(establishment, now, until):
        for appeal in appeals_awaiting_decision(establishment=establishment):
            yield Due(item_id=str(appeal.pk), whose=str(appeal.resident), due_at=appeal.due_at, url=...)

Role mapping (who sees which kind; the responsible role gets the reminders):

=========================  ==========================  =============================================
kind                        responsible                 seen by
=========================  ==========================  =============================================
cancellation review PF 4.8  booking clerk               booking clerk, governor, compliance manager
wellbeing follow-up         governor                    governor, security, compliance manager
incident awaiting triage    security                    security, governor, compliance manager
risk assessment review      security                    security, governor, compliance manager
=========================  ==========================  =============================================

Escalation, once an item is overdue, goes one role up (``next_role_up``): booking clerk and security to the
governor; the governor to the compliance manager in immigration detention, and (having nobody above them in a
prison) to the governors again as an overdue notice. Each reminder and escalation is sent once per item, level
and due time (``DeadlineNotice``), and audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from kinship.audit.services import audit_record
from kinship.bookings import selectors as booking_selectors
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.people.models import RiskAssessment
from kinship.policy import Profile
from kinship.policy.time import utc

from . import services_welfare
from .models import DeadlineNotice, DeadlineNoticeLevel, IncidentStatus

logger = logging.getLogger(__name__)

#: The dashboard shows what is overdue and what falls due within this window.
DASHBOARD_HORIZON = timedelta(days=14)
#: Reminders go out this long before the deadline, once each (elapsed time).
REMINDERS: tuple[tuple[str, timedelta], ...] = (
    (DeadlineNoticeLevel.REMINDER_2H, timedelta(hours=2)),
    (DeadlineNoticeLevel.REMINDER_24H, timedelta(hours=24)),
)
#: Interpretation (PF 4.8 sets no number): a call that did not take place is reviewed within 48 hours.
CANCELLATION_REVIEW_HOURS = 48

DASHBOARD_ROLES = frozenset({Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER, Role.BOOKING_CLERK})


@dataclass(frozen=True, slots=True)
class Due:
    """What a source yields: one item with a deadline."""

    item_id: str
    whose: str
    due_at: datetime
    url: str
    what: str = ""


type SourceFunction = Callable[[Establishment, datetime, datetime], Iterable[Due]]


@dataclass(frozen=True, slots=True)
class DeadlineSource:
    key: str
    label: str
    policy_id: str
    responsible: Role
    visible_to: frozenset[Role]
    function: SourceFunction = field(repr=False)

    def items(self, establishment: Establishment, now: datetime, until: datetime) -> list[DueItem]:
        return [
            DueItem(source=self, due=due)
            for due in self.function(establishment, now, until)
            if utc(due.due_at) <= utc(until)
        ]


@dataclass(frozen=True, slots=True)
class DueItem:
    source: DeadlineSource
    due: Due

    @property
    def due_at(self) -> datetime:
        return self.due.due_at

    @property
    def what(self) -> str:
        return self.due.what or self.source.label

    def seconds_left(self, now: datetime) -> float:
        return (utc(self.due.due_at) - utc(now)).total_seconds()

    def hours_left(self, now: datetime) -> int:
        """Whole hours left (negative: hours overdue), counted as elapsed time."""
        seconds = self.seconds_left(now)
        return int(seconds // 3600) if seconds >= 0 else -int(-seconds // 3600)


_SOURCES: dict[str, DeadlineSource] = {}


def deadline_source(
    *, key: str, label: str, policy_id: str, responsible: Role, visible_to: Iterable[Role]
) -> Callable[[SourceFunction], SourceFunction]:
    """Register a function as a source of deadlines (see the module docstring)."""

    def register(function: SourceFunction) -> SourceFunction:
        _SOURCES[key] = DeadlineSource(
            key=key,
            label=label,
            policy_id=policy_id,
            responsible=responsible,
            visible_to=frozenset(visible_to) | {responsible},
            function=function,
        )
        return function

    return register


def sources() -> list[DeadlineSource]:
    return list(_SOURCES.values())


def sources_for(roles: Iterable[Role]) -> list[DeadlineSource]:
    held = set(roles)
    return [source for source in _SOURCES.values() if source.visible_to & held]


def next_role_up(role: Role, establishment: Establishment) -> Role:
    if role in (Role.BOOKING_CLERK, Role.SECURITY, Role.SUPERVISING_OFFICER, Role.MONITORING_OFFICER):
        return Role.GOVERNOR
    if role == Role.GOVERNOR and establishment.profile == Profile.IMMIGRATION_DETENTION:
        return Role.COMPLIANCE_MANAGER
    return role


def due_items(
    *,
    establishment: Establishment,
    roles: Iterable[Role] | None = None,
    now: datetime,
    until: datetime | None = None,
) -> list[DueItem]:
    """Everything due before ``until`` (default: the dashboard horizon) or overdue, soonest first. One query per
    source, however many items."""
    until = until or now + DASHBOARD_HORIZON
    chosen = sources() if roles is None else sources_for(roles)
    items = [item for source in chosen for item in source.items(establishment, now, until)]
    return sorted(items, key=lambda item: (utc(item.due_at), item.source.key, item.due.item_id))


def end_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight at the end of ``day`` on the establishment's wall clock (a review date is a calendar day)."""
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=tz)


# --- The sources this part of the app owns -------------------------------------------------------------------------


@deadline_source(
    key="cancellation_review",
    label="Review of a call that did not take place",
    policy_id="PF 4.8",
    responsible=Role.BOOKING_CLERK,
    visible_to={Role.BOOKING_CLERK, Role.GOVERNOR, Role.COMPLIANCE_MANAGER},
)
def cancellation_reviews(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    for review in booking_selectors.reviews_open(establishment=establishment):
        booking = review.booking
        yield Due(
            item_id=str(review.pk),
            whose=f"{booking.resident.full_name} ({booking.resident.identifier})",
            due_at=review.opened_at + timedelta(hours=CANCELLATION_REVIEW_HOURS),
            url=reverse("bookings-staff:review", args=[establishment.code, review.pk]),
            what=f"Review of call {booking.reference} ({review.get_cause_display().lower()})",
        )


@deadline_source(
    key="wellbeing_follow_up",
    label="Wellbeing follow-up",
    policy_id="PF 4.18",
    responsible=Role.GOVERNOR,
    visible_to={Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER},
)
def wellbeing_follow_ups(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    from .selectors_welfare import wellbeing_open

    for follow_up in wellbeing_open(establishment=establishment).filter(due_at__lte=until):
        yield Due(
            item_id=str(follow_up.pk),
            whose=f"{follow_up.resident.full_name} ({follow_up.resident.identifier})",
            due_at=follow_up.due_at,
            url=reverse("safeguarding-welfare:wellbeing", args=[establishment.code, follow_up.pk]),
            what=f"Wellbeing follow-up, {follow_up.location or 'no location'}",
        )


@deadline_source(
    key="incident_triage",
    label="Incident awaiting triage",
    policy_id="DSO 12",
    responsible=Role.SECURITY,
    visible_to={Role.SECURITY, Role.GOVERNOR, Role.COMPLIANCE_MANAGER},
)
def incidents_awaiting_triage(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    from .selectors_welfare import incidents_for

    hours = timedelta(hours=services_welfare.INCIDENT_TRIAGE_HOURS)
    for incident in incidents_for(establishment=establishment).filter(
        status=IncidentStatus.OPEN, reported_at__lte=until - hours
    ):
        yield Due(
            item_id=str(incident.pk),
            whose=f"{incident.resident.full_name} ({incident.resident.identifier})",
            due_at=incident.reported_at + hours,
            url=reverse("safeguarding-welfare:incident", args=[establishment.code, incident.pk]),
            what=f"Incident awaiting triage: {incident.get_reason_display().lower()}",
        )


@deadline_source(
    key="risk_assessment_review",
    label="Risk assessment review",
    policy_id="PF 4.9",
    responsible=Role.SECURITY,
    visible_to={Role.SECURITY, Role.GOVERNOR, Role.COMPLIANCE_MANAGER},
)
def risk_assessment_reviews(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    """The latest assessment of each kind per person, where it has a review date (PF 4.9, DSO 14)."""
    tz = ZoneInfo(establishment.timezone)
    newer = RiskAssessment.objects.filter(
        resident=OuterRef("resident"), kind=OuterRef("kind"), assessed_at__gt=OuterRef("assessed_at")
    )
    latest = (
        RiskAssessment.objects.filter(
            resident__establishment=establishment,
            resident__released_at__isnull=True,
            review_date__isnull=False,
            review_date__lte=until.astimezone(tz).date(),
        )
        .exclude(Exists(newer))
        .select_related("resident")
        .order_by("review_date")
    )
    for assessment in latest:
        assert assessment.review_date is not None
        yield Due(
            item_id=str(assessment.pk),
            whose=f"{assessment.resident.full_name} ({assessment.resident.identifier})",
            due_at=end_of_local_day(assessment.review_date, tz),
            url=reverse(
                "safeguarding-welfare:risk-history", args=[establishment.code, assessment.resident_id]
            ),
            what=f"Review of the {assessment.get_kind_display().lower()}",
        )


# --- The reminder and escalation pass ------------------------------------------------------------------------------


@dataclass
class PassResult:
    reminders: int = 0
    escalations: int = 0

    @property
    def total(self) -> int:
        return self.reminders + self.escalations


def level_due(item: DueItem, now: datetime) -> str | None:
    """Which notice the item calls for now: the 2-hour reminder inside 2 hours, the 24-hour one inside 24 hours,
    escalation once overdue. A reminder window already passed is not sent late."""
    left = item.seconds_left(now)
    if left <= 0:
        return DeadlineNoticeLevel.ESCALATION
    for level, before in REMINDERS:
        if left <= before.total_seconds():
            return level
    return None


def _local(moment: datetime, establishment: Establishment) -> str:
    return moment.astimezone(ZoneInfo(establishment.timezone)).strftime("%H:%M on %A %d %B %Y")


def _send(
    item: DueItem, *, establishment: Establishment, level: str, now: datetime, emails: list[str]
) -> bool:
    """Record and send one notice, unless it was sent already. Returns whether it was sent now."""
    escalation = level == DeadlineNoticeLevel.ESCALATION
    role = next_role_up(item.source.responsible, establishment) if escalation else item.source.responsible
    try:
        with transaction.atomic():
            notice = DeadlineNotice.objects.create(
                establishment=establishment,
                source=item.source.key,
                item_id=item.due.item_id,
                level=level,
                due_at=item.due_at,
                sent_at=now,
                role=str(role),
                recipients=emails,
            )
            if escalation:
                subject = f"Overdue: {item.what}"
                opening = (
                    "This deadline has passed without the work being done. "
                    f"It is escalated to you as {Role(role).label.lower()}."
                )
            else:
                subject = f"Due soon: {item.what}"
                opening = "This deadline is coming up."
            services_welfare.staff_email_queue(
                recipients=emails,
                event=services_welfare.STAFF_DEADLINE_EVENT,
                subject=subject,
                body=(
                    f"{opening}\n\n{item.what} for {item.due.whose} at {establishment.name} "
                    f"({item.source.policy_id}) is due at {_local(item.due_at, establishment)}.\n\n"
                    f"Open it in Kinship: {item.due.url}"
                ),
            )
            audit_record(
                action="deadline_escalated" if escalation else "deadline_reminder_sent",
                subject=notice,
                establishment_code=establishment.code,
                after={
                    "source": item.source.key,
                    "item_id": item.due.item_id,
                    "level": level,
                    "due_at": item.due_at,
                    "role": str(role),
                    "recipients": len(emails),
                },
                policy_ids=[item.source.policy_id],
                occurred_at=now,
            )
    except IntegrityError:
        return False
    return True


def deadlines_run(
    *, now: datetime | None = None, establishments: Iterable[Establishment] | None = None
) -> PassResult:
    """One pass: for every establishment and every item due within 24 hours or overdue, send the notice its
    level calls for, once. Safe to run as often as wanted, and by two workers at once."""
    now = now or timezone.now()
    result = PassResult()
    places = list(establishments) if establishments is not None else list(Establishment.objects.all())
    for establishment in places:
        items = due_items(establishment=establishment, now=now, until=now + REMINDERS[-1][1])
        sent = set(
            DeadlineNotice.objects.filter(
                establishment=establishment, due_at__in=[item.due_at for item in items]
            ).values_list("source", "item_id", "level", "due_at")
        )
        emails: dict[Role, list[str]] = {}
        for item in items:
            level = level_due(item, now)
            if level is None or (item.source.key, item.due.item_id, level, item.due_at) in sent:
                continue
            escalation = level == DeadlineNoticeLevel.ESCALATION
            role = (
                next_role_up(item.source.responsible, establishment)
                if escalation
                else item.source.responsible
            )
            if role not in emails:
                emails[role] = services_welfare.staff_emails(establishment=establishment, roles=[role])
            if _send(item, establishment=establishment, level=level, now=now, emails=emails[role]):
                if escalation:
                    result.escalations += 1
                else:
                    result.reminders += 1
    return result


# --- Sources from restrictions, bans, suspensions and appeals (``selectors_restrictions``) -------------------------


def _restrictions_url(establishment: Establishment, name: str, *args: object) -> str:
    """The restrictions page for a record, or their overview, whichever exists."""
    from django.urls import NoReverseMatch

    for candidate, candidate_args in ((name, args), ("overview", ())):
        try:
            return reverse(
                f"safeguarding-restrictions:{candidate}", args=[establishment.code, *candidate_args]
            )
        except NoReverseMatch:
            continue
    return reverse("safeguarding-welfare:deadlines", args=[establishment.code])


def _review_dates(
    records: Iterable[object], establishment: Establishment, until: datetime, *, what: str, url_name: str
) -> Iterator[Due]:
    tz = ZoneInfo(establishment.timezone)
    last_day = until.astimezone(tz).date()
    for record in records:
        review_on: date = record.review_on  # type: ignore[attr-defined]
        if review_on > last_day:
            continue
        resident = getattr(record, "resident", None)
        contact = getattr(record, "contact", None)
        whose = (f"{resident.full_name} ({resident.identifier})" if resident is not None else "") + (
            f"{', ' if resident is not None else ''}{contact.full_name}" if contact is not None else ""
        )
        yield Due(
            item_id=str(record.pk),  # type: ignore[attr-defined]
            whose=whose,
            due_at=end_of_local_day(review_on, tz),
            url=_restrictions_url(establishment, url_name, record.pk),  # type: ignore[attr-defined]
            what=what,
        )


@deadline_source(
    key="restriction_review",
    label="Restriction review",
    policy_id="PF 4.4",
    responsible=Role.GOVERNOR,
    visible_to={Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER},
)
def restriction_reviews(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    from .selectors_restrictions import restrictions_in_force

    yield from _review_dates(
        restrictions_in_force(establishment, now=now),
        establishment,
        until,
        what="Review of a restriction",
        url_name="restriction",
    )


@deadline_source(
    key="contact_ban_review",
    label="Contact ban review",
    policy_id="PF 4.10",
    responsible=Role.GOVERNOR,
    visible_to={Role.GOVERNOR, Role.SECURITY, Role.COMPLIANCE_MANAGER},
)
def contact_ban_reviews(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    from .selectors_restrictions import contact_bans_in_force

    yield from _review_dates(
        contact_bans_in_force(establishment, now=now),
        establishment,
        until,
        what="Review of a ban on contacting a named person",
        url_name="contact-ban",
    )


@deadline_source(
    key="visitor_ban_review",
    label="Booking ban review",
    policy_id="DSO Annex A",
    responsible=Role.SECURITY,
    visible_to={Role.SECURITY, Role.GOVERNOR, Role.COMPLIANCE_MANAGER, Role.BOOKING_CLERK},
)
def visitor_ban_reviews(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    from .selectors_restrictions import visitor_bans_in_force

    today = now.astimezone(ZoneInfo(establishment.timezone)).date()
    yield from _review_dates(
        visitor_bans_in_force(establishment, today=today),
        establishment,
        until,
        what="Review of a contact's ban from booking",
        url_name="visitor-ban",
    )


def _suspensions(establishment: Establishment, now: datetime) -> list[object]:
    from .selectors_restrictions import suspensions_in_force

    found = list(suspensions_in_force(establishment, now=now))
    for suspension in found:
        suspension.establishment = establishment  # the same place for all: no query per row
    return found  # type: ignore[return-value]


@deadline_source(
    key="suspension_review",
    label="Weekly suspension review",
    policy_id="DSO 18",
    responsible=Role.GOVERNOR,
    visible_to={Role.GOVERNOR, Role.COMPLIANCE_MANAGER},
)
def suspension_reviews(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    from .selectors_restrictions import suspension_status

    for suspension in _suspensions(establishment, now):
        status = suspension_status(suspension, now=now)  # type: ignore[arg-type]
        if status.review_due is None:
            continue
        resident = suspension.resident  # type: ignore[attr-defined]
        yield Due(
            item_id=str(suspension.pk),  # type: ignore[attr-defined]
            whose=f"{resident.full_name} ({resident.identifier})",
            due_at=status.review_due,
            url=_restrictions_url(establishment, "suspension-review", suspension.pk),  # type: ignore[attr-defined]
            what="Weekly review of a suspension",
        )


@deadline_source(
    key="suspension_authorisation",
    label="Authorisation of a suspension over 7 days",
    policy_id="DSO 18",
    responsible=Role.COMPLIANCE_MANAGER,
    visible_to={Role.COMPLIANCE_MANAGER, Role.GOVERNOR},
)
def suspension_authorisations(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    from kinship.policy.rules.safeguarding import SUSPENSION_THRESHOLD_DAYS
    from kinship.policy.time import add_calendar_days

    from .selectors_restrictions import suspension_status

    tz = ZoneInfo(establishment.timezone)
    for suspension in _suspensions(establishment, now):
        status = suspension_status(suspension, now=now)  # type: ignore[arg-type]
        if not status.needs_authorisation or status.authorised:
            continue
        resident = suspension.resident  # type: ignore[attr-defined]
        yield Due(
            item_id=str(suspension.pk),  # type: ignore[attr-defined]
            whose=f"{resident.full_name} ({resident.identifier})",
            due_at=add_calendar_days(suspension.starts_at, SUSPENSION_THRESHOLD_DAYS, tz),  # type: ignore[attr-defined]
            url=_restrictions_url(establishment, "suspension-authorise", suspension.pk),  # type: ignore[attr-defined]
            what="Compliance manager's authorisation of a suspension beyond day 7",
        )


@deadline_source(
    key="appeal_decision",
    label="Appeal decision",
    policy_id="DSO 18",
    responsible=Role.GOVERNOR,
    visible_to={Role.GOVERNOR, Role.COMPLIANCE_MANAGER},
)
def appeal_decisions(establishment: Establishment, now: datetime, until: datetime) -> Iterator[Due]:
    from .selectors_restrictions import appeal_status, appeals_awaiting_decision

    for appeal in appeals_awaiting_decision(establishment):
        appeal.suspension.establishment = establishment  # no query per row
        status = appeal_status(appeal, now=now)
        resident = appeal.suspension.resident
        yield Due(
            item_id=str(appeal.pk),
            whose=f"{resident.full_name} ({resident.identifier})",
            due_at=status.due,
            url=_restrictions_url(establishment, "appeal-decide", appeal.pk),
            what="Decision on an appeal against a suspension"
            + (" (imminent removal: 12 hours)" if appeal.imminent_removal_directions else ""),
        )
