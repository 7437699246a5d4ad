"""A contact books a call through the pages in a real browser: every step passes an axe WCAG 2.2 AA scan (error
states included) and runs under the strict CSP without a violation. The resident terminal pages too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page, expect

from kinship.bookings.models import Booking, BookingStatus
from kinship.bookings.services_contact import resident_pin_set
from kinship.core.roles import Role
from kinship.establishments.models import hash_device_secret
from kinship.establishments.selectors import TERMINAL_COOKIE_NAME
from kinship.factories import TEST_PASSWORD, EstablishmentFactory, RoomFactory, TerminalFactory, staff_with
from kinship.people.models import CompactRecord
from kinship.testing import assert_accessible

from .factories import SlotFactory, approved_contact, eligible_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(tab: Page, csp: list[str]) -> None:
    expect(tab.locator("h1")).to_have_count(1)
    assert_accessible(tab)
    assert csp == []


def _start(days: int, hour: int) -> datetime:
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_a_contact_books_a_call(live_server, page: Page, csp_violations: list[str]) -> None:
    cache.clear()
    establishment = EstablishmentFactory(safer_custody_hotline="0800 111 2222")
    resident = eligible_resident(establishment, first_name="Alex", last_name="Morgan")
    contact = approved_contact(resident, first_name="Jo", last_name="Lead")
    approved_contact(resident, first_name="Kim", last_name="Sibling")
    slot = SlotFactory(establishment=establishment, starts_at=_start(3, 10))
    SlotFactory(establishment=establishment, starts_at=_start(4, 14))
    base = live_server.url

    page.goto(base + "/sign-in/")
    page.get_by_label("Email address").fill(contact.user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Your calls")
    page.get_by_role("button", name="Book a call").click()

    expect(page.locator("h1")).to_have_text("Who do you want to call?")
    _check(page, csp_violations)
    page.get_by_role("button", name="Continue").click()  # nothing chosen: the error state
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the person in custody")
    _check(page, csp_violations)
    page.get_by_label("Alex Morgan").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.locator("h1")).to_have_text("Choose a time")
    _check(page, csp_violations)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a time for the call")
    _check(page, csp_violations)
    page.locator(f"input[value='{slot.pk}']").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.locator("h1")).to_have_text("Who else will join the call?")
    expect(page.locator(".govuk-inset-text")).to_contain_text("We are keeping")
    _check(page, csp_violations)
    page.get_by_label("Kim Sibling").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.locator("h1")).to_have_text("Check your request")
    _check(page, csp_violations)
    page.get_by_role("button", name="Send request").click()

    expect(page.locator("h1")).to_have_text("Request sent")
    booking = Booking.objects.get()
    expect(page.locator(".govuk-panel")).to_contain_text(booking.reference)
    expect(page.locator("main")).to_contain_text("0800 111 2222")
    _check(page, csp_violations)
    assert booking.status == BookingStatus.REQUESTED

    page.get_by_role("link", name="See all your calls").click()
    expect(page.locator("h1")).to_have_text("Your calls")
    _check(page, csp_violations)
    page.get_by_role("link", name=booking.reference).click()
    expect(page.locator("h1")).to_have_text(f"Call {booking.reference}")
    _check(page, csp_violations)

    page.get_by_role("button", name="Cancel this call").click()
    expect(page.locator("h1")).to_have_text(f"Cancel call {booking.reference}")
    _check(page, csp_violations)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why you are cancelling the call")
    _check(page, csp_violations)
    page.get_by_label("Why are you cancelling the call?").fill("Something came up")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Are you sure you want to cancel this call?")
    _check(page, csp_violations)
    page.get_by_role("button", name="Yes, cancel the call").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("has been cancelled")
    _check(page, csp_violations)

    # A request that would be refused: every reason, with its citation, before sending.
    CompactRecord.objects.filter(resident=resident).delete()
    page.goto(base + "/calls/request/")
    page.get_by_label("Alex Morgan").check()
    page.get_by_role("button", name="Continue").click()
    page.locator(f"input[value='{slot.pk}']").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("PF 4.9:")
    expect(page.get_by_role("button", name="Send request")).to_have_count(0)
    assert page.title().startswith("Error:")
    _check(page, csp_violations)


def test_the_resident_terminal_pages(live_server, page: Page, csp_violations: list[str]) -> None:
    cache.clear()
    establishment = EstablishmentFactory()
    room = RoomFactory(establishment=establishment)
    TerminalFactory(
        establishment=establishment,
        room=room,
        kind="resident",
        device_secret_hash=hash_device_secret("browser-terminal"),
        registered_at=timezone.now(),
    )
    resident = eligible_resident(establishment, identifier="A1234BC")
    approved_contact(resident, first_name="Jo", last_name="Lead")
    SlotFactory(establishment=establishment, starts_at=_start(3, 10))
    resident_pin_set(resident=resident, pin="4821", actor=staff_with(Role.BOOKING_CLERK, establishment))
    base = live_server.url

    page.goto(base + "/terminal/")
    expect(page.locator("h1")).to_have_text("This device is not a video calling terminal")
    _check(page, csp_violations)
    host = base.split("//", 1)[1].split(":")[0]
    page.context.add_cookies(
        [{"name": TERMINAL_COOKIE_NAME, "value": "browser-terminal", "domain": host, "path": "/"}]
    )
    page.goto(base + "/terminal/")
    expect(page.locator("h1")).to_have_text("Video calls")
    _check(page, csp_violations)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, csp_violations)
    page.get_by_label("Your prison number or Home Office reference").fill("A1234BC")
    page.get_by_label("Your PIN").fill("4821")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Your calls")
    _check(page, csp_violations)
    page.get_by_role("button", name="Ask for a call").click()
    expect(page.locator("h1")).to_have_text("Ask for a call")
    _check(page, csp_violations)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, csp_violations)
    page.get_by_label("Jo Lead").check()
    page.locator("input[name='slot']").first.check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check your request")
    _check(page, csp_violations)
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your request has been sent")
    _check(page, csp_violations)
    page.locator("main").get_by_role("button", name="Finish").click()
    expect(page.locator("h1")).to_have_text("Video calls")
    _check(page, csp_violations)
    assert Booking.objects.get().requested_by == "resident"
