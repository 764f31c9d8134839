"""The secrets_source filter: the strict majority's earliest host, None, or a clear error."""

from __future__ import annotations

from collections import Counter

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.secrets_source import (
    FilterModule,
    secrets_source,
)
from hypothesis import given, settings
from hypothesis import strategies as st

HOSTS = ["idm1", "idm2", "idm3", "idm4", "idm5"]


def files(keystore: str | None, truststore: str | None = "t", secrets: str | None = "s") -> dict:
    return {
        "keystore_sha256": keystore,
        "truststore_sha256": truststore,
        "secrets_json_sha256": secrets,
    }


@pytest.mark.parametrize(
    ("facts", "order", "expected"),
    [
        ({}, HOSTS[:3], None),
        ({"idm1": {}, "idm2": {"node_id": "x"}}, HOSTS[:3], None),
        ({"idm3": files("a")}, HOSTS[:3], "idm3"),
        ({h: files("a") for h in HOSTS[:3]}, HOSTS[:3], "idm1"),
        ({h: files("a") for h in HOSTS[:3]}, ["idm3", "idm1", "idm2"], "idm3"),
        ({"idm1": files("a"), "idm2": files("b"), "idm3": files("b")}, HOSTS[:3], "idm2"),
        ({"idm1": files("a"), "idm2": {}, "idm3": {"node_id": "n"}}, HOSTS[:3], "idm1"),
        ({"idm1": files("A "), "idm2": files("a")}, HOSTS[:2], "idm1"),  # normalised checksums
        ({"idm1": files("a"), "idm9": files("b"), "idm8": files("b")}, HOSTS[:3], "idm1"),
        (None, HOSTS[:3], None),
    ],
    ids=[
        "no-facts",
        "no-files",
        "single-holder",
        "all-agree",
        "order-decides-within-majority",
        "majority-wins",
        "pending-host-has-no-vote",
        "checksum-case",
        "hosts-outside-the-order-ignored",
        "facts-none",
    ],
)
def test_choice(facts: dict | None, order: list[str], expected: str | None) -> None:
    assert secrets_source(facts, order) == expected


@pytest.mark.parametrize(
    "facts",
    [
        {"idm1": files("a"), "idm2": files("b")},
        {"idm1": files("a"), "idm2": files("b"), "idm3": files("c")},
        {"idm1": files("a"), "idm2": files("a", secrets=None)},
    ],
    ids=["one-against-one", "all-different", "missing-file-counts"],
)
def test_no_strict_majority_raises_naming_the_groups(facts: dict) -> None:
    with pytest.raises(AnsibleFilterError, match=r"\[idm1\] vs \[idm2\]"):
        secrets_source(facts, HOSTS[:3])


@pytest.mark.parametrize("order", ["idm1", None, {"idm1": 1}])
def test_order_must_be_a_list(order: object) -> None:
    with pytest.raises(AnsibleFilterError, match="list of cluster hosts"):
        secrets_source({}, order)


def test_facts_must_be_a_dict() -> None:
    with pytest.raises(AnsibleFilterError, match="dictionary of facts"):
        secrets_source(["idm1"], HOSTS)


def test_registered() -> None:
    assert FilterModule().filters() == {"secrets_source": secrets_source}


signatures = st.sampled_from(
    [None, ("a", "t", "s"), ("b", "t", "s"), ("a", "u", "s"), ("a", None, "s")]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(signatures, min_size=1, max_size=9), st.randoms(use_true_random=False))
def test_returns_a_majority_holder(choices: list, rnd) -> None:
    hosts = [f"h{i}" for i in range(len(choices))]
    facts = {h: files(*sig) for h, sig in zip(hosts, choices, strict=True) if sig is not None}
    order = hosts[:]
    rnd.shuffle(order)
    holders = Counter(sig for sig in choices if sig is not None)
    if not holders:
        assert secrets_source(facts, order) is None
        return
    signature, count = holders.most_common(1)[0]
    if 2 * count <= sum(holders.values()):
        with pytest.raises(AnsibleFilterError):
            secrets_source(facts, order)
        return
    chosen = secrets_source(facts, order)
    majority = [h for h in order if choices[hosts.index(h)] == signature]
    assert chosen == majority[0]
