"""The write_files module (the managed_files action's remote half) in a real play on localhost:
folders, removals and writes in one call, final mode and owner, check mode, diff without secrets,
and a failure that names the file and leaves no temporary file behind."""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat
from pathlib import Path

from play_output import shown_result

SECRET = "wr1te-Pa55"
USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def play(args: dict, no_log: bool = True) -> str:
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Write
      idm_automation.cluster.write_files: {json.dumps(args)}
      register: result
      no_log: {str(no_log).lower()}
    - name: Show the result without the invocation
      ansible.builtin.debug:
        msg: >-
          RESULT={{{{ result | dict2items | rejectattr('key', 'eq', 'invocation')
          | items2dict | to_json }}}}
"""


def entry(path: Path, content: str, mode: str = "0640", secret: bool = False) -> dict:
    return {"path": str(path), "content": content, "mode": mode, "owner": USER, "group": GROUP,
            "secret": secret}  # fmt: skip


def test_creates_removes_and_writes_in_one_call(ansible_playbook, tmp_path: Path) -> None:
    conf = tmp_path / "a/b/conf"
    stale = tmp_path / "stale.json"
    stale.write_text("old\n")
    old = tmp_path / "replaced.json"
    old.write_text("before\n")
    os.chmod(old, 0o666)
    done = ansible_playbook(
        play(
            {
                "dirs": [str(conf)],
                "remove": [str(stale), str(tmp_path / "absent.json")],
                "files": [
                    entry(conf / "cluster.json", '{"enabled": true}\n'),
                    entry(conf / "datasource.json", f'{{"password": "{SECRET}"}}\n', "0600", True),
                    entry(old, "after\n", "0644"),
                ],
            }
        )
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = shown_result(done)
    assert result["changed"] is True
    assert result["created_dirs"] == [str(conf)]
    assert result["removed"] == [str(stale)]  # an absent file is not listed
    assert [Path(p).name for p in result["written"]] == [
        "cluster.json", "datasource.json", "replaced.json"]  # fmt: skip
    assert not stale.exists()
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o755  # missing parents too
    assert stat.S_IMODE(os.stat(conf / "datasource.json").st_mode) == 0o600
    # The old file's looser mode is not kept: the wanted one is.
    assert stat.S_IMODE(os.stat(old).st_mode) == 0o644
    assert old.read_text() == "after\n"
    assert (conf / "datasource.json").read_text() == f'{{"password": "{SECRET}"}}\n'
    assert sorted(p.name for p in conf.iterdir()) == ["cluster.json", "datasource.json"]


def test_check_mode_writes_nothing_and_diff_shows_no_secret(
    ansible_playbook, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text("one\n")
    secret = tmp_path / "secret.json"
    args = {
        "files": [entry(plain, "two\n"), entry(secret, SECRET + "\n", "0600", True)],
        "remove": [str(plain.with_name("gone"))],
        "dirs": [str(tmp_path / "new")],
    }
    done = ansible_playbook(play(args, no_log=False), "--check", "--diff")
    assert done.returncode == 0, done.stdout + done.stderr
    result = shown_result(done)
    assert result["changed"] is True and result["created_dirs"] == [str(tmp_path / "new")]
    assert [d["before_header"] for d in result["diff"]] == [str(plain)]
    assert result["diff"][0]["before"] == "one\n" and result["diff"][0]["after"] == "two\n"
    assert plain.read_text() == "one\n" and not secret.exists()
    assert not (tmp_path / "new").exists()
    assert SECRET not in json.dumps(result)


def test_unknown_owner_fails_naming_the_file_and_leaves_no_temporary(
    ansible_playbook, tmp_path: Path
) -> None:
    first = entry(tmp_path / "first.json", "1\n")
    bad = {**entry(tmp_path / "bad.json", "2\n"), "owner": "no-such-user-idm"}
    done = ansible_playbook(play({"files": [first, bad]}, no_log=False))
    assert done.returncode != 0
    assert f"writing {tmp_path / 'bad.json'} failed: no user 'no-such-user-idm'" in " ".join(
        (done.stdout + done.stderr).split()
    )
    assert (tmp_path / "first.json").read_text() == "1\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".json")) == ["first.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bad.json.")]


def test_a_mode_that_is_not_octal_is_refused_before_anything_changes(
    ansible_playbook, tmp_path: Path
) -> None:
    done = ansible_playbook(
        play({"files": [entry(tmp_path / "x.json", "x\n", "rw-r--r--")]}, no_log=False)
    )
    assert done.returncode != 0
    assert "mode must be octal" in done.stdout
    assert not (tmp_path / "x.json").exists()


def test_the_result_echoes_no_content(ansible_playbook, tmp_path: Path) -> None:
    # The ssh connection prints every module's raw output at -vvv (the invocation included) unless
    # the task is no_log: the module itself must not echo a content.
    done = ansible_playbook(
        play({"files": [entry(tmp_path / "s.json", SECRET, "0600", True)]}, no_log=False), "-vvv"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "s.json").read_text() == SECRET
    if '"invocation"' in done.stdout:  # ansible-core 2.21 no longer returns a module's invocation
        assert '"content": "(not shown)"' in done.stdout
    assert SECRET not in done.stdout + done.stderr
