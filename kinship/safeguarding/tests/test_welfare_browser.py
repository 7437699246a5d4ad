"""The welfare pages in a real browser: a governor records a wellbeing concern (with an error first) and an incident,
then finds both on the deadlines dashboard. Every page has one h1, runs GOV.UK Frontend under the strict CSP and
has no axe WCAG 2.2 AA violation."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kinship.core.roles import Role
from kinship.factories import EstablishmentFactory, ResidentFactory, StaffFactory
from kinship.safeguarding.models import Incident, WellbeingFollowUp
from kinship.testing import assert_accessible, browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page: Page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert_accessible(page)


def test_a_governor_records_a_concern_and_an_incident_and_sees_their_deadlines(
    live_server: Any, page: Page, csp_violations: list[str]
) -> None:
    prison = EstablishmentFactory()
    resident = ResidentFactory(establishment=prison, location="B wing", first_name="Robin")
    staff = StaffFactory(roles=[(prison, Role.GOVERNOR)])
    browser_sign_in(page, live_server, staff)
    code = prison.code

    # The dashboard with nothing due.
    page.goto(live_server.url + reverse("safeguarding-welfare:deadlines", args=[code]))
    expect(page.get_by_text("Nothing is due or overdue.")).to_be_visible()
    _check(page)

    # A wellbeing concern: an error first, then recorded.
    page.get_by_role("link", name="Record a wellbeing concern").click()
    _check(page)
    page.get_by_label("Prison number or Home Office reference").fill(resident.identifier)
    page.get_by_role("button", name="Record the concern").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("PF 4.17: Enter what you saw")
    _check(page)
    page.get_by_label("What did you see? (PF 4.17)").fill("Very upset and tearful when the call ended")
    page.get_by_label("An ACCT referral has been made or should be considered").check()
    page.get_by_role("button", name="Record the concern").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("A wellbeing follow-up is open")
    _check(page)
    assert WellbeingFollowUp.objects.get().acct_referral_noted is True

    # The wing's list.
    page.get_by_role("link", name="Wellbeing follow-ups").first.click()
    expect(page.get_by_role("link", name=f"{resident.full_name} ({resident.identifier})")).to_be_visible()
    _check(page)

    # An incident: an error first, then sent to security.
    page.get_by_role("link", name="Report an incident").first.click()
    _check(page)
    page.get_by_role("button", name="Send to security").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("DSO 11: Select the reason")
    _check(page)
    page.get_by_label("Prison number or Home Office reference").fill(resident.identifier)
    page.get_by_label("Recording the call").check()
    page.get_by_label("What happened (DSO 19)").fill("Held a second phone up to the screen")
    page.get_by_role("button", name="Send to security").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent to the security team")
    expect(page.get_by_text("required for this reason")).to_be_visible()
    _check(page)
    assert Incident.objects.get().police_referral is True

    # The risk and child-safeguarding record, linked from the incident.
    page.get_by_role("link", name=f"Risk and child-safeguarding record of {resident.full_name}").click()
    _check(page)

    # The dashboard now lists both, soonest first, with the hours left.
    page.goto(live_server.url + reverse("safeguarding-welfare:deadlines", args=[code]))
    rows = page.locator("[data-testid=deadlines] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Wellbeing follow-up, B wing")
    expect(rows.nth(1)).to_contain_text("Incident awaiting triage")
    expect(rows.nth(0)).to_contain_text("hours left")
    _check(page)

    # The incidents list.
    page.get_by_role("link", name="Incidents").first.click()
    _check(page)
    assert csp_violations == []
