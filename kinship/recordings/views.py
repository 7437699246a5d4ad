"""Security staff's recording pages (PF 1.3, PF 4.23): an establishment's recordings, and playback.

Who: the roles the policy engine authorises for the monitoring view, live or recorded (PF 4.23: security and
monitoring officers); PF 1.3 says recordings are opened only by authorised staff with a reason. Playing a
recording is three steps, each checked again: the reason form (the policy engine: role, registered monitoring
terminal of this establishment, a reason, within retention unless held), the playback page (only the person who
stated the reason, at the same terminal, for a few hours), and the file itself, streamed by ``recording_media``
under the same checks with HTTP Range support so the player can seek. The file never has a public URL.
"""

from __future__ import annotations

import re
from typing import cast
from uuid import UUID

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from kinship.accounts.models import User
from kinship.core.middleware import client_ip
from kinship.core.permissions import staff_required
from kinship.core.roles import Role
from kinship.establishments.models import Establishment, Terminal, TerminalKind
from kinship.establishments.selectors import terminal_for_request
from kinship.policy.rules.calls import MONITORING_ROLES

from . import selectors, services
from .errors import RecordingRefused
from .forms import PlaybackForm, add_refusal
from .models import Recording, RecordingPlayback

#: PF 4.23 (the policy engine's monitoring roles): security and monitoring officers.
RECORDING_VIEWERS = frozenset(Role(role.value) for role in MONITORING_ROLES)
PAGE_SIZE = 50
#: The most one Range response carries. A player asks "bytes=N-" and takes what comes (RFC 9110 lets the server
#: send less), so each answer is a small in-memory response: no streaming iterator for the ASGI server to warn
#: about, and memory bounded however large the file.
RANGE_LIMIT = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    pass


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _terminal(request: HttpRequest, establishment: Establishment) -> Terminal | None:
    return terminal_for_request(request, kind=TerminalKind.MONITORING, establishment=establishment)


@staff_required(*RECORDING_VIEWERS)
def recording_list(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    page = Paginator(selectors.recordings_at(establishment), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "recordings/list.html",
        {"establishment": establishment, "tz": establishment.timezone, "page": page, "recordings": page},
    )


def _recording(establishment: Establishment, recording_id: UUID) -> Recording:
    return get_object_or_404(selectors.recordings_at(establishment), pk=recording_id)


@staff_required(*RECORDING_VIEWERS)
def recording_play(request: HttpRequest, establishment: Establishment, recording_id: UUID) -> HttpResponse:
    """The reason form: nothing of the recording plays before the person has said why (PF 1.3, PF 4.23)."""
    recording = _recording(establishment, recording_id)
    terminal = _terminal(request, establishment)
    form = PlaybackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            playback = services.recording_playback_start(
                recording=recording,
                viewer=_user(request),
                terminal=terminal,
                reason=form.cleaned_data["reason"],
                ip_address=client_ip(request) or None,
            )
        except RecordingRefused as refusal:
            add_refusal(form, refusal)
        else:
            return redirect(
                "recordings:playback",
                establishment=establishment.code,
                recording_id=recording.pk,
                playback_id=playback.pk,
            )
    return render(
        request,
        "recordings/play.html",
        {
            "establishment": establishment,
            "tz": establishment.timezone,
            "recording": recording,
            "form": form,
            "at_terminal": terminal is not None,
            "playbacks": selectors.playbacks_of(recording)[:20],
        },
    )


def _playback(
    request: HttpRequest, establishment: Establishment, recording_id: UUID, playback_id: UUID
) -> RecordingPlayback:
    """The viewer's own, current playback of this recording; anything else is not found."""
    playback = get_object_or_404(
        RecordingPlayback.objects.select_related("recording__call__booking__resident", "terminal"),
        pk=playback_id,
        recording_id=recording_id,
        recording__establishment=establishment,
    )
    if not services.playback_current(
        playback, viewer=_user(request), terminal=_terminal(request, establishment), now=timezone.now()
    ):
        raise Http404
    return playback


@staff_required(*RECORDING_VIEWERS)
def recording_playback(
    request: HttpRequest, establishment: Establishment, recording_id: UUID, playback_id: UUID
) -> HttpResponse:
    playback = _playback(request, establishment, recording_id, playback_id)
    return render(
        request,
        "recordings/playback.html",
        {
            "establishment": establishment,
            "tz": establishment.timezone,
            "playback": playback,
            "recording": playback.recording,
        },
    )


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for (RFC 9110), or ``None`` to send the whole file (no
    header, or a form we do not serve, such as several ranges). Raises ``RangeNotSatisfiable``."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable
    return start, end


@staff_required(*RECORDING_VIEWERS)
def recording_media(
    request: HttpRequest, establishment: Establishment, recording_id: UUID, playback_id: UUID
) -> HttpResponse:
    """The WebM, to the <video> of the playback page only: the same checks as the page, every time."""
    playback = _playback(request, establishment, recording_id, playback_id)
    recording = playback.recording
    size = recording.file.size
    response: HttpResponse | FileResponse
    try:
        wanted = byte_range(request.headers.get("Range", ""), size)
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        stream = recording.file.open("rb")
        if wanted is None:
            response = FileResponse(stream, content_type="video/webm")
        else:
            start, end = wanted[0], min(wanted[1], wanted[0] + RANGE_LIMIT - 1)
            with stream:
                stream.seek(start)
                body = stream.read(end - start + 1)
            response = HttpResponse(body, status=206, content_type="video/webm")
            response["Content-Range"] = f"bytes {start}-{start + len(body) - 1}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    # A streamed file is not an HttpResponse subclass, though the permission decorators are typed for one.
    return response  # type: ignore[return-value]
