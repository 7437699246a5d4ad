"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from kinship.audit.triggers import create_triggers, drop_triggers
from kinship.testing import sign_in_with_2fa


@pytest.fixture
def staff_client(client: Client) -> Callable[[Any], Client]:
    """``staff_client(user)``: the test client, signed in as ``user`` with the second factor passed."""

    def sign_in(user: Any) -> Client:
        return sign_in_with_2fa(client, user)

    return sign_in


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and marker.kwargs.get("transaction"))
    )


@pytest.fixture(autouse=True)
def _empty_audit_log_after_transactional_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """The audit log refuses deletes (database triggers), so the flush that ends a transactional test would fail
    once the test has written events. Empty it here, with the triggers lifted for just that moment; this teardown
    runs before the flush because the database fixture was set up first."""
    if not _is_transactional(request):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    drop_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
        cursor.execute("DELETE FROM audit_auditchainhead")
    create_triggers(connection)
