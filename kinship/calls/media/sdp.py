"""The little SDP reading the media plane needs: each m-line's kind and mid."""

from __future__ import annotations

from .base import Kind


def media_sections(sdp: str) -> list[tuple[Kind, str]]:
    """``[(kind, mid), ...]`` for the audio and video m-lines of ``sdp``, in order (data channels are skipped)."""
    sections: list[tuple[str, str]] = []
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            sections.append((line[2:].split(" ", 1)[0], str(len(sections))))
        elif line.startswith("a=mid:") and sections:
            sections[-1] = (sections[-1][0], line[len("a=mid:") :])
    found: list[tuple[Kind, str]] = []
    for kind, mid in sections:
        if kind == "audio":
            found.append(("audio", mid))
        elif kind == "video":
            found.append(("video", mid))
    return found
