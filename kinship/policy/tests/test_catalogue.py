"""The registry, the catalogue, ``python -m kinship.policy`` and the freshness of docs/rules.md."""

from __future__ import annotations

import runpy
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kinship.policy import ALL_PROFILES, PRISON_PROFILES, Profile, get_rule, registry
from kinship.policy.__main__ import main
from kinship.policy.catalogue import list_lines, markdown
from kinship.policy.decision import Reason
from kinship.policy.engine import evaluate
from kinship.policy.facts import AccessFacts, SettingsFacts
from kinship.policy.registry import RegistryError, all_rules, rule, rule_sort_key
from kinship.policy.tests import builders

RULES_MD = Path(__file__).resolve().parents[3] / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date() -> None:
    assert RULES_MD.read_text() == markdown(), (
        "docs/rules.md is stale: run `python -m kinship.policy --markdown > docs/rules.md`"
    )


def test_list_prints_one_line_per_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == list_lines()
    assert len(lines) == len(all_rules())
    assert "PF 4.13\tprison,youth_custody\tAt most 4 people join a call from outside" in lines[13]
    assert all(len(line.split("\t")) == 3 for line in lines)


def test_markdown_has_a_section_per_rule_with_interpretations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--markdown"]) == 0
    text = capsys.readouterr().out
    assert all(f"\n## {registered.id}\n" in text for registered in all_rules())
    assert "  - Interpretation: the large-family exception" in text
    assert "- calculation `appeal_decision_due`: 48 hours after" in text


def test_an_option_is_required() -> None:
    with pytest.raises(SystemExit):
        main([])


def test_runs_as_a_module(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m kinship.policy", "--list"])
    # Run the module fresh, as `python -m` does, not the copy this test module imported.
    monkeypatch.delitem(sys.modules, "kinship.policy.__main__")
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("kinship.policy", run_name="__main__")
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("PF 1.3\t")


def test_catalogue_order_and_profiles() -> None:
    ids = [registered.id for registered in all_rules()]
    assert ids.index("PF 4.2") < ids.index("PF 4.10") < ids.index("PF 5.1") < ids.index("DSO 1")
    assert ids[-1] == "DSO Annex A"
    assert rule_sort_key("DSO 19") < rule_sort_key("DSO Annex A")
    assert get_rule("PF 4.15").profiles == ALL_PROFILES
    assert get_rule("PF 4.13").profiles == PRISON_PROFILES
    assert get_rule("DSO 18").calculations


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test are undone after it."""
    monkeypatch.setattr(registry, "_RULES", dict(registry._RULES))


def _nothing(facts: SettingsFacts | None) -> Iterator[object]:
    yield from ()


@pytest.mark.usefixtures("scratch_registry")
def test_summary_and_profiles_are_given_once() -> None:
    with pytest.raises(RegistryError, match="one registration only"):
        rule("PF 4.13", summary="again", profiles=PRISON_PROFILES)(_nothing)
    with pytest.raises(RegistryError, match="together with the summary"):
        rule("PF 4.13", profiles=PRISON_PROFILES)(_nothing)
    with pytest.raises(RegistryError, match="at least one profile"):
        rule("TEST 1", summary="A test rule.", profiles=frozenset())(_nothing)


@pytest.mark.usefixtures("scratch_registry")
def test_a_rule_without_summary_is_reported() -> None:
    rule("TEST 2", facts=SettingsFacts)(_nothing)
    with pytest.raises(RegistryError, match="TEST 2"):
        all_rules()


@pytest.mark.usefixtures("scratch_registry")
def test_rules_may_be_registered_in_any_order() -> None:
    rule("TEST 3", facts=SettingsFacts)(_nothing)
    rule("TEST 3", summary="A test rule.", profiles=frozenset({Profile.PRISON}))(_nothing)
    registered = get_rule("TEST 3")
    assert registered.summary == "A test rule."
    assert [check.name for check in registered.checks] == ["_nothing"]
    assert registered.functions == (_nothing, _nothing)
    assert tuple(registered.checks[0].function(None)) == ()


def test_a_rule_registered_after_decisions_were_made_takes_part_in_the_next() -> None:
    """``evaluate`` keeps the checks it worked out until a rule is registered or the registry is swapped."""
    facts = builders.access()
    before = evaluate(facts)
    patch = pytest.MonkeyPatch()
    patch.setattr(registry, "_RULES", dict(registry._RULES))

    def refuse_everyone(facts: AccessFacts) -> Iterator[Reason]:
        yield Reason.refuse("TEST 5", "test.everyone")

    rule("TEST 5", summary="A test rule.", profiles=frozenset({Profile.PRISON}), facts=AccessFacts)(
        refuse_everyone
    )
    during = evaluate(facts)
    patch.undo()
    after = evaluate(facts)
    assert "TEST 5" not in before.rule_ids
    assert during.rule_ids == before.rule_ids | {"TEST 5"}
    assert after == before
