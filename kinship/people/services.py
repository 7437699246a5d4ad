"""Writes for the records about people: residents, compacts, risk assessments, contact links and link requests.

Each service is keyword-only, runs in one transaction and records one audit event in it. A link between a contact
and a resident is only ever made here, by a named member of staff (``link_request_approve``), never automatically.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kinship.audit.services import audit_record
from kinship.establishments.models import Establishment, Profile

from .models import (
    CompactKind,
    CompactOutcome,
    CompactRecord,
    CompactText,
    ContactLink,
    ContactSource,
    LinkRequest,
    LinkRequestStatus,
    LinkStatus,
    Resident,
    RiskAssessment,
    RiskAssessmentKind,
    RiskAssessmentOutcome,
    SupportNeed,
)

#: The resident fields staff may set, and the rule each flag or field serves.
RESIDENT_FIELDS: dict[str, str] = {
    "identifier": "",
    "first_name": "",
    "last_name": "",
    "date_of_birth": "",
    "location": "",
    "language": "PF 4.9",
    "support_needs": "PF 4.5",
    "support_notes": "PF 4.5",
    "e_list": "PF 4.22",
    "pprc": "PF 4.16",
    "harassment_measures": "DSO 14",
    "imminent_removal_directions": "DSO 18",
    "large_family_exception": "PF 4.13",
    "sex": "PF 4.3",
    "ethnicity": "PF 4.3",
    "religion": "PF 4.3",
    "disability": "PF 4.3",
}
#: Protected characteristics are never copied into the audit log: only that they changed.
_PROTECTED = {"sex", "ethnicity", "religion", "disability"}


def _resident_snapshot(resident: Resident) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for name in RESIDENT_FIELDS:
        value = getattr(resident, name)
        snapshot[name] = ("recorded" if value else "") if name in _PROTECTED else value
    return snapshot


def _clean_resident_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(RESIDENT_FIELDS)
    if unknown:
        raise TypeError(f"Not a resident field: {', '.join(sorted(unknown))}")
    cleaned = dict(values)
    for name in ("identifier",):
        if name in cleaned:
            cleaned[name] = str(cleaned[name]).strip().upper()
    if "support_needs" in cleaned:
        needs = list(cleaned["support_needs"] or [])
        invalid = [need for need in needs if need not in SupportNeed.values]
        if invalid:
            raise ValidationError({"support_needs": "Select support needs from the list"})
        cleaned["support_needs"] = [need for need in SupportNeed.values if need in needs]
    return cleaned


def _check_identifier(identifier: str, resident: Resident | None = None) -> None:
    others = Resident.objects.filter(identifier__iexact=identifier)
    if resident is not None:
        others = others.exclude(pk=resident.pk)
    if others.exists():
        raise ValidationError(
            {"identifier": "There is already a person in custody with this number or reference"}
        )


def _changed_rules(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(
        {RESIDENT_FIELDS[name] for name in after if RESIDENT_FIELDS[name] and before.get(name) != after[name]}
    )


def resident_create(*, establishment: Establishment, actor: Any, **values: Any) -> Resident:
    cleaned = _clean_resident_values(values)
    with transaction.atomic():
        _check_identifier(cleaned["identifier"])
        resident = Resident(establishment=establishment, **cleaned)
        resident.full_clean()
        resident.save()
        after = _resident_snapshot(resident)
        audit_record(
            action="resident_created",
            actor=actor,
            subject=resident,
            establishment_code=establishment.code,
            after=after,
            policy_ids=_changed_rules({}, after),
        )
    return resident


def resident_update(*, resident: Resident, actor: Any, **values: Any) -> Resident:
    cleaned = _clean_resident_values(values)
    with transaction.atomic():
        current = Resident.objects.select_for_update().select_related("establishment").get(pk=resident.pk)
        if "identifier" in cleaned:
            _check_identifier(cleaned["identifier"], current)
        before = _resident_snapshot(current)
        for name, value in cleaned.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
        after = _resident_snapshot(current)
        audit_record(
            action="resident_changed",
            actor=actor,
            subject=current,
            establishment_code=current.establishment.code,
            before={name: value for name, value in before.items() if after[name] != value},
            after={name: value for name, value in after.items() if before[name] != value},
            policy_ids=_changed_rules(before, after),
        )
    return current


def resident_record_viewed(*, resident: Resident, actor: Any) -> None:
    """Every access to a resident's record is logged (PF 4.20: who saw what, when)."""
    with transaction.atomic():
        audit_record(
            action="resident_viewed",
            actor=actor,
            subject=resident,
            establishment_code=resident.establishment.code,
            policy_ids=["PF 4.20"],
        )


# --- Compacts ------------------------------------------------------------------------------------------------------


def compact_kind_for(establishment: Establishment) -> CompactKind:
    """Prison profiles use the Communications Compact (PF 4.9); immigration detention the centre compact
    (DSO 10)."""
    if establishment.profile == Profile.IMMIGRATION_DETENTION:
        return CompactKind.IRC
    return CompactKind.PRISON


def compact_policy_ids(kind: str) -> list[str]:
    return ["DSO 10", "DSO 15"] if kind == CompactKind.IRC else ["PF 4.9"]


def compact_text_create(
    *, actor: Any, establishment: Establishment, kind: str, version: str, language: str, body: str
) -> CompactText:
    with transaction.atomic():
        version, language = version.strip(), language.strip()
        if CompactText.objects.filter(kind=kind, version__iexact=version, language__iexact=language).exists():
            raise ValidationError({"version": "This version of the compact already exists in this language"})
        text = CompactText(kind=kind, version=version, language=language, body=body.strip())
        text.full_clean()
        text.save()
        audit_record(
            action="compact_text_created",
            actor=actor,
            subject=text,
            establishment_code=establishment.code,
            after={"kind": kind, "version": version, "language": language},
            policy_ids=compact_policy_ids(kind),
        )
    return text


def compact_record(
    *,
    resident: Resident,
    actor: Any,
    text: CompactText,
    outcome: str,
    language: str,
    interpreter_used: bool,
) -> CompactRecord:
    """Record that the compact was explained, read and signed, or that the person refused to sign (PF 4.11: no
    access then). ``explained_by`` is always the member of staff recording it."""
    establishment = resident.establishment
    expected = compact_kind_for(establishment)
    if text.kind != expected:
        raise ValidationError(
            {"text": f"{compact_policy_ids(expected)[0]}: Choose a version of the {expected.label.lower()}"}
        )
    if outcome not in CompactOutcome.values:
        raise ValidationError({"outcome": "Select whether the compact was signed or refused"})
    policy_ids = compact_policy_ids(expected)
    if outcome == CompactOutcome.REFUSED:
        policy_ids.append("PF 4.11")
    with transaction.atomic():
        record = CompactRecord.objects.create(
            resident=resident,
            text=text,
            outcome=outcome,
            language=language.strip(),
            interpreter_used=interpreter_used,
            explained_by=actor,
            recorded_at=timezone.now(),
        )
        audit_record(
            action="compact_recorded",
            actor=actor,
            subject=resident,
            establishment_code=establishment.code,
            after={
                "compact_record": str(record.pk),
                "kind": text.kind,
                "version": text.version,
                "text_language": text.language,
                "outcome": outcome,
                "language": record.language,
                "interpreter_used": interpreter_used,
            },
            policy_ids=policy_ids,
        )
    return record


# --- Risk assessments ----------------------------------------------------------------------------------------------


def risk_assessment_record(
    *,
    resident: Resident,
    actor: Any,
    kind: str,
    outcome: str,
    rationale: str,
    review_date: date | None,
) -> RiskAssessment:
    """PF 4.9 eligibility assessment, or the DSO 14 individual assessment (immigration detention, for a person
    subject to MAPPA, a restraining order or another harassment measure)."""
    errors: dict[str, str] = {}
    if kind not in RiskAssessmentKind.values:
        errors["kind"] = "Select the kind of risk assessment"
    elif (
        kind == RiskAssessmentKind.INDIVIDUAL
        and resident.establishment.profile != Profile.IMMIGRATION_DETENTION
    ):
        errors["kind"] = "DSO 14: An individual risk assessment is only for people in immigration detention"
    if outcome not in RiskAssessmentOutcome.values:
        errors["outcome"] = "Select the outcome"
    if not rationale.strip():
        errors["rationale"] = "Enter the rationale"
    if review_date is not None and review_date < timezone.localdate():
        errors["review_date"] = "Review date must be today or in the future"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        assessment = RiskAssessment.objects.create(
            resident=resident,
            kind=kind,
            outcome=outcome,
            rationale=rationale.strip(),
            assessed_by=actor,
            assessed_at=timezone.now(),
            review_date=review_date,
        )
        audit_record(
            action="risk_assessment_recorded",
            actor=actor,
            subject=resident,
            establishment_code=resident.establishment.code,
            after={
                "risk_assessment": str(assessment.pk),
                "kind": kind,
                "outcome": outcome,
                "review_date": review_date,
            },
            policy_ids=["DSO 14"] if kind == RiskAssessmentKind.INDIVIDUAL else ["PF 4.9"],
        )
    return assessment


# --- Contact links -------------------------------------------------------------------------------------------------


def _link_snapshot(link: ContactLink) -> dict[str, Any]:
    return {
        "status": link.status,
        "source": link.source,
        "relationship": link.relationship,
        "child_contact_approved": link.child_contact_approved,
        "banned": link.banned,
        "status_reason": link.status_reason,
    }


#: What each decision does to a link, and which statuses it may come from.
_DECISIONS: dict[str, tuple[str, set[str]]] = {
    "approve": (LinkStatus.APPROVED, {LinkStatus.PENDING, LinkStatus.REJECTED, LinkStatus.REMOVED}),
    "reject": (LinkStatus.REJECTED, {LinkStatus.PENDING}),
    "remove": (LinkStatus.REMOVED, {LinkStatus.APPROVED}),
}


def contact_link_decide(
    *, link: ContactLink, actor: Any, decision: str, reason: str, source: str = ""
) -> ContactLink:
    """Approve, reject or remove a contact from a resident's list, with who, when and why. Approving needs the
    approved list the contact is on (PF 4.12). Removing flags future bookings for review (bookings app)."""
    if decision not in _DECISIONS:
        raise ValidationError({"decision": "Select what to do"})
    new_status, allowed_from = _DECISIONS[decision]
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = "Enter the reason"
    if decision == "approve" and source not in ContactSource.values:
        errors["source"] = "PF 4.12: Select the approved list the contact is on"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = (
            ContactLink.objects.select_for_update().select_related("resident__establishment").get(pk=link.pk)
        )
        if current.status not in allowed_from:
            raise ValidationError(
                f"This contact is {current.get_status_display().lower()}: you cannot {decision} it"
            )
        before = _link_snapshot(current)
        current.status = new_status
        if decision == "approve":
            current.source = source
        current.status_reason = reason.strip()
        current.status_changed_by = actor
        current.status_changed_at = timezone.now()
        current.save()
        audit_record(
            action=f"contact_link_{new_status}",
            actor=actor,
            subject=current,
            establishment_code=current.resident.establishment.code,
            before=before,
            after=_link_snapshot(current),
            policy_ids=["PF 4.12"],
        )
        if new_status in _FLAGGING_STATUSES:
            _flag_bookings_with(current, _FLAGGING_STATUSES[new_status], reason, actor)
    return current


#: Link changes that touch the calls already booked with that contact (PF 4.8: flagged for review).
_FLAGGING_STATUSES: dict[str, str] = {
    LinkStatus.REMOVED: "contact_removed",
    LinkStatus.REJECTED: "contact_rejected",
}


def _flag_bookings_with(link: ContactLink, cause: str, note: str, actor: Any) -> None:
    """Flag the resident's future calls with this contact for review, in the caller's transaction (PF 4.8)."""
    # Imported here: bookings builds on people, not the other way round.
    from kinship.bookings.services_staff import bookings_flag_for_review

    bookings_flag_for_review(
        resident=link.resident, contact=link.contact, cause=cause, note=note, actor=actor
    )


def contact_link_update(
    *,
    link: ContactLink,
    actor: Any,
    relationship: str,
    source: str,
    child_contact_approved: bool,
    banned: bool,
) -> ContactLink:
    """Change the details of a link: relationship, the approved list (PF 4.12), the child-contact list (PF 4.16)
    and the governor's ban on contacting this person by video (PF 4.10)."""
    errors: dict[str, str] = {}
    if not relationship.strip():
        errors["relationship"] = "Enter the relationship"
    if source and source not in ContactSource.values:
        errors["source"] = "PF 4.12: Select the approved list the contact is on"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = (
            ContactLink.objects.select_for_update().select_related("resident__establishment").get(pk=link.pk)
        )
        if current.status == LinkStatus.APPROVED and not source:
            raise ValidationError(
                {"source": "PF 4.12: An approved contact must be on one of the approved lists"}
            )
        before = _link_snapshot(current)
        current.relationship = relationship.strip()
        current.source = source
        current.child_contact_approved = child_contact_approved
        current.banned = banned
        current.save()
        after = _link_snapshot(current)
        rules = {"PF 4.12"}
        if before["child_contact_approved"] != child_contact_approved:
            rules.add("PF 4.16")
        if before["banned"] != banned:
            rules.add("PF 4.10")
        audit_record(
            action="contact_link_changed",
            actor=actor,
            subject=current,
            establishment_code=current.resident.establishment.code,
            before=before,
            after=after,
            policy_ids=sorted(rules),
        )
        if banned and not before["banned"]:
            _flag_bookings_with(
                current, "contact_banned", "The governor banned contact with this person by video", actor
            )
    return current


# --- Link requests -------------------------------------------------------------------------------------------------


def _pending_request(link_request: LinkRequest) -> LinkRequest:
    current = (
        LinkRequest.objects.select_for_update()
        .select_related("establishment", "contact")
        .get(pk=link_request.pk)
    )
    if current.status != LinkRequestStatus.PENDING:
        raise ValidationError("This request has already been decided")
    return current


def link_request_approve(
    *, link_request: LinkRequest, resident: Resident, actor: Any, source: str, reason: str = ""
) -> ContactLink:
    """A member of staff has matched the request to ``resident`` (one of the candidates whose name and date of
    birth, or identifier, match) and approves the contact for the list ``source`` (PF 4.12)."""
    from .selectors import link_request_candidates

    if source not in ContactSource.values:
        raise ValidationError({"source": "PF 4.12: Select the approved list the contact is on"})
    with transaction.atomic():
        current = _pending_request(link_request)
        if resident.pk not in {candidate.pk for candidate in link_request_candidates(current)}:
            raise ValidationError(
                {"resident": "Choose a person whose name and date of birth, or number, match the request"}
            )
        now = timezone.now()
        link = (
            ContactLink.objects.select_for_update().filter(resident=resident, contact=current.contact).first()
        )
        before = _link_snapshot(link) if link is not None else {}
        if link is None:
            link = ContactLink(resident=resident, contact=current.contact)
        link.relationship = current.relationship
        link.source = source
        link.status = LinkStatus.APPROVED
        link.status_changed_by = actor
        link.status_changed_at = now
        link.status_reason = reason.strip() or "Matched to the contact's request"
        link.requested_resident_name = f"{current.resident_first_name} {current.resident_last_name}"
        link.requested_resident_dob = current.resident_date_of_birth
        link.requested_resident_identifier = current.resident_identifier
        link.save()
        current.status = LinkRequestStatus.MATCHED
        current.decided_by = actor
        current.decided_at = now
        current.decision_reason = link.status_reason
        current.link = link
        current.save()
        audit_record(
            action="link_request_matched",
            actor=actor,
            subject=link,
            establishment_code=current.establishment.code,
            before=before,
            after={**_link_snapshot(link), "link_request": str(current.pk), "resident": str(resident.pk)},
            policy_ids=["PF 4.12"],
        )
    return link


def link_request_not_matched(*, link_request: LinkRequest, actor: Any, reason: str) -> LinkRequest:
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the request could not be matched"})
    with transaction.atomic():
        current = _pending_request(link_request)
        current.status = LinkRequestStatus.NOT_MATCHED
        current.decided_by = actor
        current.decided_at = timezone.now()
        current.decision_reason = reason.strip()
        current.save()
        audit_record(
            action="link_request_not_matched",
            actor=actor,
            subject=current,
            establishment_code=current.establishment.code,
            before={"status": LinkRequestStatus.PENDING},
            after={"status": current.status, "reason": current.decision_reason},
            policy_ids=["PF 4.12"],
        )
    return current
