"""Architecture rules that keep the project safe as it grows."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

ACCESS_KINDS = {"public", "contact", "staff", "terminal"}


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern, str]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace or ""
            yield from (
                (route, p, ns or namespace)
                for route, p, ns in _patterns(pattern, prefix + str(pattern.pattern))
            )
        else:
            yield prefix + str(pattern.pattern), pattern, ""


def test_every_view_declares_who_may_reach_it() -> None:
    """Deny by default: a view that does not say whether it is public, for contacts, for staff (with roles) or for
    registered terminals is a mistake waiting to happen. The back-office admin has its own checks."""
    undeclared = [
        route
        for route, pattern, namespace in _patterns(get_resolver())
        if namespace != "admin" and getattr(pattern.callback, "kinship_access", None) not in ACCESS_KINDS
    ]
    assert undeclared == []


def test_staff_views_name_their_roles() -> None:
    unnamed = [
        route
        for route, pattern, namespace in _patterns(get_resolver())
        if getattr(pattern.callback, "kinship_access", None) == "staff"
        and not getattr(pattern.callback, "kinship_roles", None)
    ]
    assert unnamed == []


def test_the_policy_engine_imports_no_django() -> None:
    """Also enforced by import-linter in `make check`; here it is visible in the suite, down to lazy imports."""
    policy_dir = Path(__file__).resolve().parent.parent / "kinship" / "policy"
    offenders = []
    for source in policy_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{source.name}: {name}" for name in names if name.split(".")[0] in {"django", "config"}
            ]
    assert offenders == []


# Modules whose PAGES table runs every page against every role, another establishment, contacts and anonymous
# people (kinship/establishments/tests/access.py).
ACCESS_TABLES = [
    "kinship.establishments.tests.test_access",
    "kinship.people.tests.test_access",
    "kinship.bookings.tests.test_staff_pages",
    "kinship.safeguarding.tests.test_restrictions_pages",
    "kinship.safeguarding.tests.test_welfare_access",
    "kinship.calls.tests.test_pages",
    "kinship.recordings.tests.test_pages",
    "kinship.calls.tests.test_monitoring_pages",
]
# Staff pages whose refusals are tested on their own instead, and the module that tests them.
TESTED_ELSEWHERE = {
    "accounts:identity-queue": "kinship/accounts/tests/test_identity.py",
    "accounts:identity-review": "kinship/accounts/tests/test_identity.py",
    "accounts:identity-document": "kinship/accounts/tests/test_identity.py",
    "bookings-terminal:staff-pin": "kinship/bookings/tests/test_terminal_pages.py",
    "establishments:create": "kinship/establishments/tests/test_access.py",
}


def _staff_pages_of_an_establishment() -> set[str]:
    names = set()
    for route, pattern, namespace in _patterns(get_resolver()):
        callback = pattern.callback
        if getattr(callback, "kinship_access", None) == "staff" and "<str:establishment>" in route:
            names.add(f"{namespace}:{pattern.name}" if namespace else str(pattern.name))
    return names


def test_every_staff_page_has_its_refusals_tested() -> None:
    """Deny by default is only as good as its tests: each staff page is in an access table, or named here with the
    module that tests who it refuses. The API's staff endpoints are tested in kinship/api/tests/test_staff_api.py."""
    import importlib

    tabled = {page.name for module in ACCESS_TABLES for page in importlib.import_module(module).PAGES}
    root = Path(__file__).resolve().parent.parent
    untested = []
    for name in sorted(_staff_pages_of_an_establishment() - tabled):
        if name.startswith("api:"):
            continue
        where = TESTED_ELSEWHERE.get(name)
        if where is None or name.split(":")[1] not in (root / where).read_text(encoding="utf-8"):
            untested.append(name)
    assert untested == []
