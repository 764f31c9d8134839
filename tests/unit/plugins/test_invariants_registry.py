"""The rule registry is the one list: the filter, docs/invariants.md and the rule tests follow it.

A rule added to ``plugin_utils/invariants/registry.py`` without its docs heading or without a
failing case in ``test_cluster_invariants_rules.CASES`` fails here, naming what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible_collections.idm_automation.cluster.plugins.filter import cluster_invariants
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.registry import (
    RULES,
    Rule,
)
from idm_cluster_factory import make_cluster
from test_cluster_invariants_rules import CASES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "invariants.md"
HEADING = re.compile(r"^### (\d+) `([a-z][a-z-]*)`: (.+)$", flags=re.MULTILINE)


def _violations_by_rule() -> dict[str, list[dict[str, object]]]:
    """Every violation the rule test cases produce, by rule id."""
    found: dict[str, list[dict[str, object]]] = {}
    for _name, change, _expected in CASES:
        desc = make_cluster(3)
        change(desc)
        for violation in cluster_invariants.cluster_invariants(desc):
            found.setdefault(str(violation["rule"]), []).append(violation)
    return found


def test_rule_ids_are_unique_and_numbers_ordered() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    numbers = [rule.number for rule in RULES]
    assert numbers == sorted(numbers) and set(numbers) == set(range(1, numbers[-1] + 1))
    assert numbers[-1] == 14


def test_filter_exposes_the_registry() -> None:
    assert {rule.id: rule.number for rule in RULES} == cluster_invariants.RULES


def test_docs_list_the_registered_rules() -> None:
    documented = [(int(n), slug, name) for n, slug, name in HEADING.findall(DOCS.read_text())]
    assert documented == [(rule.number, rule.id, rule.name) for rule in RULES]


def test_docs_say_where_to_add_a_rule() -> None:
    text = DOCS.read_text()
    assert "## How to add a rule" in text
    assert "plugins/plugin_utils/invariants/registry.py" in text


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_rule_check_lives_in_its_family(rule: Rule) -> None:
    module = rule.check.__module__
    assert module.endswith(f".plugin_utils.invariants.{rule.family}"), module
    assert rule.name and rule.fix and rule.check.__doc__


def test_every_registered_rule_is_triggered_by_a_test_case() -> None:
    expected = {rule for _name, _change, verdict in CASES for rule, _severity, _hosts in verdict}
    missing = [rule.id for rule in RULES if rule.id not in expected]
    assert not missing, f"no case in test_cluster_invariants_rules.CASES triggers {missing}"


def test_every_registered_fix_is_one_the_rule_gives() -> None:
    found = _violations_by_rule()
    for rule in RULES:
        pattern = re.compile(
            "".join(
                ".+" if part in ("{host}", "{name}") else re.escape(part)
                for part in re.split(r"(\{host\}|\{name\})", rule.fix)
            )
        )
        fixes = {str(violation["fix"]) for violation in found.get(rule.id, [])}
        assert any(pattern.fullmatch(fix) for fix in fixes), (rule.id, sorted(fixes))
