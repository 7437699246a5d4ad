"""Security staff's recording pages: the access table, the list's fixed query count, the reason asked before
anything plays (PF 1.3, PF 4.23), the playback log, and streaming with HTTP Range requests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kinship.audit.models import AuditEvent
from kinship.calls.models import Call, CallState
from kinship.calls.tests.conftest import book, monitoring_terminal
from kinship.core.roles import Role
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.establishments.tests.access import (
    Page,
    World,
    build_world,
    case_id,
    check_anonymous,
    check_contact,
    check_role,
    check_role_elsewhere,
    role_cases,
)
from kinship.factories import StaffFactory, staff_with
from kinship.recordings import services, views
from kinship.recordings.models import Recording, RecordingPlayback, RecordingStatus
from kinship.recordings.views import RECORDING_VIEWERS, RangeNotSatisfiable, byte_range
from kinship.safeguarding.services_welfare import incident_create
from kinship.testing import sign_in_with_2fa

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 40  # 10 240 bytes standing in for a WebM
DEVICE_SECRET = "device-secret"  # what kinship.calls.tests.conftest.monitoring_terminal registers


def make_recording(establishment: Any, *, status: str = RecordingStatus.READY) -> Recording:
    booking = book(establishment)
    now = timezone.now()
    call = Call.objects.create(
        booking=booking,
        establishment=establishment,
        state=CallState.ENDED,
        recorded=True,
        opened_at=now - timedelta(hours=1),
        live_at=now - timedelta(hours=1),
        ended_at=now - timedelta(minutes=30),
    )
    recording = Recording.objects.create(
        call=call,
        establishment=establishment,
        status=status,
        recorded_at=call.live_at,
        retention_expires_at=call.live_at + timedelta(days=90),
        participants=["Person in custody", "Contact"],
    )
    if status == RecordingStatus.READY:
        recording.file.save("recording.webm", ContentFile(CONTENT), save=False)
        recording.sha256, recording.size_bytes, recording.duration_seconds = "ab" * 32, len(CONTENT), 1800.0
        recording.save()
    return recording


def _recording(world: World) -> dict[str, Any]:
    return {"recording_id": make_recording(world.establishment).pk}


PAGES = [
    Page("recordings:list", RECORDING_VIEWERS),
    Page("recordings:play", RECORDING_VIEWERS, _recording),
    # Reached only through a playback of one's own: tested below with one made for each role.
    Page("recordings:playback", RECORDING_VIEWERS),
    Page("recordings:media", RECORDING_VIEWERS),
]
TABLED = PAGES[:2]
PLAYBACK_PAGES = PAGES[2:]


def test_the_roles_are_the_policy_engines_monitoring_roles():
    """PF 4.23 (live or recorded) and PF 1.3: security and monitoring officers, nobody else."""
    assert {Role.SECURITY, Role.MONITORING_OFFICER} == RECORDING_VIEWERS


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases(TABLED)), ids=case_id)
def test_each_role_is_let_in_or_refused(client, page, role, allowed):
    check_role(client, page, role, allowed)


@pytest.mark.parametrize("page", TABLED, ids=case_id)
def test_a_role_at_another_establishment_is_refused(client, page):
    check_role_elsewhere(client, page)


@pytest.mark.parametrize("page", TABLED, ids=case_id)
def test_contacts_are_refused(client, page):
    check_contact(client, page)


@pytest.mark.parametrize("page", TABLED, ids=case_id)
def test_anonymous_people_are_sent_to_sign_in(client, page):
    check_anonymous(client, page)


def _playback_url(page: Page, playback: RecordingPlayback, establishment: Any = None) -> str:
    place = establishment or playback.recording.establishment
    return reverse(
        page.name,
        kwargs={
            "establishment": place.code,
            "recording_id": playback.recording_id,
            "playback_id": playback.pk,
        },
    )


def _own_playback(world: World, viewer: Any) -> RecordingPlayback:
    """A playback made straight in the database, so the role gate alone decides."""
    terminal = monitoring_terminal(world.establishment)
    return RecordingPlayback.objects.create(
        recording=make_recording(world.establishment),
        viewer=viewer,
        reason="Intelligence report 42",
        started_at=timezone.now(),
        terminal=terminal,
    )


@pytest.mark.parametrize(("page", "role", "allowed"), list(role_cases(PLAYBACK_PAGES)), ids=case_id)
def test_each_role_is_let_in_or_refused_even_with_a_playback_of_its_own(client, page, role, allowed):
    world = build_world()
    staff = StaffFactory(roles=[(world.establishment, role)])
    playback = _own_playback(world, staff)
    client = sign_in_with_2fa(client, staff)
    client.cookies[TERMINAL_COOKIE_NAME] = DEVICE_SECRET
    response = client.get(_playback_url(page, playback))
    assert response.status_code == (200 if allowed else 403), (page.name, role, response.status_code)


@pytest.mark.parametrize("page", PLAYBACK_PAGES, ids=case_id)
def test_the_playback_pages_refuse_other_establishments_contacts_and_anonymous_people(client, page):
    world = build_world()
    staff = StaffFactory(roles=[(world.elsewhere, role) for role in page.roles])
    playback = _own_playback(world, staff)
    url = _playback_url(page, playback)
    assert client.get(url).status_code == 302
    client.force_login(world.contact.user)
    assert client.get(url).status_code == 403
    client = sign_in_with_2fa(client, staff)
    client.cookies[TERMINAL_COOKIE_NAME] = DEVICE_SECRET
    assert client.get(url).status_code == 403
    assert client.get(_playback_url(page, playback, world.elsewhere)).status_code == 404


# --- The list -------------------------------------------------------------------------------------------------------


def test_the_list_shows_the_establishments_recordings_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    world = build_world()
    security = staff_with(Role.SECURITY, world.establishment)
    client = sign_in_with_2fa(client, security)
    url = reverse("recordings:list", kwargs={"establishment": world.establishment.code})
    make_recording(world.establishment)
    make_recording(world.elsewhere)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b"recordings/") >= 1

    held = make_recording(world.establishment)
    incident_create(
        establishment=world.establishment,
        resident=held.call.booking.resident,
        reason="unlawful_activity",
        details="Passing drugs",
        actor=security,
        booking=held.call.booking,
    )
    for _ in range(4):
        make_recording(world.establishment, status=RecordingStatus.FAILED)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    page = response.content.decode()
    assert page.count('class="govuk-table__row"') == 1 + 6
    assert "Held for an investigation" in page
    assert held.call.booking.resident.full_name in page


# --- Playing --------------------------------------------------------------------------------------------------------


@pytest.fixture
def at_terminal(client):
    world = build_world()
    security = staff_with(Role.SECURITY, world.establishment)
    monitoring_terminal(world.establishment)
    client = sign_in_with_2fa(client, security)
    client.cookies[TERMINAL_COOKIE_NAME] = DEVICE_SECRET
    recording = make_recording(world.establishment)
    url = reverse(
        "recordings:play", kwargs={"establishment": world.establishment.code, "recording_id": recording.pk}
    )
    return client, security, recording, url


def test_pf_4_23_a_reason_is_required_before_anything_plays(at_terminal):
    client, _, _, url = at_terminal
    page = client.get(url).content.decode()
    assert "<video" not in page
    assert "Why are you opening this recording?" in page

    response = client.post(url, {"reason": "  "})

    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page
    assert "PF 4.23: Say why you are opening this recording" in page
    assert "<video" not in page
    assert not RecordingPlayback.objects.exists()


def test_pf_4_23_recordings_play_only_on_a_registered_monitoring_terminal(at_terminal):
    client, _, _, url = at_terminal
    del client.cookies[TERMINAL_COOKIE_NAME]
    assert "not a registered monitoring terminal" in client.get(url).content.decode()
    response = client.post(url, {"reason": "Intelligence report 42"})
    assert response.status_code == 200
    assert (
        "PF 4.23: The monitoring view can only be opened on a registered terminal."
        in response.content.decode()
    )
    assert not RecordingPlayback.objects.exists()


def test_pf_1_3_each_playback_is_logged_and_audited_then_the_video_plays(at_terminal):
    client, security, recording, url = at_terminal
    response = client.post(url, {"reason": "Intelligence report 42"}, REMOTE_ADDR="10.1.2.3")

    playback = RecordingPlayback.objects.get()
    assert (playback.recording, playback.viewer, playback.reason, playback.ip_address) == (
        recording,
        security,
        "Intelligence report 42",
        "10.1.2.3",
    )
    assert playback.terminal.kind == "monitoring"
    event = AuditEvent.objects.get(action="recording_played")
    assert event.subject_id == str(playback.pk)
    assert event.after["reason"] == "Intelligence report 42"
    assert set(event.policy_ids) == {"PF 1.3", "PF 4.23"}

    assert response.status_code == 302
    page = client.get(response["Location"])
    media_url = reverse(
        "recordings:media",
        kwargs={
            "establishment": recording.establishment.code,
            "recording_id": recording.pk,
            "playback_id": playback.pk,
        },
    )
    assert f'src="{media_url}"' in page.content.decode()
    assert "<script" not in page.content.decode().split("<video")[1].split("</video>")[0]
    # The log shows on the recording's page.
    assert "Intelligence report 42" in client.get(url).content.decode()

    whole = client.get(media_url)
    assert whole.status_code == 200
    assert whole["Content-Type"] == "video/webm"
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Cache-Control"] == "private, no-store"
    assert b"".join(whole.streaming_content) == CONTENT


def _play(at_terminal) -> tuple[Any, str]:
    client, _, _, url = at_terminal
    location = client.post(url, {"reason": "Intelligence report 42"})["Location"]
    return client, location + "media"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_range_requests_let_the_player_seek(at_terminal, header, first, last):
    client, media_url = _play(at_terminal)
    response = client.get(media_url, HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response.content == CONTENT[first : last + 1]


def test_a_long_range_is_answered_in_parts(at_terminal, monkeypatch):
    monkeypatch.setattr(views, "RANGE_LIMIT", 4096)
    client, media_url = _play(at_terminal)
    parts = b""
    while len(parts) < len(CONTENT):
        response = client.get(media_url, HTTP_RANGE=f"bytes={len(parts)}-")
        assert response.status_code == 206
        assert len(response.content) <= 4096
        assert (
            response["Content-Range"]
            == f"bytes {len(parts)}-{len(parts) + len(response.content) - 1}/{len(CONTENT)}"
        )
        parts += response.content
    assert parts == CONTENT


def test_a_range_beyond_the_end_is_not_satisfiable(at_terminal):
    client, media_url = _play(at_terminal)
    response = client.get(media_url, HTTP_RANGE=f"bytes={len(CONTENT)}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"


def test_byte_ranges():
    assert byte_range("", 100) is None
    assert byte_range("bytes=0-9,20-29", 100) is None
    assert byte_range("items=0-9", 100) is None
    assert byte_range("bytes=5-", 100) == (5, 99)
    assert byte_range("bytes=-200", 100) == (0, 99)
    for unsatisfiable in ("bytes=100-", "bytes=9-5", "bytes=-0"):
        with pytest.raises(RangeNotSatisfiable):
            byte_range(unsatisfiable, 100)


def test_a_playback_is_only_for_its_viewer_at_its_terminal_for_a_few_hours(at_terminal, client):
    client, _, recording, _ = at_terminal
    _, media_url = _play(at_terminal)
    playback = RecordingPlayback.objects.get()
    assert client.get(media_url).status_code == 200

    # Another authorised officer cannot use it.
    colleague = staff_with(Role.SECURITY, recording.establishment)
    other = sign_in_with_2fa(type(client)(), colleague)
    other.cookies[TERMINAL_COOKIE_NAME] = DEVICE_SECRET
    assert other.get(media_url).status_code == 404
    # Nor the viewer from another device.
    del client.cookies[TERMINAL_COOKIE_NAME]
    assert client.get(media_url).status_code == 404
    client.cookies[TERMINAL_COOKIE_NAME] = DEVICE_SECRET
    # Nor after the sitting.
    playback.started_at -= services.PLAYBACK_GRANT
    playback.save()
    assert client.get(media_url).status_code == 404


def test_a_recording_that_is_not_ready_cannot_be_played(at_terminal):
    client, _, recording, url = at_terminal
    recording.status = RecordingStatus.DELETED
    recording.save()
    page = client.get(url).content.decode()
    assert "cannot be played" in page
    assert "Why are you opening" not in page
    response = client.post(url, {"reason": "Intelligence report 42"})
    assert "This recording cannot be played" in response.content.decode()
    assert not RecordingPlayback.objects.exists()


def test_pf_1_3_a_recording_past_retention_is_not_opened_unless_held(at_terminal):
    client, security, recording, url = at_terminal
    recording.recorded_at -= timedelta(days=120)
    recording.save()
    response = client.post(url, {"reason": "Intelligence report 42"})
    assert (
        "PF 1.3: This recording is past its retention period and cannot be opened."
        in response.content.decode()
    )
    assert not RecordingPlayback.objects.exists()
    incident_create(
        establishment=recording.establishment,
        resident=recording.call.booking.resident,
        reason="unlawful_activity",
        details="Passing drugs",
        actor=security,
        booking=recording.call.booking,
    )
    assert client.post(url, {"reason": "Intelligence report 42"}).status_code == 302


def test_stored_files_live_outside_the_web_root(settings):
    world = build_world()
    recording = make_recording(world.establishment)
    path = Path(recording.file.path)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert recording.file.name == f"recordings/{world.establishment.code}/{recording.call_id}.webm"
