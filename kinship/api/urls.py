"""The JSON API under /api/v1/.

Every URL ninja generates is declared here the way every other view in the project is (``kinship_access``,
checked by tests/test_architecture.py): an endpoint's function carries its declaration (``mark``) and the URL
takes it over; the schema is public. A URL whose endpoint declares nothing fails at start-up (deny by default),
as does a path whose methods disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, path

from kinship.core.permissions import mark

from . import contact, staff
from .api import api

app_name = "api"

#: ninja's own URLs: the schema (public: it describes the interface, holds no data) and the API root.
PUBLIC = {"openapi-json", "api-root"}


def _declarations() -> dict[str, tuple[str, frozenset[Any]]]:
    """URL name -> (access, roles), from the endpoints' ``mark``. A path's URL serves all its methods, so each
    of its names gets the union of their roles and they must agree on the kind of access."""
    found: dict[str, tuple[str, frozenset[Any]]] = {}
    for router in (contact.router, staff.router):
        for route, path_view in router.path_operations.items():
            kinds = {getattr(op.view_func, "kinship_access", None) for op in path_view.operations}
            access = kinds.pop() if len(kinds) == 1 else None
            if access is None:
                raise ImproperlyConfigured(f"API path {route!r} must declare one kind of access.")
            roles = frozenset().union(
                *(getattr(op.view_func, "kinship_roles", ()) for op in path_view.operations)
            )
            for operation in path_view.operations:
                found[operation.url_name] = (access, roles)
    return found


def _declared(pattern: URLPattern, access: str, roles: frozenset[Any]) -> URLPattern:
    view = pattern.callback

    @wraps(view)
    def declared(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return view(request, *args, **kwargs)

    declared.csrf_exempt = getattr(view, "csrf_exempt", False)  # type: ignore[attr-defined]
    marked: Callable[..., HttpResponseBase] = mark(access, roles)(declared)
    return path(str(pattern.pattern), marked, name=pattern.name)


def _urlpatterns() -> list[URLPattern]:
    declarations = _declarations()
    patterns, _app, _namespace = api.urls
    result = []
    for pattern in patterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name in PUBLIC:
            result.append(_declared(pattern, "public", frozenset()))
        elif pattern.name in declarations:
            result.append(_declared(pattern, *declarations[pattern.name]))
        else:
            raise ImproperlyConfigured(f"API URL {pattern.name!r} declares no access.")
    return result


urlpatterns = _urlpatterns()
