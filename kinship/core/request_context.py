"""Who is asking, from where, under which request id: set by middleware, read by the audit log.

A context variable rather than a thread-local, so it is correct under ASGI as well as WSGI.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str = ""
    user_agent: str = ""


# RequestContext is a frozen dataclass, so sharing one default instance is safe.
_current: ContextVar[RequestContext] = ContextVar("kinship_request_context", default=RequestContext())  # noqa: B039


def current() -> RequestContext:
    return _current.get()


def activate(context: RequestContext) -> object:
    return _current.set(context)


def deactivate(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
