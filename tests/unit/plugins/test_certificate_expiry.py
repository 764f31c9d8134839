"""Rule 14 certificate-expiry over generated thresholds, days and sources (hypothesis)."""

from __future__ import annotations

from typing import Any

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants import (
    certificates,
)
from hypothesis import given
from hypothesis import strategies as st
from idm_cluster_factory import errors, make_cluster, verdict

DAYS = st.integers(min_value=-2000, max_value=2000)


def _expected(source: str, threshold: int, given_days: int | None, live: int) -> set:
    """The rule as docs/invariants.md states it, for one node (idm2)."""
    if source == "files" and given_days is not None and given_days < threshold:
        return {("certificate-expiry", "error", ("idm2",))}
    if live >= threshold:
        return set()
    severity = "error" if source == "keystore" and live < 0 else "warning"
    return {("certificate-expiry", severity, ("idm2",))}


@given(
    source=st.sampled_from(certificates.SOURCES),
    threshold=st.integers(min_value=0, max_value=1000),
    given_days=st.one_of(st.none(), DAYS),
    live=DAYS,
)
def test_verdict_follows_the_documented_rule(
    source: str, threshold: int, given_days: int | None, live: int
) -> None:
    desc: dict[str, Any] = make_cluster(3, facts=True)
    desc["nodes"]["idm2"]["certificate"] = {
        "renew_days": threshold,
        "source": source,
        "file_days_left": given_days,
    }
    desc["facts"]["idm2"]["certificate_days_left"] = live
    assert verdict(desc) == _expected(source, threshold, given_days, live)


@given(days=DAYS)
def test_validity_words_name_the_days(days: int) -> None:
    text = certificates.validity(days)
    assert str(abs(days)) in text
    assert text.startswith("expired") == (days < 0)


def test_the_message_names_threshold_and_fix() -> None:
    desc = make_cluster(3)
    for node in desc["nodes"].values():
        node["certificate"].update(source="files", file_days_left=-3)
    (violation,) = errors(desc)
    assert "expired 3 days ago" in violation["message"]
    assert "idm_cert_renew_days 30" in violation["message"]
    assert "idm_tls_cert_src" in violation["fix"]
