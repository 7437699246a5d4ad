from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from kinship.bookings.tests.conftest import clerk, now, party, prison  # noqa: F401 - the booking fixtures
from kinship.notifications.testing import FakeNotify


@pytest.fixture
def fake_notify() -> Iterator[FakeNotify]:
    """The local fake Notify server, with the service configured to use it (NotifyBackend)."""
    with (
        FakeNotify() as fake,
        override_settings(
            NOTIFY_API_KEY=fake.api_key,
            NOTIFY_BASE_URL=fake.base_url,
            NOTIFY_EMAIL_TEMPLATE_ID="11111111-1111-1111-1111-111111111111",
            NOTIFY_SMS_TEMPLATE_ID="22222222-2222-2222-2222-222222222222",
        ),
    ):
        yield fake
