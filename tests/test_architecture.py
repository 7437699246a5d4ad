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
