"""The restriction, contact ban, visitor and booking ban, banned-visitor authorisation, per-person summary and
appeal scan pages: errors with their citations, what was entered kept, each write audited through the services."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.factories import (
    ContactFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    IrcFactory,
    ResidentFactory,
    staff_with,
)
from kinship.people.models import Contact, ContactLink
from kinship.safeguarding import deadlines
from kinship.safeguarding import services_restrictions as services
from kinship.safeguarding.forms_restrictions import MAX_SCAN_BYTES
from kinship.safeguarding.models import (
    Appeal,
    BannedVisitorAuthorisation,
    ContactBan,
    Restriction,
    RestrictionKind,
    Rule34Ground,
    SuspensionReason,
    VisitorBan,
    VisitorBanKind,
)
from kinship.safeguarding.views_welfare import _ban_url

pytestmark = pytest.mark.django_db


def _date(prefix: str, day: date) -> dict[str, str]:
    return {f"{prefix}_day": str(day.day), f"{prefix}_month": str(day.month), f"{prefix}_year": str(day.year)}


def _png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def prison() -> dict[str, Any]:
    place = EstablishmentFactory()
    resident = ResidentFactory(establishment=place)
    contact = ContactFactory()
    ContactLinkFactory(resident=resident, contact=contact)
    return {
        "place": place,
        "resident": resident,
        "contact": contact,
        "governor": staff_with(Role.GOVERNOR, place),
        "security": staff_with(Role.SECURITY, place),
        "clerk": staff_with(Role.BOOKING_CLERK, place),
        "today": timezone.localdate(timezone.now(), timezone=ZoneInfo(place.timezone)),
    }


def _url(name: str, place: Any, *args: Any) -> str:
    return reverse(f"safeguarding-restrictions:{name}", args=[place.code, *args])


# --- Contact bans (PF 4.10) -----------------------------------------------------------------------------------


def test_a_governor_bans_a_named_contact_reviews_and_lifts_it(staff_client, prison):
    place, resident, contact = prison["place"], prison["resident"], prison["contact"]
    client = staff_client(prison["governor"])
    url = _url("contact-ban-new", place, resident.pk)
    assert contact.full_name in client.get(url).content.decode()

    empty = client.post(url, {})
    assert "Select the contact" in empty.content.decode()
    assert "Enter the review date" in empty.content.decode()

    refused = client.post(
        url,
        {"contact": contact.pk, "reason": "Threats to the contact", **_date("review_on", prison["today"])},
    )
    page = refused.content.decode()
    assert "PF 4.10: The review date must be after today." in page
    assert "Threats to the contact" in page
    assert not ContactBan.objects.exists()

    review_on = prison["today"] + timedelta(days=28)
    response = client.post(
        url, {"contact": contact.pk, "reason": "Threats to the contact", **_date("review_on", review_on)}
    )
    ban = ContactBan.objects.get()
    assert response["Location"] == _url("contact-ban", place, ban.pk)
    assert ContactLink.objects.get(resident=resident, contact=contact).banned is True
    assert AuditEvent.objects.filter(action="safeguarding.contact_ban_created").count() == 1

    detail = client.get(_url("contact-ban", place, ban.pk)).content.decode()
    assert "Threats to the contact" in detail
    assert "Record the review" in detail

    missing = client.post(
        _url("contact-ban", place, ban.pk), {"outcome": "continue", "notes": "Still needed"}
    )
    assert "PF 4.10: Enter the date of the next review." in missing.content.decode()

    later = review_on + timedelta(days=28)
    client.post(
        _url("contact-ban", place, ban.pk),
        {"outcome": "continue", "notes": "Still needed", **_date("next_review_on", later)},
    )
    ban.refresh_from_db()
    assert ban.review_on == later

    client.post(_url("contact-ban", place, ban.pk), {"outcome": "lift", "notes": "Apology accepted"})
    ban.refresh_from_db()
    assert ban.lifted_at is not None
    assert ContactLink.objects.get(resident=resident, contact=contact).banned is False
    assert AuditEvent.objects.filter(action="safeguarding.contact_ban_reviewed").count() == 2
    history = client.get(_url("contact-ban", place, ban.pk)).content.decode()
    assert "Apology accepted" in history
    assert "Record the review" not in history


def test_only_the_governor_may_review_a_ban(staff_client, prison):
    ban = services.contact_ban_create(
        resident=prison["resident"],
        contact=prison["contact"],
        reason="Threats",
        review_on=prison["today"] + timedelta(days=10),
        actor=prison["governor"],
    )
    client = staff_client(prison["security"])
    url = _url("contact-ban", prison["place"], ban.pk)
    page = client.get(url).content.decode()
    assert "Threats" in page
    assert "Record the review" not in page
    assert client.post(url, {"outcome": "lift", "notes": "x"}).status_code == 403
    ban.refresh_from_db()
    assert ban.lifted_at is None


# --- Booking bans (DSO Annex A) and banned visitors (PF 4.12) -------------------------------------------------


def test_the_incident_pages_link_to_the_booking_ban_page(prison):
    assert _ban_url(prison["place"], None) == _url("visitor-ban-new", prison["place"])


def test_a_booking_ban_after_a_breach_and_its_lifting(staff_client, prison):
    place, contact = prison["place"], prison["contact"]
    client = staff_client(prison["governor"])
    url = _url("visitor-ban-new", place)
    assert 'value="booking" checked' in client.get(url).content.decode()

    until = prison["today"] + timedelta(days=30)
    refused = client.post(
        url,
        {
            "kind": VisitorBanKind.BOOKING,
            "contact": contact.pk,
            "reason": "",
            **_date("until", until),
            **_date("review_on", prison["today"]),
        },
    )
    page = refused.content.decode()
    assert "DSO Annex A: Record the reason for the ban." in page
    assert "DSO Annex A: The review date must be after today." in page

    response = client.post(
        url,
        {
            "kind": VisitorBanKind.BOOKING,
            "contact": contact.pk,
            "reason": "Filmed the call",
            **_date("until", until),
            **_date("review_on", prison["today"] + timedelta(days=14)),
        },
    )
    ban = VisitorBan.objects.get()
    assert response["Location"] == _url("visitor-ban", place, ban.pk)
    assert Contact.objects.get(pk=contact.pk).booking_banned_until == until
    assert AuditEvent.objects.get(action="safeguarding.visitor_ban_created").policy_ids == [
        "DSO Annex A",
        "PF 4.8",
    ]

    # The booking clerk, who has this review on their dashboard, sees the ban but not its reason.
    clerk = staff_client(prison["clerk"]).get(_url("visitor-ban", place, ban.pk)).content.decode()
    assert "Banned from booking calls" in clerk
    assert "Filmed the call" not in clerk
    assert "Record the review" not in clerk
    client = staff_client(prison["governor"])
    client.post(_url("visitor-ban", place, ban.pk), {"outcome": "lift", "notes": "Reviewed after 2 weeks"})
    assert Contact.objects.get(pk=contact.pk).booking_banned_until is None
    assert AuditEvent.objects.filter(action="safeguarding.visitor_ban_reviewed").count() == 1


def test_a_contact_of_another_establishment_cannot_be_banned_here(staff_client, prison):
    stranger = ContactFactory()
    response = staff_client(prison["governor"]).post(
        _url("visitor-ban-new", prison["place"]),
        {
            "kind": VisitorBanKind.BOOKING,
            "contact": stranger.pk,
            "reason": "x",
            **_date("until", prison["today"] + timedelta(days=3)),
            **_date("review_on", prison["today"] + timedelta(days=3)),
        },
    )
    assert "Select the contact" in response.content.decode()
    assert not VisitorBan.objects.exists()


def test_the_operational_manager_authorises_a_call_with_a_banned_visitor(staff_client, prison):
    place, resident, contact = prison["place"], prison["resident"], prison["contact"]
    client = staff_client(prison["governor"])
    url = _url("banned-visitor-authorise", place, resident.pk)
    assert "no authorisation is needed" in client.get(url).content.decode()

    ban = services.visitor_ban_create(
        contact=contact,
        establishment=place,
        kind=VisitorBanKind.BANNED_VISITOR,
        reason="Passed an item at a visit",
        until=prison["today"] + timedelta(days=90),
        review_on=prison["today"] + timedelta(days=28),
        actor=prison["governor"],
    )
    detail = client.get(_url("visitor-ban", place, ban.pk)).content.decode()
    assert f"Authorise a call between {resident.full_name}" in detail

    refused = client.post(url, {"contact": contact.pk, "reason": " "})
    assert "PF 4.12: Record why the call is authorised." in refused.content.decode()
    response = client.post(url, {"contact": contact.pk, "reason": "Child's birthday; supervised"})
    assert response["Location"] == _url("visitor-ban", place, ban.pk)
    authorisation = BannedVisitorAuthorisation.objects.get()
    assert authorisation.authorised_by == prison["governor"]
    assert AuditEvent.objects.get(action="safeguarding.banned_visitor_authorised").policy_ids == ["PF 4.12"]
    assert "Child&#x27;s birthday" in client.get(_url("visitor-ban", place, ban.pk)).content.decode()


# --- Restrictions (PF 4.4) ------------------------------------------------------------------------------------


def _restriction(prison: dict[str, Any]) -> Restriction:
    return services.restriction_create(
        resident=prison["resident"],
        kind=RestrictionKind.LIMIT,
        ground=Rule34Ground.CRIME,
        rationale="Arranging drug supply on calls",
        necessity_and_proportionality="Shorter calls are the least step that works",
        review_on=prison["today"] + timedelta(days=28),
        max_call_minutes=20,
        actor=prison["governor"],
    )


def test_a_restriction_is_reviewed_varied_and_lifted_from_its_page(staff_client, prison):
    restriction = _restriction(prison)
    client = staff_client(prison["governor"])
    url = _url("restriction", prison["place"], restriction.pk)
    assert url in client.get(_url("overview", prison["place"])).content.decode()
    page = client.get(url).content.decode()
    assert "Arranging drug supply on calls" in page
    assert "Calls of at most 20 minutes" in page

    refused = client.post(url, {"outcome": "vary", "notes": "", "max_call_minutes": "15"})
    page = refused.content.decode()
    assert "PF 4.4: Record what the review considered." in page
    assert "PF 4.4: Enter the date of the next review." in page
    assert 'value="15"' in page

    next_review = prison["today"] + timedelta(days=56)
    client.post(
        url,
        {
            "outcome": "vary",
            "notes": "Improving",
            "max_call_minutes": "30",
            **_date("next_review_on", next_review),
        },
    )
    restriction.refresh_from_db()
    assert restriction.max_call_minutes == 30
    assert restriction.review_on == next_review
    client.post(url, {"outcome": "lift", "notes": "No longer needed"})
    restriction.refresh_from_db()
    assert restriction.lifted_at is not None
    events = AuditEvent.objects.filter(action="safeguarding.restriction_reviewed")
    assert [event.policy_ids for event in events] == [["PF 4.4"], ["PF 4.4"]]


def test_the_deadlines_dashboard_links_to_the_record_pages(prison):
    restriction = _restriction(prison)
    ban = services.contact_ban_create(
        resident=prison["resident"],
        contact=prison["contact"],
        reason="Threats",
        review_on=prison["today"] + timedelta(days=1),
        actor=prison["governor"],
    )
    now = timezone.now()
    items = deadlines.due_items(establishment=prison["place"], now=now, until=now + timedelta(days=60))
    urls = {item.source.key: item.due.url for item in items}
    assert urls["restriction_review"] == _url("restriction", prison["place"], restriction.pk)
    assert urls["contact_ban_review"] == _url("contact-ban", prison["place"], ban.pk)


# --- What a booking clerk sees -------------------------------------------------------------------------------


def test_a_booking_clerk_sees_that_a_restriction_exists_but_not_why(staff_client, prison):
    _restriction(prison)
    services.contact_ban_create(
        resident=prison["resident"],
        contact=prison["contact"],
        reason="Threats to the contact",
        review_on=prison["today"] + timedelta(days=10),
        actor=prison["governor"],
    )
    url = _url("resident", prison["place"], prison["resident"].pk)
    page = staff_client(prison["clerk"]).get(url).content.decode()
    assert "Limit video calls" in page
    assert "calls of at most 20 minutes" in page
    assert prison["contact"].full_name in page
    assert "Arranging drug supply" not in page
    assert "Threats to the contact" not in page
    assert "Restrict video calls" not in page
    assert _url("restriction", prison["place"], Restriction.objects.get().pk) not in page


def test_the_find_page_goes_to_the_person(staff_client, prison):
    client = staff_client(prison["clerk"])
    url = _url("resident-find", prison["place"])
    response = client.get(url, {"identifier": prison["resident"].identifier.lower()})
    assert response["Location"] == _url("resident", prison["place"], prison["resident"].pk)
    assert "Enter a prison number" in client.get(url, {"identifier": ""}).content.decode()
    assert "No one here has that" in client.get(url, {"identifier": "ZZ9999"}).content.decode()
    governor = staff_client(prison["governor"])
    page = governor.get(_url("resident", prison["place"], prison["resident"].pk)).content.decode()
    assert "No restriction, ban or suspension is in force" in page
    assert "Ban calls with a named person" in page


# --- Appeals: scans, the varied decision and its notice (DSO 18) ----------------------------------------------


@pytest.fixture
def centre() -> dict[str, Any]:
    irc = IrcFactory()
    manager = staff_with(Role.GOVERNOR, irc)
    resident = ResidentFactory(establishment=irc)
    suspension = services.suspension_create(
        resident=resident, reason=SuspensionReason.SAFETY, details="Threats on a call", days=10, actor=manager
    )
    return {
        "irc": irc,
        "manager": manager,
        "compliance": staff_with(Role.COMPLIANCE_MANAGER, irc),
        "clerk": staff_with(Role.BOOKING_CLERK, irc),
        "suspension": suspension,
    }


def test_an_appeal_scan_is_checked_by_content_stored_privately_and_each_opening_audited(
    staff_client, centre, settings
):
    irc, suspension = centre["irc"], centre["suspension"]
    client = staff_client(centre["manager"])
    url = _url("appeal-new", irc, suspension.pk)

    fake = SimpleUploadedFile("appeal.pdf", b"not really a pdf", content_type="application/pdf")
    page = client.post(url, {"text": "Typed too", "scan": fake}).content.decode()
    assert "The selected file must be a PDF, JPG or PNG" in page
    assert "Typed too" in page
    truncated = SimpleUploadedFile("appeal.pdf", b"%PDF-1.7\n1 0 obj\n", content_type="application/pdf")
    assert "must be a PDF, JPG or PNG" in client.post(url, {"scan": truncated}).content.decode()
    large = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * MAX_SCAN_BYTES + b"\n%%EOF\n")
    assert "smaller than 10MB" in client.post(url, {"scan": large}).content.decode()
    assert not Appeal.objects.exists()

    scan = SimpleUploadedFile("photo.pdf", _png(), content_type="application/pdf")
    response = client.post(url, {"scan": scan})
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.scan_content_type == "image/png"
    assert appeal.scan.name == f"safeguarding/appeals/{appeal.pk}/scan.png"
    assert appeal.scan.path.startswith(str(settings.MEDIA_ROOT))
    page = client.get(_url("suspension", irc, suspension.pk)).content.decode()
    assert appeal.scan.name not in page
    assert _url("appeal-scan", irc, appeal.pk) in page

    reader = staff_client(centre["compliance"])
    opened = reader.get(_url("appeal-scan", irc, appeal.pk))
    assert opened.status_code == 200
    assert opened["Content-Type"] == "image/png"
    assert opened["Cache-Control"] == "private, no-store"
    assert b"".join(opened.streaming_content) == _png()
    events = AuditEvent.objects.filter(action="safeguarding.appeal_scan_opened")
    assert events.count() == 1
    assert events.get().actor_id == centre["compliance"].pk
    assert staff_client(centre["clerk"]).get(_url("appeal-scan", irc, appeal.pk)).status_code == 403


def test_a_typed_pdf_scan_is_accepted(staff_client, centre):
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    client = staff_client(centre["manager"])
    client.post(
        _url("appeal-new", centre["irc"], centre["suspension"].pk),
        {"scan": SimpleUploadedFile("a.pdf", pdf)},
    )
    assert Appeal.objects.get().scan_content_type == "application/pdf"


def test_an_appeal_is_varied_and_the_decision_notice_printed(staff_client, centre):
    irc, suspension = centre["irc"], centre["suspension"]
    appeal = services.appeal_record(suspension=suspension, text="I was provoked", actor=centre["manager"])
    client = staff_client(centre["manager"])
    url = _url("appeal-decide", irc, appeal.pk)
    assert "Suspension varied" in client.get(url).content.decode()

    tz = ZoneInfo(irc.timezone)
    too_late = suspension.ends_at.astimezone(tz).date() + timedelta(days=1)
    refused = client.post(
        url, {"decision": "varied", "reasons": "Partly upheld", **_date("varied_end_on", too_late)}
    )
    assert "DSO 18: A varied suspension ends after it starts and before its current end." in (
        refused.content.decode()
    )
    assert "Partly upheld" in refused.content.decode()

    new_last_day = suspension.starts_at.astimezone(tz).date() + timedelta(days=5)
    client.post(
        url, {"decision": "varied", "reasons": "Partly upheld", **_date("varied_end_on", new_last_day)}
    )
    suspension.refresh_from_db()
    appeal.refresh_from_db()
    assert suspension.ends_at.astimezone(tz).date() == new_last_day
    assert appeal.varied_ends_at == suspension.ends_at
    assert isinstance(appeal.varied_ends_at, datetime)
    assert AuditEvent.objects.get(action="safeguarding.appeal_decided").after["decision"] == "varied"

    page = client.get(_url("suspension", irc, suspension.pk)).content.decode()
    notice_url = _url("appeal-notice", irc, appeal.pk)
    assert notice_url in page
    pdf = staff_client(centre["compliance"]).get(notice_url)
    assert pdf["Content-Type"] == "application/pdf"
    text = "\n".join(part.extract_text() for part in PdfReader(BytesIO(pdf.content)).pages)
    assert "Decision on your appeal" in text
    assert "Suspension varied" in text
    assert "Partly upheld" in text


def test_an_undecided_appeal_has_no_decision_notice(staff_client, centre):
    appeal = services.appeal_record(suspension=centre["suspension"], text="No", actor=centre["manager"])
    response = staff_client(centre["manager"]).get(_url("appeal-notice", centre["irc"], appeal.pk))
    assert response.status_code == 404
