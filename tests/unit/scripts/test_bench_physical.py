"""bench/physical.py: the physical limit of a cold deploy, from the nodes' journals (issue 18)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location("bench_physical", REPO / "bench" / "physical.py")
physical = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_physical"] = physical
_SPEC.loader.exec_module(physical)


def journal(*entries: tuple[float, str | list[int]]) -> list[str]:
    """Journal lines as `journalctl -o json` prints them: the timestamp in microseconds."""
    lines = [
        json.dumps({"MESSAGE": message, "__REALTIME_TIMESTAMP": str(int(at * 1e6))})
        for at, message in entries
    ]
    return [*lines, "", "not json"]


def test_every_launch_is_paired_with_the_ready_line_that_follows_it():
    starts = physical.starts_from_journal(
        journal(
            (100.0, "Using OPENIDM_HOME:   /opt/idm/openidm"),
            (101.0, "Using OPENIDM_OPTS:   -Xmx512m"),
            (121.5, "OpenIDM ready"),
            (130.0, "Stopping openidm.service"),
            (131.0, "Using OPENIDM_HOME:   /opt/idm/openidm"),
            (153.0, "OpenIDM ready"),
        )
    )
    assert [s.seconds for s in starts] == [21.5, 22.0]


def test_a_launch_that_never_got_ready_has_no_duration():
    starts = physical.starts_from_journal(journal((5.0, "Using OPENIDM_HOME: /x")))
    assert starts == [physical.Start(launched=5.0, ready=None)]
    assert starts[0].seconds is None


def test_a_ready_line_without_a_launch_is_ignored():
    assert physical.starts_from_journal(journal((5.0, "OpenIDM ready"))) == []


def test_a_message_stored_as_bytes_is_read():
    raw = list("Using OPENIDM_HOME: /opt/\u00e9".encode())
    starts = physical.starts_from_journal(journal((1.0, raw), (3.0, "OpenIDM ready")))
    assert [s.seconds for s in starts] == [2.0]


def start(launched: float, ready: float | None) -> physical.Start:
    return physical.Start(launched=launched, ready=ready)


def test_the_limit_adds_ddl_bootstrap_the_longest_other_start_and_the_health_checks():
    starts = {
        "n1": [start(0.0, 21.0)],
        "n2": [start(30.0, 50.0)],
        "n3": [start(31.0, 53.0)],
    }
    result = physical.physical_limit(1.5, starts, "n1", 2.0)
    assert result["limit_s"] == pytest.approx(1.5 + 21.0 + 22.0 + 2.0, abs=0.05)
    assert result["critical_path_s"] == 53.0
    assert result["other_starts_s"] == {"max": 22.0, "min": 20.0}
    assert result["launches"] == {}


def test_the_bootstrap_first_start_counts_and_extra_launches_are_reported():
    # The bootstrap node starts alone, then again (with its certificate) beside the others.
    starts = {"n1": [start(0.0, 20.0), start(40.0, 61.0)], "n2": [start(40.5, 62.0)]}
    result = physical.physical_limit(0.0, starts, "n1", 0.0)
    assert result["bootstrap_start_s"] == 20.0
    assert result["limit_s"] == 41.5
    assert result["critical_path_s"] == 62.0  # from the bootstrap's first launch
    assert result["launches"] == {"n1": 2}


def test_a_bootstrap_launch_that_never_got_ready_is_not_its_start():
    starts = {"n1": [start(0.0, None), start(5.0, 25.0)], "n2": [start(26.0, 46.0)]}
    result = physical.physical_limit(0.0, starts, "n1", 0.0)
    assert result["bootstrap_start_s"] == 20.0
    assert result["critical_path_s"] == 46.0


def test_a_single_node_cluster_has_no_parallel_start():
    result = physical.physical_limit(1.0, {"n1": [start(0.0, 20.0)]}, "n1", 2.0)
    assert result["limit_s"] == 23.0


@pytest.mark.parametrize(
    "starts, message",
    [
        ({"n2": [start(0.0, 1.0)]}, "bootstrap node n1"),
        ({"n1": [start(0.0, 1.0)], "n2": [start(2.0, None)]}, "last launch of n2"),
        ({"n1": [start(0.0, 1.0)], "n2": []}, "last launch of n2"),
    ],
)
def test_a_journal_without_a_complete_start_is_an_error(starts, message):
    with pytest.raises(ValueError, match=message):
        physical.physical_limit(0.0, starts, "n1", 0.0)
