"""The suspension workflow in a real browser (issue 6, DSO 17 and 18): at an immigration removal centre the centre
manager suspends a detainee's social video calls for 10 days (after a refused reason), the compliance manager is
notified in the app and authorises, the weekly review comes due and shows overdue when missed, the detainee (who
has imminent removal directions) appeals and the 12-hour decision deadline shows with the hours left, and the
notice PDF renders. The live server runs in this process, so ``time_machine`` moves its clock too. Every page has
one h1, runs GOV.UK Frontend under the strict CSP and has no axe WCAG 2.2 AA violation."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.factories import (
    ContactFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    IrcFactory,
    ResidentFactory,
    StaffFactory,
)
from kinship.safeguarding.models import Appeal, ComplianceNotice, Suspension
from kinship.testing import assert_accessible, browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page: Page) -> None:
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert_accessible(page)


def _sign_in(page: Page, live_server: Any, user: Any) -> None:
    """A fresh session for ``user`` (signed in at the current, possibly moved, time)."""
    page.context.clear_cookies()
    browser_sign_in(page, live_server, user)


def _pdf_text(page: Page, url: str) -> str:
    response = page.request.get(url)
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    return "\n".join(part.extract_text() for part in PdfReader(BytesIO(response.body())).pages)


def test_a_centre_manager_suspends_the_compliance_manager_authorises_and_the_deadlines_show(
    live_server: Any, page: Page, csp_violations: list[str]
) -> None:
    irc = IrcFactory()
    detainee = ResidentFactory(establishment=irc, first_name="Samir", imminent_removal_directions=True)
    manager = StaffFactory(roles=[(irc, Role.GOVERNOR)])
    compliance = StaffFactory(roles=[(irc, Role.COMPLIANCE_MANAGER)], email="compliance@example.gov.uk")
    code = irc.code
    base = live_server.url
    start = timezone.now()

    # Day 0: the centre manager suspends, first with a reason DSO 17 refuses.
    _sign_in(page, live_server, manager)
    page.goto(base + reverse("safeguarding-restrictions:suspension-new", args=[code, detainee.pk]))
    _check(page)
    page.get_by_label("Other non-compliance in the centre").check()
    page.get_by_label("What happened").fill("Refused to attend the work party")
    page.get_by_label("Length in days").fill("10")
    page.get_by_role("button", name="Suspend video calls").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("DSO 17:")
    expect(page.get_by_label("What happened")).to_have_value("Refused to attend the work party")
    _check(page)
    assert not Suspension.objects.exists()

    page.get_by_label("Security of the video call service").check()
    page.get_by_label("What happened").fill("Filmed another detainee's documents during a call")
    page.get_by_role("button", name="Suspend video calls").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("compliance manager has been told")
    expect(page.get_by_text("Awaiting the compliance manager's authorisation")).to_be_visible()
    _check(page)
    suspension = Suspension.objects.get()
    assert (suspension.ends_at - suspension.starts_at) >= timedelta(days=10) - timedelta(hours=1)
    assert ComplianceNotice.objects.filter(recipient=compliance, suspension=suspension).exists()

    # The notice to the detainee renders, with the reason and the appeal deadlines.
    notice_link = page.get_by_role("link", name="Print the notice to the detainee (PDF)")
    text = _pdf_text(page, base + notice_link.get_attribute("href"))
    assert "Notice of suspension of video calls" in text
    assert detainee.full_name in text
    assert "Filmed another detainee" in text
    assert "12 hours" in text

    # The compliance manager sees the notice in the app and authorises beyond day 7.
    _sign_in(page, live_server, compliance)
    page.goto(base + reverse("safeguarding-restrictions:overview", args=[code]))
    expect(page.get_by_text("Awaiting authorisation")).to_be_visible()
    _check(page)
    page.get_by_role("link", name=f"Suspension of video calls: {detainee.full_name}").click()
    _check(page)
    page.get_by_role("link", name="Authorise").click()
    _check(page)
    page.get_by_label("Note (optional)").fill("Proportionate: repeated filming of other detainees.")
    page.get_by_role("button", name="Authorise").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("authorised beyond 7 days")
    _check(page)
    suspension.refresh_from_db()
    assert suspension.authorised_by == compliance
    assert AuditEvent.objects.filter(action="safeguarding.suspension_authorised").count() == 1

    # Day 6: the weekly review is due on the centre manager's deadlines dashboard.
    with time_machine.travel(start + timedelta(days=6), tick=True):
        _sign_in(page, live_server, manager)
        page.goto(base + reverse("safeguarding-welfare:deadlines", args=[code]))
        row = page.locator("[data-testid=deadlines] tbody tr", has_text="Weekly review of a suspension")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("DSO 18")
        expect(row.locator(".govuk-tag--red")).to_have_count(0)
        _check(page)

    # Day 8: the review was missed; it shows overdue on the dashboard and on the suspension.
    with time_machine.travel(start + timedelta(days=8), tick=True):
        _sign_in(page, live_server, manager)
        page.goto(base + reverse("safeguarding-welfare:deadlines", args=[code]))
        row = page.locator("[data-testid=deadlines] tbody tr", has_text="Weekly review of a suspension")
        expect(row.locator(".govuk-tag--red")).to_be_visible()
        expect(page.locator(".govuk-warning-text")).to_contain_text("overdue")
        _check(page)
        page.goto(base + reverse("safeguarding-restrictions:suspension", args=[code, suspension.pk]))
        expect(page.locator(".govuk-summary-list")).to_contain_text("Overdue")
        _check(page)

        # The detainee, with imminent removal directions, appeals: the decision is due within 12 hours.
        page.get_by_role("link", name="Record an appeal").click()
        _check(page)
        page.get_by_role("button", name="Record the appeal").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("DSO 18:")
        _check(page)
        page.get_by_label("The appeal as written").fill(
            "I did not film anyone's papers; it was my own letter."
        )
        page.get_by_role("button", name="Record the appeal").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Appeal recorded")
        appeals = page.locator("[data-testid=appeals]")
        expect(appeals).to_contain_text(re.compile(r"1[12] hours left"))
        _check(page)
        appeal = Appeal.objects.get()
        assert appeal.imminent_removal_directions is True
        assert (
            timedelta(hours=11, minutes=59)
            < (appeal.submitted_at + timedelta(hours=12) - timezone.now())
            <= timedelta(hours=12)
        )

        page.goto(base + reverse("safeguarding-welfare:deadlines", args=[code]))
        row = page.locator("[data-testid=deadlines] tbody tr", has_text="imminent removal: 12 hours")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(re.compile(r"1[12] hours left"))
        _check(page)

    assert csp_violations == []


def test_a_governor_bans_restricts_and_reviews_and_a_clerk_sees_only_that_they_exist(
    live_server: Any, page: Page, csp_violations: list[str]
) -> None:
    """The restriction and ban pages, each with an error state, under axe and the CSP."""
    prison = EstablishmentFactory()
    resident = ResidentFactory(establishment=prison, first_name="Jordan")
    contact = ContactFactory(first_name="Casey", last_name="Lane")
    ContactLinkFactory(resident=resident, contact=contact)
    governor = StaffFactory(roles=[(prison, Role.GOVERNOR)])
    clerk = StaffFactory(roles=[(prison, Role.BOOKING_CLERK)])
    code = prison.code
    base = live_server.url
    today = timezone.localdate()
    review = today + timedelta(days=28)

    def fill_date(prefix: str, day: Any) -> None:
        page.locator(f"#id_{prefix}_day").fill(str(day.day))
        page.locator(f"#id_{prefix}_month").fill(str(day.month))
        page.locator(f"#id_{prefix}_year").fill(str(day.year))

    _sign_in(page, live_server, governor)
    page.goto(base + reverse("safeguarding-restrictions:overview", args=[code]))
    _check(page)
    page.get_by_role("link", name="Find a person to see or decide their restrictions").click()
    _check(page)
    page.get_by_role("button", name="Find").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a prison number")
    _check(page)
    page.get_by_label("Prison number or Home Office reference").fill(resident.identifier)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_text("No restriction, ban or suspension is in force")).to_be_visible()
    _check(page)

    # A contact ban (PF 4.10), first refused for a review date of today.
    page.get_by_role("link", name="Ban calls with a named person").click()
    _check(page)
    page.get_by_label("Casey Lane").check()
    page.get_by_label("Why is the ban needed?").fill("Threatening messages to Casey")
    fill_date("review_on", today)
    page.get_by_role("button", name="Ban calls with this person").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "PF 4.10: The review date must be after today."
    )
    _check(page)
    fill_date("review_on", review)
    page.get_by_role("button", name="Ban calls with this person").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("may not call Casey Lane")
    _check(page)
    page.get_by_label("Continue the ban").check()
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "PF 4.10: Record what the review considered."
    )
    _check(page)

    # A booking ban after a breach (DSO Annex A), from the overview.
    page.goto(base + reverse("safeguarding-restrictions:overview", args=[code]))
    page.get_by_role("link", name="Ban a contact as a visitor or from booking").click()
    _check(page)
    page.get_by_label("Contact").select_option(label="Casey Lane")
    page.get_by_label("Reason for the ban").fill("Recorded the call on a phone")
    fill_date("until", today + timedelta(days=30))
    fill_date("review_on", review)
    page.get_by_role("button", name="Record the ban").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Banned from booking calls")
    _check(page)

    # A restriction (PF 4.4) and its page.
    page.goto(base + reverse("safeguarding-restrictions:restriction-new", args=[code, resident.pk]))
    page.get_by_label("Limit video calls").check()
    page.get_by_label("Prevention, detection, investigation or prosecution of crime").check()
    page.get_by_label("Longest call, in minutes").fill("20")
    page.get_by_label("Why is the restriction needed?").fill("Arranging supply on calls")
    page.get_by_label("Why is it necessary and proportionate?").fill("Shorter calls are enough")
    fill_date("review_on", review)
    page.get_by_role("button", name="Record the restriction").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Restriction recorded")
    expect(page.get_by_text("Calls of at most 20 minutes")).to_be_visible()
    _check(page)
    page.get_by_label("Lift now").check()
    page.get_by_label("What the review considered").fill("Intelligence no longer current")
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Lifted")
    _check(page)

    # The booking clerk sees that the bans exist, not why.
    _sign_in(page, live_server, clerk)
    page.goto(base + reverse("safeguarding-restrictions:resident", args=[code, resident.pk]))
    expect(page.locator("main")).to_contain_text("Casey Lane")
    expect(page.locator("main")).not_to_contain_text("Threatening messages")
    _check(page)
    assert csp_violations == []
