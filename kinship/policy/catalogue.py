"""The catalogue: what the engine enforces, rendered from the registry for staff and auditors.

``docs/rules.md`` is generated from here (``python -m kinship.policy --markdown > docs/rules.md``); a test
fails when the file is stale.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from kinship.policy import engine as _engine  # noqa: F401  (registers the rules)
from kinship.policy.registry import Rule, all_rules
from kinship.policy.vocabulary import Profile


def _profiles(rule: Rule) -> str:
    # Profile order, not alphabetical order: prison, youth custody, immigration detention.
    return ",".join(profile.value for profile in Profile if profile in rule.profiles)


def list_lines() -> list[str]:
    """One line per rule: ``ID<TAB>profiles<TAB>summary``."""
    return [f"{rule.id}\t{_profiles(rule)}\t{rule.summary}" for rule in all_rules()]


def _paragraphs(function: Callable[..., object]) -> list[str]:
    doc = inspect.getdoc(function) or ""
    return [" ".join(paragraph.split()) for paragraph in doc.split("\n\n") if paragraph.strip()]


def _describe(function: Callable[..., object], kind: str) -> list[str]:
    paragraphs = _paragraphs(function)
    first = f": {paragraphs[0]}" if paragraphs and not paragraphs[0].startswith("Interpretation") else ""
    lines = [f"- {kind} `{function.__name__}`{first}"]
    lines += [f"  - {paragraph}" for paragraph in paragraphs if paragraph.startswith("Interpretation")]
    return lines


def markdown() -> str:
    """The whole catalogue as Markdown: a summary table, then each rule with the code that enforces it."""
    chosen = all_rules()
    lines = [
        "# Rules Kinship enforces",
        "",
        "Generated from the `kinship.policy` registry: do not edit by hand. Regenerate with",
        "`python -m kinship.policy --markdown > docs/rules.md`.",
        "",
        "PF: HMPPS *Secure Social Video Calling Policy Framework* (re-issued 11 March 2024).",
        "DSO: Home Office *Detention Services Order 01/2020, Detainee Access to Video Call Service*.",
        "A **check** runs whenever the engine is asked for a decision; a **calculation** is used by a workflow",
        "(a deadline, a capacity test). An *interpretation* is how Kinship reads text the policy leaves open.",
        "",
        "| Rule | Profiles | Summary |",
        "|---|---|---|",
    ]
    lines += [f"| {rule.id} | {_profiles(rule).replace(',', ', ')} | {rule.summary} |" for rule in chosen]
    for rule in chosen:
        lines += [
            "",
            f"## {rule.id}",
            "",
            rule.summary,
            "",
            f"Profiles: {_profiles(rule).replace(',', ', ')}.",
            "",
        ]
        for check in rule.checks:
            lines += _describe(check.function, f"check on `{check.facts_type.__name__}`:")
        for calculation in rule.calculations:
            lines += _describe(calculation, "calculation")
    return "\n".join(lines) + "\n"
