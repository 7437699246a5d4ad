"""Account pages in a real browser: each passes an axe WCAG 2.2 AA scan (with and without errors) and runs under
the strict CSP without a violation."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from PIL import Image
from playwright.sync_api import Page, expect

from kinship.accounts.models import IdentityVerification
from kinship.core.roles import Role
from kinship.factories import (
    TEST_PASSWORD,
    ContactFactory,
    ContactLinkFactory,
    TermsVersionFactory,
    staff_with,
    verified_totp_device,
)
from kinship.testing import assert_accessible

from .conftest import code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(tab: Page, csp: list[str]) -> None:
    expect(tab.locator("h1")).to_have_count(1)
    assert_accessible(tab)
    assert csp == []


def _sign_in(tab: Page, base: str, email: str) -> None:
    tab.goto(base + "/sign-in/")
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password").fill(TEST_PASSWORD)
    tab.get_by_role("button", name="Sign in").click()


def _png(path: str) -> str:
    Image.new("RGB", (60, 40), (10, 120, 200)).save(path, format="PNG")
    return path


def test_public_account_pages(live_server, page: Page, csp_violations: list[str]) -> None:
    cache.clear()
    base = live_server.url
    for path in ["/sign-in/", "/sign-up/", "/password-reset/", "/password-reset/sent/", "/verify-email/"]:
        page.goto(base + path)
        _check(page, csp_violations)
    # With errors: the summary, the field messages and what was typed.
    page.goto(base + "/sign-up/")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, csp_violations)
    page.goto(base + "/sign-in/")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, csp_violations)
    page.goto(base + "/verify-email/not-a-token/")
    _check(page, csp_violations)


def test_lockout_page(live_server, page: Page, csp_violations: list[str], settings) -> None:
    cache.clear()
    user = ContactFactory().user
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(live_server.url + "/sign-in/")
        page.get_by_label("Email address").fill(user.email)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("You cannot sign in at the moment")
    _check(page, csp_violations)


def test_contact_pages(live_server, page: Page, csp_violations: list[str], tmp_path) -> None:
    cache.clear()
    TermsVersionFactory()
    contact = ContactFactory()
    ContactLinkFactory(contact=contact)
    base = live_server.url
    _sign_in(page, base, contact.user.email)
    expect(page.locator("h1")).to_have_text("Terms and conditions")
    _check(page, csp_violations)
    page.get_by_label("I have read and accept the terms and conditions").check()
    page.get_by_role("button", name="Accept and continue").click()
    expect(page.locator("h1")).to_have_text("Your calls")
    _check(page, csp_violations)
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, csp_violations)
    for path in [
        "/profile/",
        "/profile/details/",
        "/profile/email/",
        "/profile/password/",
        "/terms/",
        "/identity/",
    ]:
        page.goto(base + path)
        _check(page, csp_violations)
    page.get_by_role("button", name="Send photos").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, csp_violations)
    page.get_by_label("Upload a photo of your ID").set_input_files(_png(str(tmp_path / "id.png")))
    page.get_by_label("Upload a photo of yourself").set_input_files(_png(str(tmp_path / "me.png")))
    page.get_by_role("button", name="Send photos").click()
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    _check(page, csp_violations)


def test_staff_pages(live_server, page: Page, csp_violations: list[str], tmp_path) -> None:
    cache.clear()
    contact = ContactFactory()
    link = ContactLinkFactory(contact=contact)
    establishment = link.resident.establishment
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40)).save(buffer, format="PNG")
    from django.core.files.base import ContentFile

    check = IdentityVerification(user=contact.user)
    check.photo_id.save("x.png", ContentFile(buffer.getvalue()), save=False)
    check.photo_of_self.save("y.png", ContentFile(buffer.getvalue()), save=False)
    check.save()
    staff = staff_with(Role.BOOKING_CLERK, establishment)
    base = live_server.url
    _sign_in(page, base, staff.email)
    expect(page.locator("h1")).to_have_text("Set up your authenticator app")
    _check(page, csp_violations)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=staff)
    page.get_by_label("Security code").fill(code_for(device))
    page.get_by_role("button", name="Continue").click()
    page.goto(f"{base}/staff/{establishment.code}/identity/")
    expect(page.locator("h1")).to_have_text("Identity checks")
    _check(page, csp_violations)
    page.goto(f"{base}/staff/{establishment.code}/identity/{check.pk}/")
    _check(page, csp_violations)
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, csp_violations)

    other = staff_with(Role.GOVERNOR, establishment)
    device = verified_totp_device(other)
    page.context.clear_cookies()
    _sign_in(page, base, other.email)
    expect(page.locator("h1")).to_have_text("Enter your security code")
    _check(page, csp_violations)
