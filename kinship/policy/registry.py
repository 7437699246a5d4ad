"""The rule registry: every rule of POLICY.md under its id, with the profiles it applies to and a one-line
summary.

A rule is declared by decorating the first function that implements it::

    @rule("PF 4.13", profiles=PRISON_PROFILES, summary="At most 4 people join a call from outside ...",
          facts=ParticipantFacts)
    def outside_participants_limit(facts: ParticipantFacts) -> Iterator[Reason]: ...

Further functions for the same rule give only the id (and ``facts`` when they are checks)::

    @rule("PF 4.13", facts=SettingsFacts)
    def participant_limit_setting(facts: SettingsFacts) -> Iterator[Reason]: ...

A function registered with ``facts=`` is a *check*: ``evaluate`` runs it for any facts of that type (or a
subtype) at an establishment whose profile the rule covers. A function registered without ``facts`` is a
*calculation* a workflow calls directly (a deadline, a capacity test); it is listed in the catalogue but never
run by ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, cast

from kinship.policy.decision import Reason
from kinship.policy.facts import Facts
from kinship.policy.vocabulary import Profile

type CheckFunction = Callable[[Any], Iterable[Reason]]


@dataclass(frozen=True, slots=True)
class Check:
    function: CheckFunction
    facts_type: type[Facts]

    @property
    def name(self) -> str:
        return self.function.__name__


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    profiles: frozenset[Profile]
    summary: str
    checks: tuple[Check, ...] = ()
    calculations: tuple[Callable[..., object], ...] = ()

    @property
    def functions(self) -> tuple[Callable[..., object], ...]:
        """Every function implementing the rule, checks first, in the order they were registered."""
        return (*(check.function for check in self.checks), *self.calculations)


class RegistryError(Exception):
    """A rule registered inconsistently: a programming error found at import time."""


_RULES: dict[str, Rule] = {}
#: How many registrations there have been: with the registry's identity (a test may swap in a copy), it says
#: whether what ``all_rules`` and ``checks_for`` worked out is still true.
_registrations = 0
_KEPT: dict[Any, Any] = {}
_STATE = object()


def _kept[T](key: Any, work_out: Callable[[], T]) -> T:
    """``work_out()``, kept under ``key`` until a rule is registered: every decision asks for the same rules."""
    state = (id(_RULES), _registrations)
    if _KEPT.get(_STATE) != state:
        _KEPT.clear()
        _KEPT[_STATE] = state
    if key not in _KEPT:
        _KEPT[key] = work_out()
    return cast(T, _KEPT[key])


def rule[F: Callable[..., object]](
    rule_id: str,
    *,
    summary: str | None = None,
    profiles: frozenset[Profile] | None = None,
    facts: type[Facts] | None = None,
) -> Callable[[F], F]:
    """Register the decorated function under ``rule_id``; see the module docstring.

    Exactly one registration of each rule gives its ``summary`` and ``profiles``; which one does not matter,
    so rule modules can be imported in any order.
    """

    def register(function: F) -> F:
        global _registrations
        _registrations += 1
        entry = _RULES.get(rule_id, Rule(rule_id, frozenset(), ""))
        if summary is not None:
            if entry.summary:
                raise RegistryError(f"{rule_id}: summary and profiles are given on one registration only")
            if not profiles:
                raise RegistryError(f"{rule_id}: a rule applies to at least one profile")
            entry = replace(entry, summary=summary, profiles=profiles)
        elif profiles is not None:
            raise RegistryError(f"{rule_id}: profiles are given together with the summary")
        if facts is None:
            entry = replace(entry, calculations=(*entry.calculations, function))
        else:
            # A check takes its facts and yields reasons; the decorator's generic type cannot say so.
            entry = replace(entry, checks=(*entry.checks, Check(cast(CheckFunction, function), facts)))
        _RULES[rule_id] = entry
        return function

    return register


def all_rules() -> tuple[Rule, ...]:
    """Every registered rule, in catalogue order (PF before DSO, then by paragraph)."""
    return _kept("all", _in_catalogue_order)


def _in_catalogue_order() -> tuple[Rule, ...]:
    incomplete = sorted(rule_id for rule_id, entry in _RULES.items() if not entry.summary)
    if incomplete:
        raise RegistryError(f"rules registered without a summary: {', '.join(incomplete)}")
    return tuple(sorted(_RULES.values(), key=lambda registered: rule_sort_key(registered.id)))


def checks_for(facts_type: type[Facts], profile: Profile) -> tuple[CheckFunction, ...]:
    """The checks ``evaluate`` runs for facts of ``facts_type`` at an establishment of ``profile``: every check
    registered for that type (or a supertype) under a rule covering the profile, in catalogue order."""
    return _kept(
        (facts_type, profile),
        lambda: tuple(
            check.function
            for registered in all_rules()
            if profile in registered.profiles
            for check in registered.checks
            if issubclass(facts_type, check.facts_type)
        ),
    )


def get_rule(rule_id: str) -> Rule:
    return _RULES[rule_id]


def rule_sort_key(rule_id: str) -> tuple[str, tuple[int, ...], str]:
    """``PF 4.2`` before ``PF 4.10``; ``DSO 19`` before ``DSO Annex A``."""
    source, _, paragraph = rule_id.partition(" ")
    numbers = tuple(int(part) for part in paragraph.split(".")) if paragraph[0].isdigit() else ()
    return ("0" if source == "PF" else "1" + source, numbers or (10_000,), paragraph)
