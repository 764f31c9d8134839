"""Properties of the cluster_invariants filter, checked on generated clusters (hypothesis)."""

from __future__ import annotations

import random
from typing import Any

from ansible_collections.idm_automation.cluster.plugins.filter.cluster_invariants import (
    cluster_invariants,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants import (
    NODE_ID_PATTERN,
    normalise_node_id,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idm_cluster_factory import (
    DATASOURCE_SHA,
    KEYSTORE_SHA,
    SECRETS_SHA,
    TRUSTSTORE_SHA,
    clone,
    errors,
    make_node,
    verdict,
)

# Example counts keep the whole unit run to a few seconds; raise them locally to search harder.
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

host_names = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)
node_ids = st.from_regex(NODE_ID_PATTERN, fullmatch=True)


@st.composite
def timings(draw: st.DrawFn) -> dict[str, int]:
    # Within the documented bounds: interval from 100 ms, offset below the timeout.
    interval = draw(st.integers(100, 20_000))
    timeout = draw(st.integers(2 * interval, 4 * interval + 60_000))
    return {
        "instanceCheckInInterval": interval,
        "instanceTimeout": timeout,
        "instanceRecoveryTimeout": draw(st.integers(interval, 2 * interval + 60_000)),
        "instanceCheckInOffset": draw(st.integers(0, min(10_000, timeout - 1))),
    }


@st.composite
def secrets(draw: st.DrawFn) -> dict[str, Any]:
    mode = draw(st.sampled_from(["bootstrap", "provided", "shared"]))
    base: dict[str, Any] = {
        "mode": mode,
        "keystore_src": None,
        "truststore_src": None,
        "secrets_json_src": None,
        "keystore_location": None,
        "truststore_location": None,
    }
    if mode == "provided":
        base.update(keystore_src="files/ks.jceks", truststore_src="files/ts")
        base["secrets_json_src"] = draw(st.sampled_from([None, "files/secrets.json"]))
    if mode == "shared":
        base.update(keystore_location="/shared/ks", truststore_location="/shared/ts")
    return base


def _node(index: int, node_id: str, shared: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    node = make_node(index, machine=f"m{index % shared['machines']}")
    node["node_id"] = node_id
    node["version"] = shared["version"]
    node["cluster"].update(shared["timings"])
    node["secrets"] = dict(shared["secrets"])
    repo, files = shared["config"]
    node["config"] = {"repo_enabled": repo, "fileinstall_enabled": files}
    http, https, mutual = 8000 + 3 * index, 8001 + 3 * index, 8002 + 3 * index
    node["ports"] = {"http": http, "https": https, "mutualauth": mutual}
    node["listeners"] = [
        {"name": "http", "port": http, "secure": False, "enabled": draw(st.booleans())},
        {"name": "https", "port": https, "secure": True, "enabled": True},
    ]
    node["tls"]["public_hostname"] = shared["public"]
    node["tls"]["certificate_names"] = [draw(st.sampled_from(shared["names"]))]
    node["tls"]["clients_use_tls"] = draw(st.booleans())
    if draw(st.booleans()):
        node["node_id_source"] = "opts"
        node["jvm_options"] = ["-Xmx1g", "-Xms512m", f"-Dopenidm.node.id={node_id}"]
    node["standby"] = index > 0 and draw(st.booleans())
    node["scheduler"]["execute_persistent"] = index == 0 or draw(st.booleans())
    return node


@st.composite
def valid_clusters(draw: st.DrawFn, min_size: int = 1, max_size: int = 50) -> dict[str, Any]:
    count = draw(st.integers(min_size, max_size))
    hosts = draw(st.lists(host_names, min_size=count, max_size=count, unique=True))
    ids = draw(st.lists(node_ids, min_size=count, max_size=count, unique_by=normalise_node_id))
    shared = {
        "machines": draw(st.integers(1, count)),
        "version": draw(st.sampled_from(["8.1.0", "8.1.1"])),
        "timings": draw(timings()),
        "secrets": draw(secrets()),
        "config": draw(st.sampled_from([(True, True), (True, False), (False, True)])),
        "public": "idm.example.com",
        "names": ["idm.example.com", "*.example.com", "IDM.EXAMPLE.COM"],
    }
    nodes = {h: _node(i, ids[i], shared, draw) for i, h in enumerate(hosts)}
    desc: dict[str, Any] = {
        "nodes": nodes,
        "loadbalancers": {"lb": {"backends": list(reversed(hosts))}},
        "bootstrap_node": hosts[0],
    }
    if draw(st.booleans()):
        desc["facts"] = _facts(nodes, draw)
        rows = [{"id": node["node_id"], "state": "running"} for node in nodes.values()]
        desc["repository_instances"] = rows
    return desc


def _facts(nodes: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    facts = {
        host: {
            "keystore_sha256": KEYSTORE_SHA,
            "truststore_sha256": TRUSTSTORE_SHA,
            "secrets_json_sha256": SECRETS_SHA,
            "datasource_sha256": DATASOURCE_SHA,
            "node_id": node["node_id"],
        }
        for host, node in nodes.items()
    }
    hosts = list(facts)
    drifted = draw(st.integers(0, (len(hosts) - 1) // 2))  # a strict minority: warnings only
    for host in draw(st.permutations(hosts))[:drifted]:
        facts[host]["keystore_sha256"] = "0" * 64
    return facts


@SETTINGS
@given(valid_clusters())
def test_valid_generated_cluster_has_no_errors(desc: dict[str, Any]) -> None:
    assert errors(desc) == []


def _variant(value: str, how: str) -> str:
    if how == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)
    if how == "spaces":
        return f"  {value}\t"
    return {"same": value, "upper": value.upper(), "lower": value.lower()}.get(
        how, value.swapcase()
    )


@SETTINGS
@given(
    valid_clusters(min_size=2, max_size=20),
    st.sampled_from(["same", "upper", "lower", "swapcase", "spaces", "fullwidth"]),
    st.data(),
)
def test_duplicated_node_id_is_rejected(desc: dict[str, Any], how: str, data: st.DataObject):
    hosts = list(desc["nodes"])
    first, second = data.draw(st.permutations(hosts))[:2]
    desc["nodes"][second]["node_id"] = _variant(desc["nodes"][first]["node_id"], how)
    desc["nodes"][second]["node_id_source"] = "boot_properties"
    assert any(v["rule"] == "node-id" and {first, second} <= set(v["hosts"]) for v in errors(desc))


def _break(desc: dict[str, Any], rnd: random.Random) -> None:
    """Apply a few rule-breaking changes at random hosts."""
    hosts = list(desc["nodes"])
    for _ in range(rnd.randint(1, 6)):
        node = desc["nodes"][rnd.choice(hosts)]
        change = rnd.randrange(10)
        if change == 0:
            node["node_id"] = desc["nodes"][rnd.choice(hosts)]["node_id"].upper()
        elif change == 1:
            node["version"] = "8.0.0"
        elif change == 2:
            node["repository"]["host"] = rnd.choice(["pg2", "PG1"])
        elif change == 3:
            node["cluster"]["enabled"] = False
        elif change == 4:
            node["tls"]["certificate_names"] = rnd.choice([["localhost"], None])
        elif change == 5:
            node["ports"]["http"] = node["ports"]["https"]
        elif change == 6:
            node["secrets"]["mode"] = "shared"
        elif change == 7:
            node["scheduler"]["schedules"][0]["persisted"] = False
        elif change == 8:
            node["machine"] = "m0"
        else:
            desc.setdefault("facts", {}).setdefault(rnd.choice(hosts), {})["keystore_sha256"] = (
                rnd.choice("xyz")
            )


def _shuffled(desc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    def shuffle_dict(value: dict[str, Any]) -> dict[str, Any]:
        keys = list(value)
        rnd.shuffle(keys)
        return {key: value[key] for key in keys}

    result = clone(desc)
    result["nodes"] = shuffle_dict(result["nodes"])
    if "facts" in result:
        result["facts"] = shuffle_dict(result["facts"])
    for balancer in result.get("loadbalancers", {}).values():
        rnd.shuffle(balancer["backends"])
    rnd.shuffle(result.get("repository_instances", []))
    return result


@SETTINGS
@given(valid_clusters(min_size=2, max_size=30), st.randoms(use_true_random=False))
def test_host_order_never_changes_the_verdict(desc: dict[str, Any], rnd: random.Random) -> None:
    _break(desc, rnd)
    shuffled = _shuffled(desc, rnd)
    assert verdict(shuffled) == verdict(desc)
    assert cluster_invariants(shuffled) == cluster_invariants(desc)  # messages too


# --- issue 14: rules over generated inventories ------------------------------------------------


def _hosts_of(violations: list[dict[str, Any]], rule: str) -> set[str]:
    return {host for v in violations if v["rule"] == rule for host in v["hosts"]}


@SETTINGS
@given(
    valid_clusters(min_size=2, max_size=20),
    st.sampled_from(["localhost", "127.0.0.1", "127.8.9.10", "::1", "LOCALHOST."]),
)
def test_loopback_repository_is_refused_when_nodes_span_machines(
    desc: dict[str, Any], loopback: str
) -> None:
    for index, node in enumerate(desc["nodes"].values()):
        node["repository"]["host"] = loopback
        node["machine"] = f"m{index}"  # one machine per node
    assert _hosts_of(errors(desc), "one-repository") == set(desc["nodes"])


@SETTINGS
@given(valid_clusters(min_size=2, max_size=20), st.data())
def test_two_aliases_of_one_machine_with_one_home_are_refused(
    desc: dict[str, Any], data: st.DataObject
) -> None:
    first, second = data.draw(st.permutations(list(desc["nodes"])))[:2]
    desc["nodes"][second]["machine"] = first  # ansible_host of one is the other's name
    desc["nodes"][second]["home"] = desc["nodes"][first]["home"]
    assert {first, second} <= _hosts_of(errors(desc), "own-installation")


@SETTINGS
@given(valid_clusters(min_size=2, max_size=20), st.data())
def test_renaming_a_live_node_into_a_down_instance_is_refused(
    desc: dict[str, Any], data: st.DataObject
) -> None:
    hosts = list(desc["nodes"])
    host = data.draw(st.sampled_from(hosts))
    desc["facts"] = _facts(desc["nodes"], data.draw)
    desc["facts"][host]["node_id"] = "previous-id-of-this-host"
    node_id = desc["nodes"][host]["node_id"]
    desc["repository_instances"] = [{"id": node_id, "state": "down"}]
    assert any(v["rule"] == "node-id" and v["hosts"] == [host] for v in errors(desc))


@SETTINGS
@given(valid_clusters(min_size=1, max_size=20), st.data())
def test_a_backend_listed_twice_is_refused(desc: dict[str, Any], data: st.DataObject) -> None:
    backends = desc["loadbalancers"]["lb"]["backends"]
    twice = data.draw(st.sampled_from(backends))
    backends.insert(data.draw(st.integers(0, len(backends))), twice)
    assert {"lb", twice} <= _hosts_of(errors(desc), "loadbalancer-backends")


@SETTINGS
@given(valid_clusters(min_size=1, max_size=20), st.integers(0, 10**6))
def test_checkin_offset_from_the_timeout_on_is_refused(desc: dict[str, Any], extra: int) -> None:
    for node in desc["nodes"].values():
        node["cluster"]["instanceCheckInOffset"] = node["cluster"]["instanceTimeout"] + extra
    assert _hosts_of(errors(desc), "cluster-settings") == set(desc["nodes"])
