"""The staff booking pages in a real browser: a booking clerk approves a request and closes a review (PF 4.8), and
every page, filled with data and, for forms, with errors, has one h1, runs GOV.UK Frontend under the strict CSP
and has no axe WCAG 2.2 AA violation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from kinship.bookings.models import (
    Booking,
    BookingReview,
    BookingStatus,
    NonAttendanceCause,
    RequestChannel,
)
from kinship.bookings.references import new_reference
from kinship.bookings.services import booking_request
from kinship.core.roles import Role
from kinship.factories import EstablishmentFactory, StaffFactory
from kinship.testing import assert_accessible, browser_sign_in

from .conftest import Party, make_party
from .factories import SessionTemplateFactory, SlotFactory, StaffRosterFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, live_server: Any, party: Party, *roles: Role) -> None:
    staff = StaffFactory(roles=[(party.establishment, role) for role in roles])
    browser_sign_in(page, live_server, staff)


def _check(page: Page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert_accessible(page)


def _cancelled_with_review(party: Party) -> BookingReview:
    booking = Booking.objects.create(
        reference=new_reference(),
        slot=SlotFactory(establishment=party.establishment, room=party.slot.room),
        resident=party.resident,
        lead_contact=party.contact,
        requested_by=RequestChannel.CONTACT,
        requested_at=timezone.now(),
        status=BookingStatus.CANCELLED,
        cancelled_by="contact",
        status_reason="Car broke down",
    )
    return BookingReview.objects.create(
        booking=booking, cause=NonAttendanceCause.CANCELLED_BY_CONTACT, opened_at=timezone.now()
    )


def test_a_booking_clerk_approves_a_request_and_closes_a_review(
    live_server, page: Page, csp_violations: list[str]
) -> None:
    party = make_party(EstablishmentFactory())
    booking = booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
    ).booking
    review = _cancelled_with_review(party)
    _sign_in(page, live_server, party, Role.BOOKING_CLERK)
    code = party.establishment.code

    # The request queue, the decision page, an error, then the approval.
    page.goto(live_server.url + reverse("bookings-staff:requests", args=[code]))
    _check(page)
    page.get_by_role("link", name=booking.reference).click()
    expect(page.get_by_text("The rules allow this call as things stand now.")).to_be_visible()
    _check(page)
    page.get_by_label("Another reason (explained below)").check()
    page.get_by_role("button", name="Turn the request down").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Explain the reason for turning the request down."
    )
    _check(page)
    page.get_by_role("button", name="Approve the call").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Call {booking.reference} is approved"
    )
    _check(page)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.APPROVED

    # The review queue, the review, an error, then closing it.
    page.goto(live_server.url + reverse("bookings-staff:reviews", args=[code]))
    _check(page)
    page.get_by_role("link", name=review.booking.reference).click()
    _check(page)
    page.get_by_label("Not rebooked, or the call goes ahead as booked: give the reason").check()
    page.get_by_role("button", name="Close the review").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "PF 4.8: Enter why the call was not rebooked"
    )
    _check(page)
    page.get_by_role("textbox", name="Why it was not rebooked").fill("The family will ask again next month")
    page.get_by_role("button", name="Close the review").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is closed")
    _check(page)
    review.refresh_from_db()
    assert not review.is_open
    assert review.reason == "The family will ask again next month"
    assert csp_violations == []


def _url(name: str, args: Callable[[Party], list[Any]] = lambda party: []) -> Callable[[Party], str]:
    def build(party: Party) -> str:
        return reverse(f"bookings-staff:{name}", args=[party.establishment.code, *args(party)])

    build.__name__ = name
    return build


def _requested(party: Party) -> list[Any]:
    booking = booking_request(
        slot=party.slot,
        resident=party.resident,
        lead_contact=party.contact,
        channel=RequestChannel.CONTACT,
        actor=party.contact.user,
    ).booking
    return [booking.pk]


PAGES: list[tuple[Callable[[Party], str], str | None]] = [
    (_url("schedule"), None),
    (_url("session-add"), "button[type=submit]"),
    (
        _url("session-edit", lambda party: [SessionTemplateFactory(establishment=party.establishment).pk]),
        None,
    ),
    (
        _url("session-delete", lambda party: [SessionTemplateFactory(establishment=party.establishment).pk]),
        None,
    ),
    (_url("closed-date-add"), "button[type=submit]"),
    (_url("roster-add"), "button[type=submit]"),
    (_url("publish"), "button[type=submit]"),
    (_url("day", lambda party: []), None),
    (_url("week"), None),
    (_url("daily-list"), None),
    (_url("request", _requested), None),
    (_url("request-new", lambda party: [party.resident.pk]), "button[value=check]"),
    (_url("cancel", _requested), "button[type=submit]"),
    (_url("residents"), None),
    (_url("allowance", lambda party: [party.resident.pk]), None),
    (_url("grant-add", lambda party: [party.resident.pk]), "button[type=submit]"),
    (_url("resident-move", lambda party: [party.resident.pk]), "button[type=submit]"),
]


@pytest.mark.parametrize(("url", "submit"), PAGES, ids=lambda value: getattr(value, "__name__", "submit"))
def test_staff_booking_page_is_accessible(
    live_server, page: Page, csp_violations: list[str], url, submit
) -> None:
    party = make_party(EstablishmentFactory())
    # Something on every board: a slot starting soon, rostered, with a session behind it.
    SlotFactory(
        establishment=party.establishment, room=party.slot.room, starts_at=timezone.now() + timedelta(hours=2)
    )
    StaffRosterFactory(establishment=party.establishment, room=party.slot.room, date=timezone.localdate())
    _sign_in(page, live_server, party, Role.GOVERNOR, Role.BOOKING_CLERK, Role.SYSTEM_ADMINISTRATOR)
    page.goto(live_server.url + url(party))
    _check(page)
    if submit:
        for field in page.locator("input[type=text], textarea").all():
            field.fill("")
        page.locator(submit).last.click()
        page.wait_for_load_state()
        _check(page)
    assert csp_violations == []
