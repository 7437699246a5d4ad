"""The service's ASGI application behind a queue of at most ``KINSHIP_BENCH_CONCURRENCY`` requests at a time per
process (default 8), for the booking benchmark.

Django under ASGI runs each request's sync code in its own thread with its own database connection, so 200
simultaneous clients would open 200 PostgreSQL connections (this machine allows 100). A production deployment
bounds that with its server's thread count or a connection pooler; here a semaphore queues the excess requests
instead, which is what such a bound does. Eight at a time per process (two processes on this two-core machine)
served more booking requests a second than thirty, with a lower p95, because fewer PostgreSQL connections each
stay warm (ADR 0006, stop 12).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from config.asgi import application as kinship

_limit = int(os.environ.get("KINSHIP_BENCH_CONCURRENCY", "8"))
_gate: asyncio.Semaphore | None = None


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _gate
    if scope["type"] != "http":
        await kinship(scope, receive, send)
        return
    if _gate is None:
        _gate = asyncio.Semaphore(_limit)
    async with _gate:
        await kinship(scope, receive, send)
