"""file_checksums: what ansible.builtin.find reports with sha256, without a warning for folders that
do not exist yet. The module runs as its own process (see conftest.py)."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd


def test_reports_files_like_find_and_lists_missing_folders(run_module, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "cluster.json").write_text('{"enabled": true}')
    (conf / "schedule-a.json").write_text("a")
    (conf / "schedule-b.json").write_text("b")
    (conf / "other.json").write_text("x")
    (conf / "schedule-dir.json").mkdir()  # not a regular file: never reported
    os.chmod(conf / "cluster.json", 0o640)
    result = run_module(
        "file_checksums",
        {
            "paths": [
                str(conf / "cluster.json"),
                str(conf / "schedule-*.json"),
                str(conf / "absent.json"),
                str(tmp_path / "security" / "keystore.jceks"),
            ]
        },
    )
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert "warnings" not in result
    by_path = {f["path"]: f for f in result["files"]}
    assert sorted(by_path) == sorted(
        str(conf / n) for n in ("cluster.json", "schedule-a.json", "schedule-b.json")
    )
    cluster = by_path[str(conf / "cluster.json")]
    assert cluster["checksum"] == hashlib.sha256(b'{"enabled": true}').hexdigest()
    assert cluster["mode"] == "0640"
    assert cluster["pw_name"] == pwd.getpwuid(os.getuid()).pw_name
    assert cluster["gr_name"] == grp.getgrgid(os.getgid()).gr_name
    assert cluster["size"] == len('{"enabled": true}')
    assert result["missing_dirs"] == [str(tmp_path / "security")]


def test_relative_paths_are_refused(run_module):
    result = run_module("file_checksums", {"paths": ["conf/cluster.json"]})
    assert result["failed"] is True
    assert "must be absolute" in result["msg"]
