"""Incidents (DSO 11, DSO 12, DSO 19, DSO Annex A): created by hand or by a termination, routed to security,
marked for police referral where the policy says so, with a history until closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kinship.audit.models import AuditEvent
from kinship.bookings.models import Booking, BookingStatus, RequestChannel
from kinship.bookings.references import new_reference
from kinship.bookings.tests.factories import SlotFactory
from kinship.core.roles import Role
from kinship.factories import ContactFactory, EstablishmentFactory, ResidentFactory, staff_with
from kinship.notifications.models import Notification
from kinship.safeguarding import services_welfare as services
from kinship.safeguarding.models import Incident, IncidentReason, IncidentSource, IncidentStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 10, 14, 0, tzinfo=UTC)


def booking_for(resident, **fields) -> Booking:
    return Booking.objects.create(
        reference=new_reference(),
        slot=SlotFactory(establishment=resident.establishment),
        resident=resident,
        lead_contact=ContactFactory(),
        requested_by=RequestChannel.CONTACT,
        requested_at=timezone.now(),
        status=fields.pop("status", BookingStatus.COMPLETED),
        **fields,
    )


@pytest.fixture
def prison():
    return EstablishmentFactory()


@pytest.fixture
def resident(prison):
    return ResidentFactory(establishment=prison)


@pytest.fixture
def officer(prison):
    return staff_with(Role.SUPERVISING_OFFICER, prison)


@pytest.fixture
def security(prison):
    return staff_with(Role.SECURITY, prison, email="security@example.gov.uk")


def _create(prison, resident, officer, reason=IncidentReason.DRESS, **kwargs):
    return services.incident_create(
        establishment=prison,
        resident=resident,
        reason=reason,
        details=kwargs.pop("details", "Came to the call in a vest"),
        actor=officer,
        now=NOW,
        **kwargs,
    )


def test_an_incident_is_recorded_open_with_history_and_audited(prison, resident, officer):
    incident = _create(prison, resident, officer)
    assert incident.status == IncidentStatus.OPEN
    assert incident.police_referral is False
    assert [event.status for event in incident.events.all()] == [IncidentStatus.OPEN]
    event = AuditEvent.objects.get(action="incident_created", subject_id=str(incident.pk))
    assert set(event.policy_ids) == {"DSO 12", "DSO 19"}
    assert event.establishment_code == prison.code


def test_the_security_staff_of_the_establishment_are_emailed(prison, resident, officer, security):
    elsewhere = staff_with(Role.SECURITY, EstablishmentFactory(), email="other@example.gov.uk")
    staff_with(Role.BOOKING_CLERK, prison, email="clerk@example.gov.uk")
    _create(prison, resident, officer)
    recipients = list(Notification.objects.values_list("recipient", flat=True))
    assert recipients == [security.email]
    assert elsewhere.email not in recipients
    assert "Incident report for security" in Notification.objects.get().personalisation["subject"]


@pytest.mark.parametrize(
    ("reason", "referred"),
    [
        (IncidentReason.RECORDING_THE_CALL, True),
        (IncidentReason.UNLAWFUL_ACTIVITY, True),
        (IncidentReason.SEXUALISED_BEHAVIOUR, False),
        (IncidentReason.SECURITY_RISK, False),
    ],
)
def test_recording_and_unlawful_activity_are_marked_for_police_referral(
    prison, resident, officer, reason, referred
):
    incident = _create(prison, resident, officer, reason=reason)
    assert incident.police_referral is referred
    assert incident.police_referral_required is referred
    event = AuditEvent.objects.get(action="incident_created")
    assert ("DSO Annex A" in event.policy_ids) is referred


def test_details_and_reason_are_required(prison, resident, officer):
    with pytest.raises(ValidationError) as refused:
        _create(prison, resident, officer, reason="shouting", details="  ")
    assert set(refused.value.message_dict) == {"reason", "details"}
    assert "DSO 19" in refused.value.message_dict["details"][0]
    assert not Incident.objects.exists()


def test_a_resident_from_another_establishment_is_refused(prison, officer):
    stranger = ResidentFactory(establishment=EstablishmentFactory())
    with pytest.raises(ValidationError):
        _create(prison, stranger, officer)


def test_termination_creates_an_incident_for_the_call(prison, resident, officer, security):
    booking = booking_for(resident)
    incident = services.incident_create_for_termination(
        booking=booking, reason="recording_the_call", details="Phone held up to the screen", actor=officer
    )
    assert incident.source == IncidentSource.TERMINATION
    assert incident.booking == booking
    assert incident.establishment == prison
    assert incident.police_referral is True
    assert "DSO 11" in AuditEvent.objects.get(action="incident_created").policy_ids


def _update(incident, actor, **changes):
    values = {
        "status": incident.status,
        "note": "",
        "police_referral": incident.police_referral,
        "police_reference": incident.police_reference,
        "body_worn_camera_used": incident.body_worn_camera_used,
        "body_worn_camera_reference": incident.body_worn_camera_reference,
        "ban_considered": incident.ban_considered,
    }
    values.update(changes)
    return services.incident_update(incident=incident, actor=actor, now=NOW + timedelta(hours=1), **values)


def test_security_moves_an_incident_through_its_statuses_until_closed(prison, resident, officer, security):
    incident = _create(prison, resident, officer, reason=IncidentReason.UNLAWFUL_ACTIVITY)
    incident = _update(incident, security, status=IncidentStatus.UNDER_INVESTIGATION, note="Looking at it")
    incident = _update(
        incident,
        security,
        status=IncidentStatus.REFERRED_TO_POLICE,
        police_reference="PR-123",
        body_worn_camera_used=True,
        body_worn_camera_reference="BWC-9",
        ban_considered=True,
    )
    incident = _update(incident, security, status=IncidentStatus.CLOSED, note="Police took it on")
    assert incident.closed_at is not None
    assert [event.status for event in incident.events.order_by("occurred_at", "created_at")] == [
        IncidentStatus.OPEN,
        IncidentStatus.UNDER_INVESTIGATION,
        IncidentStatus.REFERRED_TO_POLICE,
        IncidentStatus.CLOSED,
    ]
    actions = list(AuditEvent.objects.filter(subject_id=str(incident.pk)).values_list("action", flat=True))
    assert actions == ["incident_created", "incident_updated", "incident_updated", "incident_closed"]
    with pytest.raises(ValidationError):
        _update(incident, security, status=IncidentStatus.UNDER_INVESTIGATION)


def test_a_referral_needs_a_police_reference(prison, resident, officer, security):
    incident = _create(prison, resident, officer, reason=IncidentReason.RECORDING_THE_CALL)
    with pytest.raises(ValidationError) as refused:
        _update(incident, security, status=IncidentStatus.REFERRED_TO_POLICE)
    assert "police_reference" in refused.value.message_dict


def test_a_required_police_referral_cannot_be_unmarked(prison, resident, officer, security):
    incident = _create(prison, resident, officer, reason=IncidentReason.RECORDING_THE_CALL)
    with pytest.raises(ValidationError) as refused:
        _update(incident, security, police_referral=False)
    assert "police_referral" in refused.value.message_dict


def test_closing_needs_an_outcome(prison, resident, officer, security):
    incident = _create(prison, resident, officer)
    with pytest.raises(ValidationError) as refused:
        _update(incident, security, status=IncidentStatus.CLOSED, note="")
    assert "note" in refused.value.message_dict


def test_a_footage_reference_needs_the_camera_to_have_been_used(prison, resident, officer):
    with pytest.raises(ValidationError) as refused:
        _create(prison, resident, officer, body_worn_camera_reference="BWC-1")
    assert "body_worn_camera_used" in refused.value.message_dict
