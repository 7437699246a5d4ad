"""Encryption at rest for the media room's secret and pin (Fernet, AES-128-CBC with HMAC-SHA256).

The key is derived from ``SECRET_KEY`` (HKDF-SHA256 with a purpose label of its own), so no new setting is needed
and the database alone does not reveal a room's secret. The values come back as plain text only to build a
``media.base.Secret``.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_PURPOSE = b"kinship.calls.room-secret.v1"


@cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(settings.SECRET_KEY).decrypt(token.encode()).decode()
