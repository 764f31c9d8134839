"""Issue 14 items 5-7: who holds key material, judged once for preflight and the secrets phase.

Rule 4 (one-keystore) of cluster_invariants and the secrets_source filter share one helper
(key_holders): a description that preflight passes (errors only stop a run) never makes the
secrets phase's filter fail on the same facts. Rules 1 and 4 also judge the nodes outside
--limit (description key ``outside_limit``), and rule 4 refuses to replace the files of a node
that ran as a cluster member unless ``secrets_overwrite_allowed``.
"""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.secrets_source import (
    secrets_source,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants import (
    key_holders,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from idm_cluster_factory import clone, make_cluster, verdict

SHIPPED = {"keystore_sha256": None, "truststore_sha256": None, "secrets_json_sha256": "shipped"}


def keys(keystore: str, member: bool = False) -> dict[str, Any]:
    return {
        "keystore_sha256": keystore,
        "truststore_sha256": "t",
        "secrets_json_sha256": "s",
        "member": member,
    }


def cluster(facts: dict[str, Any], count: int = 5) -> dict[str, Any]:
    desc = make_cluster(count)
    desc["facts"] = facts
    return desc


def rule4(desc: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    return {(sev, hosts) for rule, sev, hosts in verdict(desc) if rule == "one-keystore"}


def test_only_a_keystore_makes_a_holder() -> None:
    facts = {"idm1": keys("a"), "idm2": SHIPPED, "idm3": {"datasource_sha256": "d"}, "idm4": {}}
    assert key_holders(facts, ["idm1", "idm2", "idm3", "idm4", "idm1"]) == ["idm1"]
    assert key_holders(None, ["idm1"]) == []


def test_shipped_secrets_json_gives_no_vote() -> None:
    """Two keystores disagree 1:1; three nodes carry only the shipped secrets.json. On main,
    preflight counted those three as a majority (a warning) and the filter then failed mid-play."""
    facts = {
        "idm1": keys("a"),
        "idm2": keys("b"),
        "idm3": SHIPPED,
        "idm4": SHIPPED,
        "idm5": SHIPPED,
    }
    with pytest.raises(AnsibleFilterError):
        secrets_source(facts, list(facts))
    assert ("error", ("idm1", "idm2")) in rule4(cluster(facts))


fact_entries = st.sampled_from([None, SHIPPED, keys("a"), keys("b"), {"datasource_sha256": "d"}])


@settings(max_examples=200, deadline=None)
@given(st.lists(fact_entries, min_size=1, max_size=7))
def test_preflight_passes_exactly_when_the_secrets_phase_can_choose(entries: list) -> None:
    hosts = [f"idm{i + 1}" for i in range(len(entries))]
    facts = {h: e for h, e in zip(hosts, entries, strict=True) if e is not None}
    errors = {hosts for sev, hosts in rule4(cluster(facts, len(hosts))) if sev == "error"}
    try:
        secrets_source(facts, hosts)
    except AnsibleFilterError:
        assert errors, facts
    else:
        assert not errors, facts


def limited(count: int, in_play: list[str]) -> dict[str, Any]:
    """A cluster of ``count`` nodes of which only ``in_play`` are in the run (--limit)."""
    desc = make_cluster(count)
    outside = [h for h in desc["nodes"] if h not in in_play]
    desc["outside_limit"] = {h: {"node_id": desc["nodes"][h]["node_id"]} for h in outside}
    for host in outside:
        del desc["nodes"][host]
    desc["loadbalancers"] = {}
    return desc


def test_limited_run_refuses_a_node_id_of_a_node_outside_the_limit() -> None:
    desc = limited(3, ["idm1", "idm3"])
    desc["nodes"]["idm3"]["node_id"] = desc["outside_limit"]["idm2"]["node_id"].upper()
    assert ("node-id", "error", ("idm2", "idm3")) in verdict(desc)
    assert not [v for v in verdict(limited(3, ["idm1", "idm3"])) if v[1] == "error"]


def test_limited_run_must_include_the_bootstrap_node() -> None:
    assert ("bootstrap-node", "error", ("idm1",)) in verdict(limited(3, ["idm2", "idm3"]))


def test_limited_run_refuses_to_create_keys_while_others_hold_them() -> None:
    desc = limited(3, ["idm1"])  # the bootstrap node, re-provisioned: no keystore
    desc["facts"] = {"idm1": SHIPPED, "idm2": keys("a"), "idm3": keys("a")}
    assert ("error", ("idm1", "idm2", "idm3")) in rule4(desc)
    # Without --limit the same facts are a repair (idm1 receives idm2's files).
    assert not [v for v in rule4(cluster(desc["facts"], 3)) if v[0] == "error"]


def test_limited_run_cannot_repair_from_outside_the_limit() -> None:
    desc = limited(4, ["idm1", "idm4"])
    desc["facts"] = {"idm1": SHIPPED, "idm2": keys("a"), "idm3": keys("a"), "idm4": keys("b")}
    assert rule4(desc) == {("error", ("idm4",))}


def test_member_keystore_is_not_replaced_unless_allowed() -> None:
    facts = {"idm1": keys("a", True), "idm2": keys("a", True), "idm3": keys("b", True)}
    desc = cluster(facts, 3)
    assert rule4(desc) == {("error", ("idm3",))}
    allowed = clone(desc)
    allowed["secrets_overwrite_allowed"] = True
    assert rule4(allowed) == {("warning", ("idm3",))}
    never_ran = cluster({**facts, "idm3": keys("b")}, 3)
    assert rule4(never_ran) == {("warning", ("idm3",))}
