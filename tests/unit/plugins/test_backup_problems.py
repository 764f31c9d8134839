"""backup_problems: a backup is restored only onto the cluster, repository and version it is of,
and only when every file has the checksum its manifest recorded."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.idm_automation.cluster.plugins.filter.backup_problems import (
    REQUIRED_FILES,
    backup_problems,
)

FILES = {name: f"{i:064x}" for i, name in enumerate(REQUIRED_FILES, start=1)}
MANIFEST_SUM = "f" * 64
MANIFEST = {
    "format": 1,
    "created": "2026-12-03T12:00:00Z",
    "cluster": {
        "node_ids": ["node1", "node2"],
        "bootstrap_node": "idm1",
        "bootstrap_node_id": "node1",
    },
    "product": {"version": "8.1.0"},
    "repository": {"host": "pg1", "port": 5432, "database": "openidm", "schema": "openidm"},
    "files": FILES,
}
EXPECTED = {
    "node_ids": ["node2", "node1"],
    "repository": {"host": "pg1", "port": "5432", "database": "openidm"},
    "version": "8.1.0",
    "installed": {"idm1": "8.1.0", "idm2": "8.1.0"},
}


def found() -> dict[str, str]:
    return {**FILES, "manifest.json": MANIFEST_SUM, "SHA256SUMS": "e" * 64}


def listed() -> dict[str, str]:
    return {**FILES, "manifest.json": MANIFEST_SUM}


def test_a_backup_of_this_cluster_has_no_problem() -> None:
    assert backup_problems(MANIFEST, EXPECTED, found(), listed()) == []


def test_another_clusters_node_ids_are_refused_and_named() -> None:
    expected = {**EXPECTED, "node_ids": ["node1", "node3"]}
    (problem,) = backup_problems(MANIFEST, expected, found(), listed())
    assert "another cluster" in problem and "node1, node2" in problem and "node1, node3" in problem


def test_a_cluster_that_grew_since_is_refused() -> None:
    expected = {**EXPECTED, "node_ids": ["node1", "node2", "node3"]}
    assert backup_problems(MANIFEST, expected, found(), listed())


@pytest.mark.parametrize(
    "repository",
    [
        {"host": "pg2", "port": 5432, "database": "openidm"},
        {"host": "pg1", "port": 5433, "database": "openidm"},
        {"host": "pg1", "port": 5432, "database": "idm"},
    ],
)
def test_another_repository_is_refused(repository: dict) -> None:
    (problem,) = backup_problems(
        MANIFEST, {**EXPECTED, "repository": repository}, found(), listed()
    )
    assert "another repository" in problem and "pg1:5432/openidm" in problem


def test_the_same_repository_spelled_differently_is_accepted() -> None:
    expected = {**EXPECTED, "repository": {"host": "PG1.", "port": 5432, "database": "openidm"}}
    assert backup_problems(MANIFEST, expected, found(), listed()) == []


def test_another_configured_version_is_refused() -> None:
    (problem,) = backup_problems(MANIFEST, {**EXPECTED, "version": "8.0.1"}, found(), listed())
    assert "8.1.0" in problem and "8.0.1" in problem


def test_a_node_with_another_release_installed_is_named() -> None:
    expected = {**EXPECTED, "installed": {"idm1": "8.1.0", "idm2": "8.0.1"}}
    (problem,) = backup_problems(MANIFEST, expected, found(), listed())
    assert problem.startswith("idm2 ") and "8.0.1" in problem


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_a_changed_file_is_refused(name: str) -> None:
    actual = {**found(), name: "0" * 64}
    (problem,) = backup_problems(MANIFEST, EXPECTED, actual, listed())
    assert problem.startswith(name) and "sha256" in problem


def test_a_missing_file_is_refused() -> None:
    actual = found()
    del actual["keystore"]
    assert backup_problems(MANIFEST, EXPECTED, actual, listed()) == [
        "keystore is missing from the backup directory"
    ]


def test_a_changed_manifest_is_refused() -> None:
    actual = {**found(), "manifest.json": "1" * 64}
    (problem,) = backup_problems(MANIFEST, EXPECTED, actual, listed())
    assert problem.startswith("manifest.json")


def test_sums_that_disagree_with_the_manifest_are_refused() -> None:
    sums = {**listed(), "keystore": "2" * 64}
    assert any(
        "do not list the same" in p for p in backup_problems(MANIFEST, EXPECTED, found(), sums)
    )
    sums = listed()
    del sums["manifest.json"]
    assert any(
        "does not list manifest.json" in p
        for p in backup_problems(MANIFEST, EXPECTED, found(), sums)
    )


def test_a_manifest_without_a_required_file_is_refused() -> None:
    manifest = copy.deepcopy(MANIFEST)
    del manifest["files"]["repository.pgc"]
    problems = backup_problems(
        manifest, EXPECTED, found(), {k: v for k, v in listed().items() if k != "repository.pgc"}
    )
    assert problems == ["the manifest does not list repository.pgc"]


@pytest.mark.parametrize("manifest", [{}, {"format": 2}, None, "text"])
def test_what_is_not_a_manifest_is_refused(manifest) -> None:
    assert backup_problems(manifest, EXPECTED, found(), listed()) == [
        "manifest.json is not a backup manifest of format 1"
    ]


def test_every_problem_is_reported_at_once() -> None:
    expected = {**EXPECTED, "node_ids": ["x"], "version": "7.0.0"}
    actual = {**found(), "conf.tar.gz": "3" * 64}
    assert len(backup_problems(MANIFEST, expected, actual, listed())) == 3
