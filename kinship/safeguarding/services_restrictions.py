"""Writes for restrictions (PF 4.4), contact bans (PF 4.10), banned visitors and booking bans (PF 4.12, DSO
Annex A), suspensions (DSO 17, DSO 18) and appeals (DSO 18).

Each service is keyword-only, runs in one ``transaction.atomic``, asks the policy engine where a rule decides,
refuses with every reason (``SafeguardingRefused``), and records one audit event with the policy ids in the same
transaction. New restrictions, bans and suspensions flag every affected future booking for review (PF 4.8);
lifting one never restores a cancelled booking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from kinship import policy
from kinship.accounts.models import StaffRole, User
from kinship.audit.services import audit_record
from kinship.bookings import facts as booking_facts
from kinship.bookings.models import Booking, CircumstanceChange
from kinship.bookings.services_staff import bookings_flag_for_review
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.notifications.models import Channel, Event, Notification
from kinship.notifications.services import enqueue_sending
from kinship.people.models import CompactRecord, Contact, ContactLink, Resident
from kinship.policy.rules.safeguarding import suspension_needs_authorisation
from kinship.policy.time import add_calendar_days

from .models import (
    Appeal,
    AppealDecision,
    BannedVisitorAuthorisation,
    ComplianceNotice,
    ContactBan,
    DecisionReview,
    Restriction,
    ReviewOutcome,
    Suspension,
    VisitorBan,
    VisitorBanKind,
)


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    field: str | None = None


class SafeguardingRefused(Exception):
    """A safeguarding service refused; ``problems`` holds every reason with its citation."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problem.message for problem in self.problems))

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(problem.message for problem in self.problems)


def _refuse_unless(decision: policy.Decision) -> None:
    if not decision.allowed:
        raise SafeguardingRefused(Problem(reason.message, reason.field_name) for reason in decision.refusals)


def _require(user: User, establishment: Establishment, rule_id: str, text: str, *roles: Role) -> None:
    if not user.roles_at(establishment) & set(roles):
        raise SafeguardingRefused([Problem(f"{rule_id}: {text}")])


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _tz(establishment: Establishment) -> ZoneInfo:
    return ZoneInfo(establishment.timezone)


def decider_facts(user: User, establishment: Establishment) -> policy.Staff:
    """The engine's roles for ``user``. In immigration detention the core GOVERNOR role is the centre manager
    (``Role.GOVERNOR``'s label: "Governor or centre manager"), the person DSO 17 names."""
    staff = booking_facts.staff_facts(user, establishment)
    if policy.Role.GOVERNOR in staff.roles and establishment.profile in {
        profile.value for profile in policy.IMMIGRATION_PROFILES
    }:
        return policy.Staff(id=staff.id, roles=staff.roles | {policy.Role.CENTRE_MANAGER})
    return staff


# --- Restrictions (PF 4.4) ------------------------------------------------------------------------------------


def restriction_create(
    *,
    resident: Resident,
    kind: str,
    ground: str,
    rationale: str,
    necessity_and_proportionality: str,
    review_on: date,
    actor: User,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    max_participants: int | None = None,
    max_call_minutes: int | None = None,
    max_calls_per_month: int | None = None,
    dedicated_monitor: bool = False,
    now: datetime | None = None,
) -> Restriction:
    now = _now(now)
    establishment = resident.establishment
    start = starts_at or now
    problems = []
    if not necessity_and_proportionality.strip():
        problems.append(
            Problem("PF 4.4: Record why the restriction is necessary and proportionate.", "necessity")
        )
    fact = policy.Restriction(
        kind=policy.RestrictionKind(kind),
        ground=policy.Rule34Ground(ground),
        rationale=rationale,
        decided_by=str(actor.pk),
        start=start,
        review_on=review_on,
        end=ends_at,
        max_participants=max_participants,
        max_call_minutes=max_call_minutes,
        max_calls_per_month=max_calls_per_month,
        dedicated_monitor=dedicated_monitor,
    )
    decision = policy.restriction_allowed(
        policy.RestrictionFacts(
            establishment=booking_facts.establishment_facts(establishment, terms_version=""),
            restriction=fact,
            decided_by=decider_facts(actor, establishment),
        )
    )
    problems.extend(Problem(reason.message, reason.field_name) for reason in decision.refusals)
    if problems:
        raise SafeguardingRefused(problems)
    with transaction.atomic():
        restriction = Restriction.objects.create(
            resident=resident,
            establishment=establishment,
            kind=kind,
            ground=ground,
            rationale=rationale,
            necessity_and_proportionality=necessity_and_proportionality,
            max_participants=max_participants,
            max_call_minutes=max_call_minutes,
            max_calls_per_month=max_calls_per_month,
            dedicated_monitor=dedicated_monitor,
            decided_by=actor,
            starts_at=start,
            review_on=review_on,
            ends_at=ends_at,
        )
        reviews = bookings_flag_for_review(
            resident=resident,
            cause=CircumstanceChange.RESTRICTION,
            note=f"Restriction: {restriction.get_kind_display()}",
            actor=actor,
            starting_from=start,
            now=now,
        )
        audit_record(
            action="safeguarding.restriction_created",
            actor=actor,
            subject=restriction,
            establishment_code=establishment.code,
            after={
                "kind": kind,
                "ground": ground,
                "review_on": review_on,
                "ends_at": ends_at,
                "bookings_flagged": len(reviews),
            },
            policy_ids=["PF 4.4", "PF 4.8"],
            occurred_at=now,
        )
    return restriction


def _review(
    *,
    subject_field: str,
    subject: Restriction | ContactBan | VisitorBan,
    outcome: str,
    notes: str,
    next_review_on: date | None,
    actor: User,
    now: datetime,
    rule_id: str,
) -> DecisionReview:
    establishment = subject.establishment
    tz = _tz(establishment)
    problems = []
    if not notes.strip():
        problems.append(Problem(f"{rule_id}: Record what the review considered.", "notes"))
    if outcome != ReviewOutcome.LIFT:
        if next_review_on is None:
            problems.append(Problem(f"{rule_id}: Enter the date of the next review.", "next_review_on"))
        elif next_review_on <= now.astimezone(tz).date():
            problems.append(Problem(f"{rule_id}: The next review must be after today.", "next_review_on"))
    if subject.lifted_at is not None:
        problems.append(Problem(f"{rule_id}: This decision has already been lifted."))
    if problems:
        raise SafeguardingRefused(problems)
    review = DecisionReview.objects.create(
        **{subject_field: subject},
        outcome=outcome,
        notes=notes,
        next_review_on=next_review_on if outcome != ReviewOutcome.LIFT else None,
        reviewed_by=actor,
        reviewed_at=now,
    )
    if outcome == ReviewOutcome.LIFT:
        subject.lifted_at = now
        subject.lifted_by = actor
    else:
        subject.review_on = next_review_on  # type: ignore[assignment]
    subject.save()
    audit_record(
        action=f"safeguarding.{subject_field}_reviewed",
        actor=actor,
        subject=subject,
        establishment_code=establishment.code,
        after={"outcome": outcome, "next_review_on": next_review_on, "lifted": outcome == ReviewOutcome.LIFT},
        policy_ids=[rule_id],
        occurred_at=now,
    )
    return review


def restriction_review(
    *,
    restriction: Restriction,
    outcome: str,
    notes: str,
    actor: User,
    next_review_on: date | None = None,
    max_participants: int | None = None,
    max_call_minutes: int | None = None,
    max_calls_per_month: int | None = None,
    now: datetime | None = None,
) -> DecisionReview:
    """Record a review: continue, vary the limits, or lift. Lifting does not restore cancelled bookings."""
    now = _now(now)
    _require(
        actor, restriction.establishment, "PF 4.4", "Only a governor can review a restriction.", Role.GOVERNOR
    )
    with transaction.atomic():
        if outcome == ReviewOutcome.VARY:
            restriction.max_participants = max_participants
            restriction.max_call_minutes = max_call_minutes
            restriction.max_calls_per_month = max_calls_per_month
        return _review(
            subject_field="restriction",
            subject=restriction,
            outcome=outcome,
            notes=notes,
            next_review_on=next_review_on,
            actor=actor,
            now=now,
            rule_id="PF 4.4",
        )


# --- Contact bans (PF 4.10) -----------------------------------------------------------------------------------


def contact_ban_create(
    *,
    resident: Resident,
    contact: Contact,
    reason: str,
    review_on: date,
    actor: User,
    now: datetime | None = None,
) -> ContactBan:
    now = _now(now)
    establishment = resident.establishment
    _require(
        actor, establishment, "PF 4.10", "Only a governor can ban contact with a named person.", Role.GOVERNOR
    )
    problems = []
    if not reason.strip():
        problems.append(Problem("PF 4.10: Record why the ban is needed.", "reason"))
    if review_on <= now.astimezone(_tz(establishment)).date():
        problems.append(Problem("PF 4.10: The review date must be after today.", "review_on"))
    if problems:
        raise SafeguardingRefused(problems)
    with transaction.atomic():
        ban = ContactBan.objects.create(
            resident=resident,
            contact=contact,
            establishment=establishment,
            reason=reason,
            decided_by=actor,
            starts_at=now,
            review_on=review_on,
        )
        ContactLink.objects.filter(resident=resident, contact=contact).update(banned=True)
        reviews = bookings_flag_for_review(
            resident=resident,
            contact=contact,
            cause=CircumstanceChange.CONTACT_BANNED,
            note="A ban on video calls with this contact (PF 4.10)",
            actor=actor,
            now=now,
        )
        audit_record(
            action="safeguarding.contact_ban_created",
            actor=actor,
            subject=ban,
            establishment_code=establishment.code,
            after={"contact": str(contact.pk), "review_on": review_on, "bookings_flagged": len(reviews)},
            policy_ids=["PF 4.10", "PF 4.8"],
            occurred_at=now,
        )
    return ban


def contact_ban_review(
    *,
    ban: ContactBan,
    outcome: str,
    notes: str,
    actor: User,
    next_review_on: date | None = None,
    now: datetime | None = None,
) -> DecisionReview:
    now = _now(now)
    _require(actor, ban.establishment, "PF 4.10", "Only a governor can review a contact ban.", Role.GOVERNOR)
    with transaction.atomic():
        review = _review(
            subject_field="contact_ban",
            subject=ban,
            outcome=outcome,
            notes=notes,
            next_review_on=next_review_on,
            actor=actor,
            now=now,
            rule_id="PF 4.10",
        )
        if outcome == ReviewOutcome.LIFT:
            still_banned = (
                ContactBan.objects.filter(resident=ban.resident, contact=ban.contact, lifted_at__isnull=True)
                .exclude(pk=ban.pk)
                .exists()
            )
            if not still_banned:
                ContactLink.objects.filter(resident=ban.resident, contact=ban.contact).update(banned=False)
        return review


# --- Banned visitors (PF 4.12) and booking bans (DSO Annex A) ------------------------------------------------


def _sync_booking_ban(contact: Contact, today: date) -> None:
    latest = (
        VisitorBan.objects.filter(
            contact=contact, kind=VisitorBanKind.BOOKING, lifted_at__isnull=True, until__gte=today
        )
        .order_by("-until")
        .values_list("until", flat=True)
        .first()
    )
    Contact.objects.filter(pk=contact.pk).update(booking_banned_until=latest)


def visitor_ban_create(
    *,
    contact: Contact,
    establishment: Establishment,
    kind: str,
    reason: str,
    until: date,
    review_on: date,
    actor: User,
    now: datetime | None = None,
) -> VisitorBan:
    now = _now(now)
    rule_id = "PF 4.12" if kind == VisitorBanKind.BANNED_VISITOR else "DSO Annex A"
    _require(
        actor, establishment, rule_id, "Only a governor or centre manager can ban a visitor.", Role.GOVERNOR
    )
    today = now.astimezone(_tz(establishment)).date()
    problems = []
    if not reason.strip():
        problems.append(Problem(f"{rule_id}: Record the reason for the ban.", "reason"))
    if until < today:
        problems.append(Problem(f"{rule_id}: The ban must last until today or later.", "until"))
    if review_on <= today:
        problems.append(Problem(f"{rule_id}: The review date must be after today.", "review_on"))
    if problems:
        raise SafeguardingRefused(problems)
    with transaction.atomic():
        ban = VisitorBan.objects.create(
            contact=contact,
            establishment=establishment,
            kind=kind,
            reason=reason,
            decided_by=actor,
            starts_at=now,
            until=until,
            review_on=review_on,
        )
        flagged = 0
        if kind == VisitorBanKind.BOOKING:
            _sync_booking_ban(contact, today)
            flagged = len(
                bookings_flag_for_review(
                    contact=contact,
                    cause=CircumstanceChange.CONTACT_BOOKING_BAN,
                    note=f"Banned from booking until {until:%d %B %Y} (DSO Annex A)",
                    actor=actor,
                    starting_from=now,
                    now=now,
                )
            )
        else:
            for resident in Resident.objects.filter(
                establishment=establishment, contact_links__contact=contact
            ):
                flagged += len(
                    bookings_flag_for_review(
                        resident=resident,
                        contact=contact,
                        cause=CircumstanceChange.CONTACT_BANNED,
                        note="A banned visitor: the call needs the operational manager's authorisation (PF 4.12)",
                        actor=actor,
                        now=now,
                    )
                )
        audit_record(
            action="safeguarding.visitor_ban_created",
            actor=actor,
            subject=ban,
            establishment_code=establishment.code,
            after={"kind": kind, "until": until, "review_on": review_on, "bookings_flagged": flagged},
            policy_ids=[rule_id, "PF 4.8"],
            occurred_at=now,
        )
    return ban


def visitor_ban_review(
    *,
    ban: VisitorBan,
    outcome: str,
    notes: str,
    actor: User,
    next_review_on: date | None = None,
    now: datetime | None = None,
) -> DecisionReview:
    now = _now(now)
    rule_id = "PF 4.12" if ban.kind == VisitorBanKind.BANNED_VISITOR else "DSO Annex A"
    _require(
        actor,
        ban.establishment,
        rule_id,
        "Only a governor or centre manager can review a ban.",
        Role.GOVERNOR,
    )
    with transaction.atomic():
        review = _review(
            subject_field="visitor_ban",
            subject=ban,
            outcome=outcome,
            notes=notes,
            next_review_on=next_review_on,
            actor=actor,
            now=now,
            rule_id=rule_id,
        )
        if ban.kind == VisitorBanKind.BOOKING:
            _sync_booking_ban(ban.contact, now.astimezone(_tz(ban.establishment)).date())
        return review


def banned_visitor_authorise(
    *,
    resident: Resident,
    contact: Contact,
    reason: str,
    actor: User,
    booking: Booking | None = None,
    now: datetime | None = None,
) -> BannedVisitorAuthorisation:
    """PF 4.12: the responsible operational manager (the governor role) authorises calls with a banned visitor."""
    now = _now(now)
    establishment = resident.establishment
    _require(
        actor,
        establishment,
        "PF 4.12",
        "Only the responsible operational manager can authorise a call with a banned visitor.",
        Role.GOVERNOR,
    )
    ban = (
        VisitorBan.objects.filter(
            contact=contact,
            establishment=establishment,
            kind=VisitorBanKind.BANNED_VISITOR,
            lifted_at__isnull=True,
            until__gte=now.astimezone(_tz(establishment)).date(),
        )
        .order_by("-starts_at")
        .first()
    )
    problems = []
    if ban is None:
        problems.append(
            Problem("PF 4.12: This contact is not a banned visitor here; no authorisation is needed.")
        )
    if not reason.strip():
        problems.append(Problem("PF 4.12: Record why the call is authorised.", "reason"))
    if problems or ban is None:
        raise SafeguardingRefused(problems)
    with transaction.atomic():
        authorisation = BannedVisitorAuthorisation.objects.create(
            resident=resident,
            contact=contact,
            ban=ban,
            booking=booking,
            reason=reason,
            authorised_by=actor,
            authorised_at=now,
        )
        audit_record(
            action="safeguarding.banned_visitor_authorised",
            actor=actor,
            subject=authorisation,
            establishment_code=establishment.code,
            after={"resident": str(resident.pk), "contact": str(contact.pk), "reason": reason},
            policy_ids=["PF 4.12"],
            occurred_at=now,
        )
    return authorisation


# --- Suspensions (DSO 17, DSO 18) -----------------------------------------------------------------------------


def compact_language(resident: Resident) -> str:
    """The language of the latest compact record (DSO 17: notice in their language where the compact was)."""
    latest = CompactRecord.objects.filter(resident=resident).order_by("-recorded_at").first()
    return latest.language if latest is not None else "English"


def _notify_compliance(*, suspension: Suspension, subject: str, body: str) -> list[ComplianceNotice]:
    """DSO 18: an in-app notice and an email to every compliance manager of the establishment, at once."""
    managers = User.objects.filter(
        pk__in=StaffRole.objects.filter(
            establishment=suspension.establishment, role=Role.COMPLIANCE_MANAGER
        ).values("user_id")
    )
    notices = []
    emails = []
    for manager in managers:
        notices.append(
            ComplianceNotice.objects.create(
                recipient=manager,
                establishment=suspension.establishment,
                suspension=suspension,
                subject=subject,
                body=body,
            )
        )
        if manager.email:
            emails.append(
                Notification.objects.create(
                    event=Event.STAFF_NOTICE,
                    channel=Channel.EMAIL,
                    recipient=manager.email,
                    personalisation={"subject": subject, "body": body},
                )
            )
    if emails:
        transaction.on_commit(partial(enqueue_sending, [str(row.pk) for row in emails]), robust=True)
    return notices


def _needs_authorisation(suspension: Suspension, tz: ZoneInfo) -> bool:
    """DSO 18, on the suspension as decided (not as capped at day 7 while unauthorised)."""
    decided = policy.Suspension(
        reason=policy.SuspensionReason(suspension.reason),
        decided_by=str(suspension.decided_by_id),
        start=suspension.starts_at,
        end=suspension.ends_at,
    )
    return suspension_needs_authorisation(decided, tz)


def suspension_create(
    *,
    resident: Resident,
    reason: str,
    details: str,
    days: int,
    actor: User,
    starts_at: datetime | None = None,
    now: datetime | None = None,
) -> Suspension:
    now = _now(now)
    establishment = resident.establishment
    tz = _tz(establishment)
    start = starts_at or now
    end = add_calendar_days(start, days, tz)
    problems = []
    if days < 1:
        problems.append(Problem("DSO 17: A suspension lasts at least 1 day.", "days"))
    if not details.strip():
        problems.append(
            Problem("DSO 17: Record what happened: the detainee is given the reason in writing.", "details")
        )
    decision = policy.suspension_allowed(
        policy.SuspensionFacts(
            establishment=booking_facts.establishment_facts(establishment, terms_version=""),
            suspension=policy.Suspension(
                reason=policy.SuspensionReason(reason),
                decided_by=str(actor.pk),
                start=start,
                end=end,
            ),
            decided_by=decider_facts(actor, establishment),
        )
    )
    # The compliance manager authorises after the decision (DSO 18); until then the facts end it at day 7.
    problems.extend(
        Problem(reason.message, reason.field_name)
        for reason in decision.refusals
        if reason.code != "suspension.authorisation"
    )
    if problems:
        raise SafeguardingRefused(problems)
    with transaction.atomic():
        suspension = Suspension.objects.create(
            resident=resident,
            establishment=establishment,
            reason=reason,
            details=details,
            decided_by=actor,
            starts_at=start,
            ends_at=end,
            notice_language=compact_language(resident),
        )
        long = _needs_authorisation(suspension, tz)
        flagged = bookings_flag_for_review(
            resident=resident,
            cause=CircumstanceChange.SUSPENSION,
            note=f"Video calls suspended until {end.astimezone(tz):%d %B %Y %H:%M} (DSO 17)",
            actor=actor,
            starting_from=start,
            now=now,
        )
        body = (
            f"{resident.full_name} ({resident.identifier}) has had social video calls suspended at "
            f"{establishment.name} from {start.astimezone(tz):%d %B %Y %H:%M} to {end.astimezone(tz):%d %B %Y %H:%M}."
            f"\n\nReason: {suspension.get_reason_display()}\n\n{details}"
        )
        if long:
            body += (
                "\n\nThe suspension is longer than 7 days: it needs your authorisation to go on beyond day 7 "
                "(DSO 18)."
            )
        _notify_compliance(
            suspension=suspension, subject=f"Suspension of video calls: {resident.full_name}", body=body
        )
        audit_record(
            action="safeguarding.suspension_created",
            actor=actor,
            subject=suspension,
            establishment_code=establishment.code,
            after={
                "reason": reason,
                "starts_at": start,
                "ends_at": end,
                "needs_authorisation": long,
                "bookings_flagged": len(flagged),
            },
            policy_ids=["DSO 17", "DSO 18", "PF 4.8"],
            occurred_at=now,
        )
    return suspension


def suspension_authorise(
    *, suspension: Suspension, note: str, actor: User, now: datetime | None = None
) -> Suspension:
    """DSO 18: the compliance manager authorises a suspension over 7 days."""
    now = _now(now)
    establishment = suspension.establishment
    tz = _tz(establishment)
    _require(
        actor,
        establishment,
        "DSO 18",
        "Only the compliance manager can authorise a suspension longer than 7 days.",
        Role.COMPLIANCE_MANAGER,
    )
    problems = []
    if suspension.authorised_at is not None:
        problems.append(Problem("DSO 18: This suspension is already authorised."))
    if not _needs_authorisation(suspension, tz):
        problems.append(Problem("DSO 18: A suspension of 7 days or less needs no authorisation."))
    if suspension.lifted_at is not None:
        problems.append(Problem("DSO 18: This suspension has been lifted."))
    if problems:
        raise SafeguardingRefused(problems)
    with transaction.atomic():
        suspension.authorised_by = actor
        suspension.authorised_at = now
        suspension.authorisation_note = note
        suspension.save(update_fields=["authorised_by", "authorised_at", "authorisation_note", "updated_at"])
        audit_record(
            action="safeguarding.suspension_authorised",
            actor=actor,
            subject=suspension,
            establishment_code=establishment.code,
            after={"authorised_at": now, "note": note},
            policy_ids=["DSO 18"],
            occurred_at=now,
        )
    return suspension


def suspension_review(
    *, suspension: Suspension, outcome: str, notes: str, actor: User, now: datetime | None = None
) -> DecisionReview:
    """DSO 18: the weekly review of a suspension over 7 days: continue, or lift now."""
    now = _now(now)
    establishment = suspension.establishment
    _require(
        actor,
        establishment,
        "DSO 18",
        "Only the centre or deputy centre manager can review a suspension.",
        Role.GOVERNOR,
    )
    problems = []
    if outcome not in {ReviewOutcome.CONTINUE, ReviewOutcome.LIFT}:
        problems.append(Problem("DSO 18: Choose to continue the suspension or lift it.", "outcome"))
    if not notes.strip():
        problems.append(Problem("DSO 18: Record what the review considered.", "notes"))
    if suspension.lifted_at is not None:
        problems.append(Problem("DSO 18: This suspension has been lifted."))
    if problems:
        raise SafeguardingRefused(problems)
    with transaction.atomic():
        review = DecisionReview.objects.create(
            suspension=suspension, outcome=outcome, notes=notes, reviewed_by=actor, reviewed_at=now
        )
        if outcome == ReviewOutcome.LIFT:
            suspension.lifted_at = now
            suspension.lifted_by = actor
            suspension.save(update_fields=["lifted_at", "lifted_by", "updated_at"])
        audit_record(
            action="safeguarding.suspension_reviewed",
            actor=actor,
            subject=suspension,
            establishment_code=establishment.code,
            after={"outcome": outcome},
            policy_ids=["DSO 18"],
            occurred_at=now,
        )
    return review


# --- Appeals (DSO 18) -----------------------------------------------------------------------------------------


def appeal_record(
    *,
    suspension: Suspension,
    actor: User,
    text: str = "",
    scan: UploadedFile | None = None,
    scan_content_type: str = "",
    submitted_at: datetime | None = None,
    now: datetime | None = None,
) -> Appeal:
    now = _now(now)
    establishment = suspension.establishment
    if not text.strip() and scan is None:
        raise SafeguardingRefused([Problem("DSO 18: Type the appeal or upload a scan of it.", "text")])
    with transaction.atomic():
        resident = Resident.objects.get(pk=suspension.resident_id)
        appeal = Appeal(
            suspension=suspension,
            submitted_at=submitted_at or now,
            text=text,
            recorded_by=actor,
            imminent_removal_directions=resident.imminent_removal_directions,
            scan_content_type=scan_content_type if scan is not None else "",
        )
        if scan is not None:
            appeal.scan.save(scan.name or "scan", scan, save=False)
        appeal.save()
        audit_record(
            action="safeguarding.appeal_recorded",
            actor=actor,
            subject=appeal,
            establishment_code=establishment.code,
            after={
                "submitted_at": appeal.submitted_at,
                "scan": bool(scan),
                "imminent_removal_directions": appeal.imminent_removal_directions,
            },
            policy_ids=["DSO 18"],
            occurred_at=now,
        )
    return appeal


def appeal_decide(
    *,
    appeal: Appeal,
    decision: str,
    reasons: str,
    actor: User,
    varied_ends_at: datetime | None = None,
    now: datetime | None = None,
) -> Appeal:
    """Uphold, overturn (the suspension is lifted now) or vary (a new, earlier end) an appeal."""
    now = _now(now)
    suspension = appeal.suspension
    establishment = suspension.establishment
    _require(actor, establishment, "DSO 18", "Only the centre manager can decide an appeal.", Role.GOVERNOR)
    problems = []
    if appeal.decided_at is not None:
        problems.append(Problem("DSO 18: This appeal has already been decided."))
    if not reasons.strip():
        problems.append(Problem("DSO 18: Record the reasons for the decision.", "reasons"))
    if decision == AppealDecision.VARIED and (
        varied_ends_at is None
        or varied_ends_at <= suspension.starts_at
        or varied_ends_at >= suspension.ends_at
    ):
        problems.append(
            Problem(
                "DSO 18: A varied suspension ends after it starts and before its current end.",
                "varied_end_on",
            )
        )
    if problems:
        raise SafeguardingRefused(problems)
    with transaction.atomic():
        appeal.decision = decision
        appeal.decision_reasons = reasons
        appeal.decided_by = actor
        appeal.decided_at = now
        appeal.varied_ends_at = varied_ends_at if decision == AppealDecision.VARIED else None
        appeal.save()
        if decision == AppealDecision.OVERTURNED:
            suspension.lifted_at = now
            suspension.lifted_by = actor
            suspension.save(update_fields=["lifted_at", "lifted_by", "updated_at"])
        elif decision == AppealDecision.VARIED and varied_ends_at is not None:
            suspension.ends_at = varied_ends_at
            suspension.save(update_fields=["ends_at", "updated_at"])
        audit_record(
            action="safeguarding.appeal_decided",
            actor=actor,
            subject=appeal,
            establishment_code=establishment.code,
            after={"decision": decision, "varied_ends_at": appeal.varied_ends_at},
            policy_ids=["DSO 18"],
            occurred_at=now,
        )
    return appeal


def appeal_scan_opened(*, appeal: Appeal, actor: User, now: datetime | None = None) -> None:
    """Every opening of an appeal scan is recorded."""
    with transaction.atomic():
        audit_record(
            action="safeguarding.appeal_scan_opened",
            actor=actor,
            subject=appeal,
            establishment_code=appeal.suspension.establishment.code,
            policy_ids=["DSO 18", "PF 4.20"],
            occurred_at=_now(now),
        )
