"""Every establishments and people page in a real browser, filled with data and, for forms, with errors: one h1,
GOV.UK Frontend running under the strict CSP, and no axe WCAG 2.2 AA violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kinship.core.roles import Role
from kinship.establishments.tests.access import World, build_world
from kinship.factories import CompactRecordFactory, ContactLinkFactory, RiskAssessmentFactory, StaffFactory
from kinship.testing import assert_accessible, browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _url(name: str, args: Callable[[World], list[Any]] = lambda world: []) -> Callable[[World], str]:
    def build(world: World) -> str:
        if name in {"establishments:mine", "establishments:create"}:
            return reverse(name)
        return reverse(name, args=[world.establishment.code, *args(world)])

    build.__name__ = name
    return build


PAGES: list[tuple[Callable[[World], str], str | None]] = [
    (_url("establishments:mine"), None),
    (_url("establishments:create"), "button[type=submit]"),
    (_url("establishments:overview"), None),
    (_url("establishments:settings"), "button[type=submit]"),
    (_url("establishments:rooms"), None),
    (_url("establishments:room-add"), "button[type=submit]"),
    (_url("establishments:terminals"), None),
    (_url("establishments:terminal-add"), "button[type=submit]"),
    (_url("establishments:terminal-revoke", lambda world: [world.terminal.pk]), "button[type=submit]"),
    (_url("establishments:terminal-code", lambda world: [world.terminal.pk]), "button[type=submit]"),
    (_url("establishments:terminal-register"), "button[type=submit]"),
    (_url("establishments:terminal-registered"), None),
    (_url("people:residents"), None),
    (_url("people:resident", lambda world: [world.resident.pk]), None),
    (_url("people:resident-add"), "button[type=submit]"),
    (_url("people:compact-add", lambda world: [world.resident.pk]), "button[type=submit]"),
    (_url("people:risk-assessment-add", lambda world: [world.resident.pk]), "button[type=submit]"),
    (_url("people:compact-texts"), None),
    (_url("people:compact-text-add"), "button[type=submit]"),
    (_url("people:contact", lambda world: [world.contact.pk]), None),
    (_url("people:link-decide", lambda world: [world.link.pk]), "button[type=submit]"),
    (_url("people:link-edit", lambda world: [world.link.pk]), "button[type=submit]"),
    (_url("people:link-requests"), None),
    (_url("people:link-request", lambda world: [world.link_request.pk]), "button[type=submit]"),
]


@pytest.mark.parametrize(("url", "submit"), PAGES, ids=lambda value: getattr(value, "__name__", "submit"))
def test_staff_page_is_accessible(live_server, page: Page, csp_violations: list[str], url, submit) -> None:
    world = build_world()
    ContactLinkFactory(resident=world.resident)
    CompactRecordFactory(resident=world.resident, text=world.compact_text)
    RiskAssessmentFactory(resident=world.resident)
    staff = StaffFactory(
        roles=[
            (world.establishment, role)
            for role in (Role.GOVERNOR, Role.SYSTEM_ADMINISTRATOR, Role.BOOKING_CLERK)
        ]
    )
    browser_sign_in(page, live_server, staff)
    page.goto(live_server.url + url(world))
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("body.govuk-frontend-supported")).to_have_count(1)
    assert_accessible(page)
    if submit:
        # Clear what can be cleared and send, to check the page with its error summary and field errors too.
        for field in page.locator("input[type=text], textarea").all():
            field.fill("")
        page.locator(submit).last.click()
        page.wait_for_load_state()
        expect(page.locator("h1")).to_have_count(1)
        assert_accessible(page)
    assert csp_violations == []
