"""Where the signalling consumers run their blocking work, off the event loop and off the one shared sync thread.

``media_call``: the media server's synchronous client, on a pool of its own (its threads mostly wait on Janus).
``db_call``: the ORM and the services, each call a unit of its own (``database_sync_to_async``: old connections
closed before and after).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

#: Threads for the media server's blocking calls. Most of their time is spent waiting on Janus (a long poll for
#: an event, a publisher's media coming up), so they get a pool of their own: on asyncio's default pool (six
#: threads on two cores) nine participants joining at once queued behind each other's waits.
_MEDIA_THREADS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="kinship-media")
#: Threads for the consumers' database work, each with its own connection while it runs (closed when old).
_DB_WORKERS = 16
_DB_THREADS = ThreadPoolExecutor(max_workers=_DB_WORKERS, thread_name_prefix="kinship-signalling-db")


def media_call[T](function: Callable[..., T]) -> Callable[..., Any]:
    return sync_to_async(function, thread_sensitive=False, executor=_MEDIA_THREADS)


def db_call[T](function: Callable[..., T]) -> Callable[..., Any]:
    """Database work off the one shared sync thread: Channels' default (``thread_sensitive=True``) queues every
    socket's queries behind each other, and with nine participants joining at once each join waited about 65 ms
    per query for 12 ms of work (bench/media_load.py). Each call is a unit of its own (its own transaction, its
    connection closed when old, as ``database_sync_to_async`` does), so nothing needs the shared thread."""
    return database_sync_to_async(function, thread_sensitive=False, executor=_DB_THREADS)


def close_db_connections(timeout: float = 10.0) -> None:
    """Close the database connection each of ``db_call``'s threads holds, each thread closing its own (Django's
    connections belong to the thread that opened them). One task per thread: each waits at a barrier until every
    thread holds one, so no thread takes two. For the end of a test: channels' test communicator turns
    ``close_old_connections`` off while it drives a consumer, so the threads keep their connections open and
    PostgreSQL cannot drop the test database. Call it when no ``db_call`` is running."""
    barrier = threading.Barrier(_DB_WORKERS)

    def close() -> None:
        barrier.wait(timeout)
        connections.close_all()

    for done in [_DB_THREADS.submit(close) for _ in range(_DB_WORKERS)]:
        done.result()
