"""Printable notices to a detainee (DSO 17, DSO 18): the written notice of a suspension and the decision on an
appeal, as PDF made with ReportLab. In English, with a space for a translation into the language the compact
was signed in when that is not English."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .models import Appeal, Suspension

ENGLISH = frozenset({"english", "en"})


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d %B %Y at %H:%M") if moment is not None else "-"


def _paragraphs(text: str, style: object) -> list[Paragraph]:
    return [Paragraph(escape(part), style) for part in text.splitlines() if part.strip()]


def _translation_box(language: str, styles: object) -> list[object]:
    if language.strip().lower() in ENGLISH:
        return []
    box = Table(
        [[Paragraph(f"Translation into {escape(language)}:", styles["Normal"])], [""]],  # type: ignore[index]
        colWidths=[170 * mm],
        rowHeights=[10 * mm, 80 * mm],
    )
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [Spacer(1, 8 * mm), box]


def _pdf(title: str, story: list[object]) -> bytes:
    buffer = BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=title, author="Kinship")
    document.build(story)
    return buffer.getvalue()


def suspension_notice_pdf(suspension: Suspension) -> bytes:
    tz = ZoneInfo(suspension.establishment.timezone)
    styles = getSampleStyleSheet()
    resident = suspension.resident
    lines = [
        f"To: {resident.full_name} ({resident.identifier})",
        f"From: {suspension.establishment.name}",
        f"Date: {_when(suspension.created_at, tz)}",
    ]
    body = (
        f"Your use of social video calls is suspended from {_when(suspension.starts_at, tz)} "
        f"until {_when(suspension.ends_at, tz)}."
    )
    story: list[object] = [
        Paragraph("Notice of suspension of video calls", styles["Title"]),
        *_paragraphs("\n".join(lines), styles["Normal"]),
        Spacer(1, 6 * mm),
        Paragraph(escape(body), styles["Normal"]),
        Paragraph(f"Reason: {escape(suspension.get_reason_display())}", styles["Normal"]),
        *_paragraphs(suspension.details, styles["Normal"]),
        Spacer(1, 4 * mm),
        Paragraph(
            "The compliance manager has been told of this suspension and its reasons. A suspension longer than "
            "7 days needs the compliance manager's authorisation and is reviewed every 7 days (DSO 18).",
            styles["Normal"],
        ),
        Paragraph(
            "You can still have video calls with your legal advisers during the suspension.", styles["Normal"]
        ),
        Paragraph(
            "You may appeal in writing to the centre manager. The decision will be made within 48 hours, or "
            "within 12 hours if you have imminent removal directions (DSO 18).",
            styles["Normal"],
        ),
        *_translation_box(suspension.notice_language, styles),
    ]
    return _pdf("Notice of suspension of video calls", story)


def appeal_decision_pdf(appeal: Appeal) -> bytes:
    suspension = appeal.suspension
    tz = ZoneInfo(suspension.establishment.timezone)
    styles = getSampleStyleSheet()
    resident = suspension.resident
    outcome = appeal.get_decision_display()
    story: list[object] = [
        Paragraph("Decision on your appeal", styles["Title"]),
        Paragraph(f"To: {escape(resident.full_name)} ({escape(resident.identifier)})", styles["Normal"]),
        Paragraph(f"From: {escape(suspension.establishment.name)}", styles["Normal"]),
        Paragraph(f"Appeal received: {_when(appeal.submitted_at, tz)}", styles["Normal"]),
        Paragraph(f"Decided: {_when(appeal.decided_at, tz)}", styles["Normal"]),
        Spacer(1, 6 * mm),
        Paragraph(f"Decision: {escape(outcome)}", styles["Heading2"]),
        *_paragraphs(appeal.decision_reasons, styles["Normal"]),
    ]
    if appeal.varied_ends_at is not None:
        story.append(
            Paragraph(f"The suspension now ends {_when(appeal.varied_ends_at, tz)}.", styles["Normal"])
        )
    story.append(
        Paragraph("You can still have video calls with your legal advisers.", styles["Normal"]),
    )
    story.extend(_translation_box(suspension.notice_language, styles))
    return _pdf("Decision on your appeal", story)
