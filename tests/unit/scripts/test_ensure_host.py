"""scripts/ensure-host decides on what the harness needs, not on what happens to be on PATH.

Each test runs a copy of the script with a PATH made of stub programs only (no real docker,
dockerd, apt-get or id can leak in): a docker client whose ``info`` answers only when the fake
engine is up, a dockerd that brings the fake engine up, an apt-get that records its arguments and
installs the stubs the engine package would bring. ``--plan`` shows the decision without acting;
the other tests run the script for real against the stubs.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "ensure-host"
# Real programs the script itself uses; everything else on PATH is a stub.
BASE_TOOLS = (
    "bash", "sed", "tr", "grep", "paste", "ls", "mkdir", "rm", "ln", "seq", "sleep", "cat",
    "dirname", "setsid", "touch", "readlink", "cp", "basename",
)  # fmt: skip

# A docker client: `info` succeeds when the engine is up and this client "speaks its API".
CLIENT = """#!/bin/bash
[ "$1" = info ] || exit 0
folder=$(basename "$(dirname "$0")")
[ -e "$FAKE_STATE/engine-up" ] && [ ! -e "$FAKE_STATE/client-too-new-$folder" ]
"""
# dockerd: brings the engine up and records the descriptors it was started with.
DOCKERD = '#!/bin/bash\nls /proc/$$/fd >"$FAKE_STATE/dockerd-fds"\ntouch "$FAKE_STATE/engine-up"\n'
ID = '#!/bin/bash\n[ "$1" = -u ] && echo "$FAKE_UID"\n'
TRUE = "#!/bin/bash\nexit 0\n"
# apt-get: records each call; `install docker.io` brings dockerd and the package's client.
APT_GET = """#!/bin/bash
echo "$*" >>"$FAKE_STATE/apt-get.log"
case " $* " in *" docker.io "*)
  cp "$FAKE_STATE/stubs/dockerd" "$FAKE_BIN/dockerd"
  mkdir -p "$FAKE_STATE/engine-bin"; cp "$FAKE_STATE/stubs/docker" "$FAKE_STATE/engine-bin/docker";;
esac
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Host:
    """A fake machine: a repo copy with the script, stub binaries, a state directory."""

    def __init__(
        self, root: Path, *, client: bool, daemon: bool, uid: int = 0, debian: bool = True
    ):
        self.root = root
        self.repo = root / "repo"
        (self.repo / "scripts").mkdir(parents=True)
        shutil.copy2(SCRIPT, self.repo / "scripts" / "ensure-host")
        self.bin = root / "bin"
        self.state = root / "state"
        base = root / "base"
        base.mkdir()
        for tool in BASE_TOOLS:
            found = shutil.which(tool)
            assert found, f"{tool} is needed by the test"
            (base / tool).symlink_to(found)
        self.path = f"{self.bin}:{base}"
        _write(self.state / "stubs" / "docker", CLIENT)
        _write(self.state / "stubs" / "dockerd", DOCKERD)
        for tool in ("mmdebstrap", "zip", "unzip", "git", "initdb", "python3"):
            _write(self.bin / tool, TRUE)
        _write(self.bin / "id", ID)
        _write(self.bin / "apt-get", APT_GET)
        if client:
            _write(self.bin / "docker", CLIENT)
        if daemon:
            _write(self.bin / "dockerd", DOCKERD)
        self.uid = uid
        self.marker = root / "debian_version"
        if debian:
            self.marker.write_text("12.8\n")

    def engine_up(self) -> None:
        (self.state / "engine-up").touch()

    def client_too_new(self, directory: str) -> None:
        """The client in ``directory`` (a folder name) cannot talk to the engine."""
        (self.state / f"client-too-new-{directory}").touch()

    def run(self, *args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": self.path,
            "HOME": str(self.root),
            "FAKE_STATE": str(self.state),
            "FAKE_BIN": str(self.bin),
            "FAKE_UID": str(self.uid),
            "IDM_HOST_DEBIAN_MARKER": str(self.marker),
            "IDM_HOST_ENGINE_CLIENT": str(self.state / "engine-bin" / "docker"),
            "IDM_HOST_DOCKERD_LOG": str(self.root / "dockerd.log"),
        }
        return subprocess.run(
            ["bash", str(self.repo / "scripts" / "ensure-host"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            pass_fds=pass_fds,
        )

    def plan(self) -> dict[str, str]:
        result = self.run("--plan")
        assert result.returncode == 0, result.stderr
        return dict(
            line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
            for line in result.stdout.splitlines()
        )

    def apt_calls(self) -> list[str]:
        log = self.state / "apt-get.log"
        return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def host(tmp_path):
    def make(**kwargs) -> Host:
        return Host(tmp_path, **kwargs)

    return make


def test_client_only_installs_the_engine(host):
    plan = host(client=True, daemon=False).plan()
    assert plan["install"].split() == ["docker.io"]
    assert plan["installer"] == "apt-get"
    assert plan["engine"] == "start"


def test_daemon_only_installs_the_engine_package_for_its_client(host):
    plan = host(client=False, daemon=True).plan()
    assert plan["install"].split() == ["docker.io"]
    assert plan["engine"] == "start"


def test_client_and_daemon_install_nothing_and_start_the_daemon(host):
    plan = host(client=True, daemon=True).plan()
    assert plan["install"] == ""
    assert "installer" not in plan
    assert plan["engine"] == "start"


def test_running_engine_needs_nothing(host):
    fake = host(client=True, daemon=False)
    fake.engine_up()
    plan = fake.plan()
    assert plan["install"] == ""
    assert plan["engine"] == "running"


def test_neither_installs_the_engine(host):
    plan = host(client=False, daemon=False).plan()
    assert plan["install"].split() == ["docker.io"]
    assert plan["engine"] == "start"


def test_non_root_says_what_to_install_and_changes_nothing(host):
    fake = host(client=True, daemon=False, uid=1000)
    assert fake.plan()["installer"] == "none"
    result = fake.run()
    assert result.returncode == 1
    assert "missing on this machine: docker.io" in result.stderr
    assert "apt-get install docker.io" in result.stderr
    assert fake.apt_calls() == []


def test_non_debian_says_what_to_install_and_changes_nothing(host):
    fake = host(client=True, daemon=False, debian=False)
    assert fake.plan()["installer"] == "none"
    result = fake.run()
    assert result.returncode == 1
    assert "Docker engine (the daemon, not only a client)" in result.stderr
    assert fake.apt_calls() == []


def test_client_only_machine_gets_engine_installed_and_started(host):
    fake = host(client=True, daemon=False)
    result = fake.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert any(
        call.startswith("install") and "docker.io" in call.split() for call in fake.apt_calls()
    )
    assert "starting dockerd" in result.stdout
    assert (fake.repo / ".cache" / "dockerd.pid").exists()
    # The client on PATH talks to the new daemon: no shim.
    assert not (fake.repo / ".cache" / "bin" / "docker").exists()


def test_stray_client_is_bypassed_by_the_engine_packages_client(host):
    fake = host(client=True, daemon=False)
    fake.client_too_new("bin")
    result = fake.run()
    assert result.returncode == 0, result.stdout + result.stderr
    shim = fake.repo / ".cache" / "bin" / "docker"
    assert shim.is_symlink()
    assert os.readlink(shim) == str(fake.state / "engine-bin" / "docker")
    assert "cannot talk to the daemon" in result.stdout
    # A second run judges the PATH without its own shim and keeps it.
    again = fake.run()
    assert again.returncode == 0, again.stderr
    assert shim.is_symlink()
    assert sum("docker.io" in c for c in fake.apt_calls()) == 1


def test_no_daemon_to_start_as_non_root_fails_clearly(host):
    fake = host(client=True, daemon=True, uid=1000)
    result = fake.run()
    assert result.returncode == 1
    assert "cannot start it" in result.stderr


def test_started_daemon_does_not_keep_the_callers_descriptors(host, tmp_path):
    """`flock LOCK make molecule` on a machine without a running engine: the daemon started on
    the way must not inherit the lock's descriptor, or the lock outlives the run."""
    fake = host(client=True, daemon=True)
    with (tmp_path / "lock").open("w") as lock:
        result = fake.run(pass_fds=(lock.fileno(),))
        assert result.returncode == 0, result.stderr
        fds = {int(fd) for fd in (fake.state / "dockerd-fds").read_text().split()}
        assert lock.fileno() not in fds
        assert {0, 1, 2} <= fds
