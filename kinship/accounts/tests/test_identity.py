"""Identity verification: contacts upload two images (checked by content), staff at an establishment the contact
is linked or asking to be linked to review them; every viewing of an image is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kinship.accounts.models import IdentityVerification, User, VerificationStatus
from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.factories import ContactLinkFactory, EstablishmentFactory, staff_with
from kinship.people.models import Contact, LinkRequest

from .conftest import StaffClient, image_upload

pytestmark = pytest.mark.django_db

IDENTITY = reverse("accounts:identity")


def _upload(client: Client, photo_id: SimpleUploadedFile, photo_of_self: SimpleUploadedFile) -> Any:
    return client.post(IDENTITY, {"photo_id": photo_id, "photo_of_self": photo_of_self})


def test_a_contact_uploads_two_images(contact_client: Client, contact_user: User) -> None:
    assert "Upload a photo of your ID" in contact_client.get(IDENTITY).content.decode()
    response = _upload(contact_client, image_upload("passport.jpg", "JPEG"), image_upload("me.png", "PNG"))
    assert response.status_code == 302
    check = IdentityVerification.objects.get(user=contact_user)
    assert check.status == VerificationStatus.PENDING
    photo_id_name, photo_of_self_name = str(check.photo_id.name), str(check.photo_of_self.name)
    assert photo_id_name.endswith(".jpg")
    assert photo_of_self_name.endswith(".png")
    assert "passport" not in photo_id_name  # the person's file name is not used
    stored = Path(settings.MEDIA_ROOT) / photo_id_name
    assert stored.exists()
    assert AuditEvent.objects.filter(action="identity_submitted", subject_id=str(check.pk)).exists()
    page = contact_client.get(IDENTITY).content.decode()
    assert "Waiting for a check" in page
    assert "Upload a photo of your ID" not in page
    # No second submission while one is waiting.
    _upload(contact_client, image_upload(), image_upload())
    assert IdentityVerification.objects.filter(user=contact_user).count() == 1


@pytest.mark.parametrize(
    ("photo_id", "message"),
    [
        (
            SimpleUploadedFile("id.gif", b"GIF89a" + b"\0" * 20, content_type="image/gif"),
            "must be a JPG or PNG",
        ),
        (
            SimpleUploadedFile("id.png", b"this is not an image", content_type="image/png"),
            "must be a JPG or PNG",
        ),
        (SimpleUploadedFile("id.png", b"", content_type="image/png"), "The selected file is empty"),
        (
            SimpleUploadedFile("id.jpg", b"\xff\xd8" + b"\0" * (10 * 1024 * 1024), content_type="image/jpeg"),
            "must be smaller than 10MB",
        ),
    ],
    ids=["gif", "not-an-image", "empty", "too-large"],
)
def test_uploads_are_checked(contact_client: Client, photo_id: SimpleUploadedFile, message: str) -> None:
    response = _upload(contact_client, photo_id, image_upload())
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert message in html
    assert 'href="#id_photo_id"' in html
    assert not IdentityVerification.objects.exists()


def test_a_real_gif_is_refused(contact_client: Client) -> None:
    response = _upload(contact_client, image_upload("id.gif", "GIF"), image_upload())
    assert "must be a JPG or PNG" in response.content.decode()


def test_both_files_are_required(contact_client: Client) -> None:
    html = contact_client.post(IDENTITY, {}).content.decode()
    assert "Select a photo of your ID" in html
    assert "Select a photo of yourself" in html


@pytest.fixture
def pending_check(contact_client: Client, contact_user: User) -> IdentityVerification:
    _upload(contact_client, image_upload("id.jpg", "JPEG"), image_upload())
    return IdentityVerification.objects.get(user=contact_user)


@pytest.fixture
def establishment(contact_user: User) -> Establishment:
    """Where the contact is linked."""
    link = ContactLinkFactory(contact=Contact.objects.get(user=contact_user))
    establishment: Establishment = link.resident.establishment
    return establishment


@pytest.mark.parametrize("role", [Role.BOOKING_CLERK, Role.SECURITY, Role.GOVERNOR])
def test_reviewers_see_the_queue(
    staff_client: StaffClient, establishment: Establishment, pending_check: IdentityVerification, role: Role
) -> None:
    client = staff_client(staff_with(role, establishment))
    response = client.get(reverse("accounts:identity-queue", args=[establishment.code]))
    assert response.status_code == 200
    assert (
        reverse("accounts:identity-review", args=[establishment.code, pending_check.pk])
        in response.content.decode()
    )


def test_a_link_request_is_enough_for_the_establishment_to_see_the_check(
    staff_client: StaffClient, contact_user: User, pending_check: IdentityVerification
) -> None:
    elsewhere = EstablishmentFactory()
    LinkRequest.objects.create(
        contact=Contact.objects.get(user=contact_user),
        establishment=elsewhere,
        resident_first_name="A",
        resident_last_name="B",
        resident_date_of_birth="1990-01-01",
        relationship="Friend",
    )
    client = staff_client(staff_with(Role.BOOKING_CLERK, elsewhere))
    assert (
        client.get(reverse("accounts:identity-review", args=[elsewhere.code, pending_check.pk])).status_code
        == 200
    )


def test_staff_without_the_role_are_refused(
    staff_client: StaffClient, establishment: Establishment, pending_check: IdentityVerification
) -> None:
    client = staff_client(staff_with(Role.MONITORING_OFFICER, establishment))
    for url in [
        reverse("accounts:identity-queue", args=[establishment.code]),
        reverse("accounts:identity-review", args=[establishment.code, pending_check.pk]),
        reverse("accounts:identity-document", args=[establishment.code, pending_check.pk, "photo-id"]),
    ]:
        assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="identity_document_viewed").exists()


def test_staff_at_another_establishment_are_refused(
    staff_client: StaffClient, establishment: Establishment, pending_check: IdentityVerification
) -> None:
    other = EstablishmentFactory()
    client = staff_client(staff_with(Role.GOVERNOR, other))
    # No role where the contact is linked: refused.
    url = reverse("accounts:identity-document", args=[establishment.code, pending_check.pk, "photo-id"])
    assert client.get(url).status_code == 403
    # Through their own establishment, where the contact has no link: not found, and nothing is listed.
    assert (
        client.get(
            reverse("accounts:identity-document", args=[other.code, pending_check.pk, "photo-id"])
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("accounts:identity-review", args=[other.code, pending_check.pk])).status_code
        == 404
    )
    queue = client.get(reverse("accounts:identity-queue", args=[other.code])).content.decode()
    assert str(pending_check.pk) not in queue
    assert not AuditEvent.objects.filter(action="identity_document_viewed").exists()


def test_contacts_and_anonymous_people_cannot_see_documents(
    contact_client: Client, establishment: Establishment, pending_check: IdentityVerification
) -> None:
    url = reverse("accounts:identity-document", args=[establishment.code, pending_check.pk, "photo-id"])
    assert contact_client.get(url).status_code == 403
    assert Client().get(url).status_code == 302


def test_documents_are_streamed_to_authorised_staff_and_audited(
    staff_client: StaffClient, establishment: Establishment, pending_check: IdentityVerification
) -> None:
    reviewer = staff_with(Role.SECURITY, establishment)
    client = staff_client(reviewer)
    response = client.get(
        reverse("accounts:identity-document", args=[establishment.code, pending_check.pk, "photo-id"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"\xff\xd8")
    response = client.get(
        reverse("accounts:identity-document", args=[establishment.code, pending_check.pk, "photo-of-self"])
    )
    assert response["Content-Type"] == "image/png"
    events = AuditEvent.objects.filter(action="identity_document_viewed", actor_id=reviewer.pk)
    assert sorted(e.after["document"] for e in events) == ["photo-id", "photo-of-self"]
    assert {e.establishment_code for e in events} == {establishment.code}
    bogus = reverse("accounts:identity-document", args=[establishment.code, pending_check.pk, "other"])
    assert client.get(bogus).status_code == 404


def test_rejecting_needs_a_reason_and_is_audited(
    staff_client: StaffClient,
    contact_client: Client,
    establishment: Establishment,
    pending_check: IdentityVerification,
) -> None:
    reviewer = staff_with(Role.BOOKING_CLERK, establishment)
    client = staff_client(reviewer)
    url = reverse("accounts:identity-review", args=[establishment.code, pending_check.pk])
    response = client.post(url, {"decision": "rejected", "reason": ""})
    assert "Enter why you are rejecting this identity check" in response.content.decode()
    assert "Select whether you verify or reject" in client.post(url, {}).content.decode()
    response = client.post(url, {"decision": "rejected", "reason": "The ID photo is blurred."})
    assert response.status_code == 302
    pending_check.refresh_from_db()
    assert pending_check.status == VerificationStatus.REJECTED
    assert pending_check.reviewed_by == reviewer
    event = AuditEvent.objects.get(action="identity_rejected")
    assert event.after["reason"] == "The ID photo is blurred."
    assert event.establishment_code == establishment.code
    # The contact sees why and may send new photos.
    page = contact_client.get(IDENTITY).content.decode()
    assert "The ID photo is blurred." in page
    assert "Upload a photo of your ID" in page


def test_verifying(
    staff_client: StaffClient, establishment: Establishment, pending_check: IdentityVerification
) -> None:
    client = staff_client(staff_with(Role.GOVERNOR, establishment))
    url = reverse("accounts:identity-review", args=[establishment.code, pending_check.pk])
    assert client.post(url, {"decision": "verified"}).status_code == 302
    pending_check.refresh_from_db()
    assert pending_check.status == VerificationStatus.VERIFIED
    assert AuditEvent.objects.filter(action="identity_verified").exists()
    # The contact may now book: their record carries the result.
    assert (
        Contact.objects.get(user_id=pending_check.user_id).identity_verified_at == pending_check.reviewed_at
    )
    # Decided checks leave the queue and cannot be decided again.
    assert (
        str(pending_check.pk)
        not in client.get(reverse("accounts:identity-queue", args=[establishment.code])).content.decode()
    )
    client.post(url, {"decision": "rejected", "reason": "x"})
    pending_check.refresh_from_db()
    assert pending_check.status == VerificationStatus.VERIFIED
