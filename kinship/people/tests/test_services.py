"""People services: residents, compacts, risk assessments, contact links and link requests, each audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kinship.audit.models import AuditEvent
from kinship.factories import (
    CompactTextFactory,
    ContactFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    IrcFactory,
    ResidentFactory,
    StaffFactory,
)
from kinship.people import selectors, services
from kinship.people.models import (
    CompactKind,
    ContactLink,
    LinkRequest,
    LinkRequestStatus,
    LinkStatus,
    SupportNeed,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    return StaffFactory()


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


RESIDENT = {
    "identifier": "a1234bc",
    "first_name": "Jo",
    "last_name": "Bloggs",
    "date_of_birth": date(1980, 1, 2),
    "location": "B wing",
    "language": "Welsh",
    "support_needs": [SupportNeed.PHYSICAL, SupportNeed.HEARING],
    "support_notes": "",
    "e_list": False,
    "pprc": False,
    "harassment_measures": False,
    "imminent_removal_directions": False,
    "large_family_exception": False,
    "sex": "",
    "ethnicity": "Prefer not to say",
    "religion": "",
    "disability": "",
}


# --- Residents -----------------------------------------------------------------------------------------------------


def test_adding_a_resident_is_audited_without_protected_characteristics(clerk):
    place = EstablishmentFactory()
    resident = services.resident_create(establishment=place, actor=clerk, **RESIDENT)
    assert resident.identifier == "A1234BC"
    assert resident.support_needs == ["physical", "hearing"]
    event = _last("resident_created")
    assert event.establishment_code == place.code
    assert event.after["first_name"] == "Jo"
    assert event.after["ethnicity"] == "recorded"
    assert "Prefer not to say" not in str(event.after)
    assert "PF 4.5" in event.policy_ids


def test_changing_a_resident_records_only_what_changed(clerk):
    resident = ResidentFactory()
    services.resident_update(resident=resident, actor=clerk, e_list=True, location="Seg")
    event = _last("resident_changed")
    assert event.before == {"e_list": False, "location": "A wing"}
    assert event.after == {"e_list": True, "location": "Seg"}
    assert event.policy_ids == ["PF 4.22"]


def test_identifiers_are_unique(clerk):
    ResidentFactory(identifier="A1234BC")
    with pytest.raises(ValidationError) as refused:
        services.resident_create(establishment=EstablishmentFactory(), actor=clerk, **RESIDENT)
    assert "identifier" in refused.value.message_dict


def test_support_needs_come_from_the_list(clerk):
    with pytest.raises(ValidationError):
        services.resident_update(resident=ResidentFactory(), actor=clerk, support_needs=["flying"])


def test_viewing_a_record_is_audited(clerk):
    resident = ResidentFactory()
    services.resident_record_viewed(resident=resident, actor=clerk)
    event = _last("resident_viewed")
    assert event.subject_id == str(resident.pk)
    assert event.actor == clerk


# --- Compacts ------------------------------------------------------------------------------------------------------


def test_recording_a_signed_compact(clerk):
    resident = ResidentFactory()
    text = CompactTextFactory(kind=CompactKind.PRISON, language="Polish")
    record = services.compact_record(
        resident=resident, actor=clerk, text=text, outcome="signed", language="Polish", interpreter_used=True
    )
    assert record.explained_by == clerk
    assert record.interpreter_used
    event = _last("compact_recorded")
    assert event.after["outcome"] == "signed"
    assert event.after["interpreter_used"] is True
    assert event.policy_ids == ["PF 4.9"]


def test_a_refusal_to_sign_cites_pf_4_11(clerk):
    services.compact_record(
        resident=ResidentFactory(),
        actor=clerk,
        text=CompactTextFactory(),
        outcome="refused",
        language="English",
        interpreter_used=False,
    )
    assert set(_last("compact_recorded").policy_ids) == {"PF 4.9", "PF 4.11"}


def test_an_irc_resident_signs_the_centre_compact_not_the_prison_one(clerk):
    resident = ResidentFactory(establishment=IrcFactory())
    with pytest.raises(ValidationError) as refused:
        services.compact_record(
            resident=resident,
            actor=clerk,
            text=CompactTextFactory(kind=CompactKind.PRISON),
            outcome="signed",
            language="English",
            interpreter_used=False,
        )
    assert refused.value.message_dict["text"][0].startswith("DSO 10:")
    services.compact_record(
        resident=resident,
        actor=clerk,
        text=CompactTextFactory(kind=CompactKind.IRC),
        outcome="signed",
        language="Arabic",
        interpreter_used=True,
    )
    assert set(_last("compact_recorded").policy_ids) == {"DSO 10", "DSO 15"}


def test_compact_texts_are_unique_per_kind_version_and_language(clerk):
    place = EstablishmentFactory()
    services.compact_text_create(
        actor=clerk, establishment=place, kind="prison", version="2", language="English", body="Rules"
    )
    with pytest.raises(ValidationError):
        services.compact_text_create(
            actor=clerk, establishment=place, kind="prison", version="2", language="english", body="Rules"
        )
    assert _last("compact_text_created").after == {"kind": "prison", "version": "2", "language": "English"}


# --- Risk assessments ----------------------------------------------------------------------------------------------


def test_recording_an_eligibility_assessment(clerk):
    resident = ResidentFactory()
    review = timezone.localdate() + timedelta(days=90)
    assessment = services.risk_assessment_record(
        resident=resident,
        actor=clerk,
        kind="eligibility",
        outcome="allow",
        rationale="No concerns",
        review_date=review,
    )
    assert assessment.assessed_by == clerk
    event = _last("risk_assessment_recorded")
    assert event.after["review_date"] == review.isoformat()
    assert event.policy_ids == ["PF 4.9"]


def test_an_individual_assessment_is_for_immigration_detention_only(clerk):
    with pytest.raises(ValidationError) as refused:
        services.risk_assessment_record(
            resident=ResidentFactory(),
            actor=clerk,
            kind="individual",
            outcome="allow",
            rationale="x",
            review_date=None,
        )
    assert refused.value.message_dict["kind"][0].startswith("DSO 14:")
    services.risk_assessment_record(
        resident=ResidentFactory(establishment=IrcFactory(), harassment_measures=True),
        actor=clerk,
        kind="individual",
        outcome="allow",
        rationale="MAPPA level 1, victim not a contact",
        review_date=None,
    )
    assert _last("risk_assessment_recorded").policy_ids == ["DSO 14"]


def test_a_review_date_cannot_be_in_the_past(clerk):
    with pytest.raises(ValidationError) as refused:
        services.risk_assessment_record(
            resident=ResidentFactory(),
            actor=clerk,
            kind="eligibility",
            outcome="allow",
            rationale="x",
            review_date=timezone.localdate() - timedelta(days=1),
        )
    assert "review_date" in refused.value.message_dict


# --- Contact links -------------------------------------------------------------------------------------------------


def test_approving_a_contact_records_who_when_why_and_which_list(clerk):
    link = ContactLinkFactory(status=LinkStatus.PENDING, source="")
    services.contact_link_decide(
        link=link, actor=clerk, decision="approve", reason="On visits list", source="visits_list"
    )
    link.refresh_from_db()
    assert link.status == LinkStatus.APPROVED
    assert link.source == "visits_list"
    assert link.status_changed_by == clerk
    assert link.status_changed_at is not None
    assert link.status_reason == "On visits list"
    event = _last("contact_link_approved")
    assert event.before["status"] == "pending"
    assert event.after["status"] == "approved"


def test_approving_needs_the_approved_list_and_a_reason(clerk):
    link = ContactLinkFactory(status=LinkStatus.PENDING, source="")
    with pytest.raises(ValidationError) as refused:
        services.contact_link_decide(link=link, actor=clerk, decision="approve", reason="", source="")
    assert refused.value.message_dict["source"][0].startswith("PF 4.12:")
    assert "reason" in refused.value.message_dict


@pytest.mark.parametrize(
    ("start", "decision", "end"),
    [
        ("pending", "reject", "rejected"),
        ("approved", "remove", "removed"),
        ("removed", "approve", "approved"),
    ],
)
def test_link_decisions(clerk, start, decision, end):
    link = ContactLinkFactory(status=start)
    services.contact_link_decide(
        link=link, actor=clerk, decision=decision, reason="Because", source="phone_list"
    )
    link.refresh_from_db()
    assert link.status == end
    assert _last(f"contact_link_{end}").after["status_reason"] == "Because"


def test_a_decision_that_does_not_fit_the_status_is_refused(clerk):
    with pytest.raises(ValidationError):
        services.contact_link_decide(
            link=ContactLinkFactory(status=LinkStatus.APPROVED), actor=clerk, decision="reject", reason="x"
        )


def test_changing_child_contact_approval_and_ban_is_audited_with_the_rules(clerk):
    link = ContactLinkFactory()
    services.contact_link_update(
        link=link,
        actor=clerk,
        relationship="Daughter",
        source="phone_list",
        child_contact_approved=True,
        banned=True,
    )
    event = _last("contact_link_changed")
    assert event.before["banned"] is False
    assert event.after["banned"] is True
    assert set(event.policy_ids) == {"PF 4.10", "PF 4.12", "PF 4.16"}


def test_an_approved_contact_must_stay_on_a_list(clerk):
    with pytest.raises(ValidationError) as refused:
        services.contact_link_update(
            link=ContactLinkFactory(),
            actor=clerk,
            relationship="Son",
            source="",
            child_contact_approved=False,
            banned=False,
        )
    assert refused.value.message_dict["source"][0].startswith("PF 4.12:")


# --- Link requests -------------------------------------------------------------------------------------------------


def _request(place, **details) -> LinkRequest:
    values = {
        "contact": ContactFactory(),
        "establishment": place,
        "resident_first_name": "alex",
        "resident_last_name": "SMITH",
        "resident_date_of_birth": date(1990, 5, 17),
        "relationship": "Mother",
        **details,
    }
    return LinkRequest.objects.create(**values)


def test_candidates_match_names_in_any_case_and_the_exact_date_of_birth():
    place = EstablishmentFactory()
    match = ResidentFactory(
        establishment=place, first_name="Alex", last_name="Smith", date_of_birth=date(1990, 5, 17)
    )
    ResidentFactory(
        establishment=place, first_name="Alex", last_name="Smith", date_of_birth=date(1990, 5, 18)
    )
    ResidentFactory(
        establishment=place, first_name="Alexa", last_name="Smith", date_of_birth=date(1990, 5, 17)
    )
    ResidentFactory(
        establishment=EstablishmentFactory(),
        first_name="Alex",
        last_name="Smith",
        date_of_birth=date(1990, 5, 17),
    )
    ResidentFactory(
        establishment=place,
        first_name="Alex",
        last_name="Smith",
        date_of_birth=date(1990, 5, 17),
        released_at=timezone.now(),
    )
    request = _request(place)
    assert selectors.link_request_candidates(request) == [match]
    assert selectors.candidates_for_requests(place, [request]) == {request.pk: [match]}


def test_candidates_also_match_on_the_identifier():
    place = EstablishmentFactory()
    by_number = ResidentFactory(
        establishment=place, identifier="Z9999ZZ", first_name="Someone", last_name="Else"
    )
    request = _request(place, resident_identifier="z9999zz")
    assert selectors.link_request_candidates(request) == [by_number]


def test_approving_a_request_makes_an_approved_link_from_the_chosen_list(clerk):
    place = EstablishmentFactory()
    resident = ResidentFactory(establishment=place, first_name="Alex", last_name="Smith")
    request = _request(place)
    assert not ContactLink.objects.exists()  # never made automatically
    link = services.link_request_approve(
        link_request=request, resident=resident, actor=clerk, source="phone_list"
    )
    request.refresh_from_db()
    assert link.status == LinkStatus.APPROVED
    assert link.source == "phone_list"
    assert link.contact == request.contact
    assert link.relationship == "Mother"
    assert link.status_changed_by == clerk
    assert link.requested_resident_dob == date(1990, 5, 17)
    assert request.status == LinkRequestStatus.MATCHED
    assert request.link == link
    assert request.decided_by == clerk
    event = _last("link_request_matched")
    assert event.after["link_request"] == str(request.pk)
    assert event.policy_ids == ["PF 4.12"]


def test_a_request_can_only_be_linked_to_a_matching_resident(clerk):
    place = EstablishmentFactory()
    ResidentFactory(establishment=place, first_name="Alex", last_name="Smith")
    stranger = ResidentFactory(establishment=place, first_name="Pat", last_name="Jones")
    request = _request(place)
    with pytest.raises(ValidationError) as refused:
        services.link_request_approve(
            link_request=request, resident=stranger, actor=clerk, source="phone_list"
        )
    assert "resident" in refused.value.message_dict
    assert not ContactLink.objects.exists()


def test_approving_reuses_an_earlier_link(clerk):
    place = EstablishmentFactory()
    resident = ResidentFactory(establishment=place, first_name="Alex", last_name="Smith")
    request = _request(place)
    old = ContactLinkFactory(resident=resident, contact=request.contact, status=LinkStatus.REMOVED)
    link = services.link_request_approve(
        link_request=request, resident=resident, actor=clerk, source="visits_list"
    )
    assert link.pk == old.pk
    assert _last("link_request_matched").before["status"] == "removed"


def test_a_request_that_cannot_be_matched_records_why(clerk):
    request = _request(EstablishmentFactory())
    services.link_request_not_matched(link_request=request, actor=clerk, reason="No one of that name here")
    request.refresh_from_db()
    assert request.status == LinkRequestStatus.NOT_MATCHED
    assert request.decision_reason == "No one of that name here"
    assert _last("link_request_not_matched").after["reason"] == "No one of that name here"
    with pytest.raises(ValidationError):
        services.link_request_not_matched(link_request=request, actor=clerk, reason="Again")


def test_a_request_cannot_be_marked_unmatched_without_a_reason(clerk):
    with pytest.raises(ValidationError):
        services.link_request_not_matched(
            link_request=_request(EstablishmentFactory()), actor=clerk, reason=" "
        )
