"""Security defaults: the strict CSP with a nonce, request ids, safe production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_csp_with_a_fresh_nonce(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/accessibility/")
    second = client.get("/accessibility/")
    policy = first["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None
    # The inline js-enabled script carries the nonce; each response has its own.
    assert f'nonce="{nonce.group(1)}"' in first.content.decode()
    assert second["Content-Security-Policy"] != policy


def test_every_response_has_a_request_id_and_keeps_a_well_formed_incoming_one(client) -> None:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/cookies/")["X-Request-ID"])
    assert (
        client.get("/cookies/", headers={"X-Request-ID": "trace-abc-12345"})["X-Request-ID"]
        == "trace-abc-12345"
    )
    assert client.get("/cookies/", headers={"X-Request-ID": "<script>"})["X-Request-ID"] != "<script>"


def test_clickjacking_and_sniffing_protection(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/privacy/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def _production_settings(extra_env: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KINSHIP_", "DEBUG", "SECRET_KEY"))}
    env.update(extra_env)
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings'); django.setup();"
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.ALLOWED_HOSTS)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() + result.stderr.strip()


def test_production_defaults_are_safe() -> None:
    output = _production_settings({"SECRET_KEY": "x" * 50})
    assert output == "False True True True 31536000 []"


def test_production_refuses_to_start_without_a_secret() -> None:
    assert "SECRET_KEY must be set" in _production_settings({})
