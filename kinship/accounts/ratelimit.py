"""Fixed-window rate limits kept in Django's cache (shared by every app process when the cache is Redis).

Used on the sign-in POST (per client address), the two-factor code (per account), email resends and password
reset requests. A limit is a safety net on top of django-axes' lockout and django-otp's throttling.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Hit:
    count: int
    limit: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def first_over(self) -> bool:
        """True only for the first request over the limit in a window, so it is recorded once, not per request."""
        return self.count == self.limit + 1


def hit(*, bucket: str, key: str, limit: int, window_seconds: int) -> Hit:
    """Count one attempt in ``bucket`` for ``key`` and say whether the limit is now exceeded."""
    cache_key = f"kinship:rate:{bucket}:{key}"
    # add() only sets the key when it is missing, so the window starts at the first attempt and is not extended.
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:
        # The key expired between add() and incr(): this attempt starts a new window.
        cache.set(cache_key, 1, timeout=window_seconds)
        count = 1
    return Hit(count=count, limit=limit)


def reset(*, bucket: str, key: str) -> None:
    cache.delete(f"kinship:rate:{bucket}:{key}")
