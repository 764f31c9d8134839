"""The managed_files action in a real play on localhost: writes what differs, converges to
changed=0, prunes only recorded files, honours check mode and diff, and never shows a secret."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from play_output import shown_result

SECRET = "s3cret-Pa55"


def play(root: Path, schedules: list[str], password: str = SECRET) -> str:
    files = [
        {"path": f"{root}/conf/cluster.json", "content": '{"enabled": true}\n', "mode": "0640"},
        {"path": f"{root}/conf/datasource.json", "content": f'{{"password": "{password}"}}\n',
         "mode": "0600", "secret": True, "product_rewrites": True},
    ] + [
        {"path": f"{root}/conf/schedule-{name}.json", "content": f"{name}\n", "mode": "0640"}
        for name in schedules
    ]  # fmt: skip
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Manage the files
      idm_automation.cluster.managed_files:
        files: {json.dumps(files)}
        owner: "{{{{ lookup('ansible.builtin.pipe', 'id -un') }}}}"
        group: "{{{{ lookup('ansible.builtin.pipe', 'id -gn') }}}}"
        manifest: {root}/manifest.json
        prune: [{{dir: "{root}/conf", pattern: "schedule-*.json"}}]
      register: result
      notify: a handler
    - name: Show the result
      ansible.builtin.debug:
        msg: "RESULT={{{{ result | to_json }}}}"
  handlers:
    - name: a handler
      ansible.builtin.debug:
        msg: HANDLER-RAN
"""


def test_writes_converges_and_prunes_only_what_it_wrote(ansible_playbook, tmp_path: Path) -> None:
    root = tmp_path / "node"
    first = ansible_playbook(play(root, ["a", "b"]))
    result = shown_result(first)
    assert result["changed"] is True and result["manifest_written"] is True
    assert [Path(p).name for p in result["written"]] == [
        "cluster.json", "datasource.json", "schedule-a.json", "schedule-b.json"]  # fmt: skip
    assert "HANDLER-RAN" in first.stdout
    assert stat.S_IMODE(os.stat(root / "conf/datasource.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(root / "manifest.json").st_mode) == 0o600

    # The product rewrites the datasource (C5) and writes a schedule of its own into conf/ (C6).
    (root / "conf/datasource.json").write_text('{"password": {"$crypto": "..."}}\n')
    (root / "conf/schedule-rest.json").write_text("made over REST\n")
    second = ansible_playbook(play(root, ["a", "b"]))
    assert shown_result(second)["changed"] is False
    assert "HANDLER-RAN" not in second.stdout

    third = shown_result(ansible_playbook(play(root, ["a"])))
    assert third["pruned"] == [str(root / "conf/schedule-b.json")] and third["written"] == []
    assert (root / "conf/schedule-rest.json").exists()
    assert "$crypto" in (root / "conf/datasource.json").read_text()  # not rewritten
    recorded = json.loads((root / "manifest.json").read_text())["files"]
    assert sorted(Path(p).name for p in recorded) == [
        "cluster.json",
        "datasource.json",
        "schedule-a.json",
    ]


def test_check_mode_changes_nothing_and_diff_hides_secrets(
    ansible_playbook, tmp_path: Path
) -> None:
    root = tmp_path / "node"
    shown_result(ansible_playbook(play(root, ["a"])))
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    done = ansible_playbook(play(root, ["c"], password="n3w-Pa55"), "--check", "--diff", "-vvv")
    result = shown_result(done)
    assert result["changed"] is True
    assert [Path(p).name for p in result["written"]] == ["datasource.json", "schedule-c.json"]
    assert result["pruned"] == [str(root / "conf/schedule-a.json")]
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert "+c" in done.stdout  # the diff of a plain file is shown
    for secret in (SECRET, "n3w-Pa55"):
        assert secret not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("manifest", "message"),
    [("not json", "is not the collection's manifest"), (None, "needs path, content and mode")],
)
def test_bad_input_fails_with_its_reason(
    ansible_playbook, tmp_path: Path, manifest, message
) -> None:
    root = tmp_path / "node"
    text = play(root, [])
    if manifest is None:
        text = text.replace('"mode": "0640"', '"mod": "0640"', 1)
    else:
        root.mkdir()
        (root / "manifest.json").write_text(manifest)
    done = ansible_playbook(text)
    assert done.returncode != 0
    assert message in done.stdout
    assert SECRET not in done.stdout + done.stderr
    assert not (root / "conf").exists()
