"""Start-up of the IDM stand-in (test double): startup.sh, node ID, OPENIDM_OPTS, and the places
where PingIDM refuses to start."""

from __future__ import annotations

import json
import socket

from standin_harness import free_port, wait_for


def test_openidm_opts_node_id_beats_boot_properties(make_node, repo_db):
    from_opts = make_node("a", repo_db, node_id="boot-node")
    no_heap = make_node("b", repo_db, node_id="b")
    defaults = make_node("c", repo_db, node_id="c")
    system = defaults.conf("system.properties")
    system.write_text(system.read_text() + "openidm.fileinstall.enabled=false\n")
    from_opts.start(opts="-Xmx256m -Xms256m -Dopenidm.node.id=opts-node")
    no_heap.start(opts="-Dopenidm.node.id=b -Dopenidm.keystore.password=changeit")
    defaults.start()
    for node in (from_opts, no_heap, defaults):
        node.wait_serving()

    reply = from_opts.get("/openidm/info/ping", auth="anonymous")
    assert reply.status == 200
    assert reply.headers["X-IDM-Node-Id"] == "opts-node"
    # Serving comes before the first check-in: wait for the node's own row.
    wait_for(lambda: "opts-node" in from_opts.cluster(), 5, "opts-node checked in")
    assert "boot-node" not in from_opts.cluster()

    out = from_opts.output()
    assert f"Using OPENIDM_HOME:   {from_opts.home}" in out
    assert f"Using PROJECT_HOME:   {from_opts.home}" in out
    assert "Using OPENIDM_OPTS:   -Xmx256m -Xms256m -Dopenidm.node.id=opts-node" in out
    assert f"Using boot properties at {from_opts.boot_file}" in out
    assert (from_opts.home / ".openidm.pid").read_text().strip() == str(from_opts.proc.pid)
    assert "default heap" not in from_opts.log_text()

    # OPENIDM_OPTS without memory options: warned about in the log and on stderr
    assert "default heap" in no_heap.log_text()
    assert "default heap" in no_heap.stderr_path.read_text()
    assert "keystore.password=****" in no_heap.output()
    assert "-Dopenidm.keystore.password=changeit" not in no_heap.output()

    # OPENIDM_OPTS unset: the default memory options
    assert "Using OPENIDM_OPTS:   -Xmx1024m -Xms1024m" in defaults.output()
    assert (
        "openidm.config.repo.enabled=true, openidm.fileinstall.enabled=true" in from_opts.log_text()
    )
    assert (
        "openidm.config.repo.enabled=true, openidm.fileinstall.enabled=false" in defaults.log_text()
    )


def test_c13_no_node_id_fails(make_node):
    unset = make_node("unset", None)
    unset.remove_boot("openidm.node.id")
    empty = make_node("empty", None, node_id="node1")
    unset.start()
    empty.start(opts="-Xmx1g -Xms1g -Dopenidm.node.id=")
    for node in (unset, empty):
        assert node.wait_exit() != 0
        for text in (node.output(), node.log_text()):
            assert "openidm.node.id is not set" in text
            assert "resolver/boot.properties" in text and "OPENIDM_OPTS" in text
        assert not (node.home / ".openidm.pid").exists()


def test_project_location_option(make_node, repo_db, tmp_path):
    node = make_node("p", repo_db)
    project = tmp_path / "project"
    (project / "conf").mkdir(parents=True)
    for name in (node.home / "conf").iterdir():
        (project / "conf" / name.name).write_bytes(name.read_bytes())
    (project / "resolver").mkdir()
    (project / "resolver" / "boot.properties").write_text(
        node.boot_file.read_text() + "openidm.node.id=from-project\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    node.start(args=("-p", str(project), "--working-location", str(work)))
    node.wait_ready()
    assert f"Using PROJECT_HOME:   {project}" in node.output()
    assert f"Using boot properties at {project}/resolver/boot.properties" in node.output()
    assert (
        node.get("/openidm/health/ready", auth="anonymous").headers["X-IDM-Node-Id"]
        == "from-project"
    )
    assert "OpenIDM ready" in (work / "logs" / "openidm.log").read_text()
    assert not (node.home / "logs" / "openidm.log").exists()


def test_unreachable_repository_is_fatal(make_node, repo_db):
    node = make_node("n", repo_db)
    closed_port = free_port()
    node.set_boot({"openidm.repo.port": closed_port})
    node.start()
    assert node.wait_exit() != 0
    log = node.log_text()
    assert f"the repository 127.0.0.1:{closed_port}/{repo_db}" in log
    assert "is unreachable" in log and "cannot start" in log


def test_missing_schema_is_fatal(make_node, pg):
    node = make_node("n", pg.create_database(scripts=None))
    node.start()
    assert node.wait_exit() != 0
    log = node.log_text()
    assert "openidm.configobjects is missing" in log
    assert "run db/postgresql/scripts/openidm.pgsql once" in log


def test_repository_authentication_failure_is_fatal(make_node, repo_db):
    node = make_node("n", repo_db)
    datasource = json.loads(node.conf("datasource.jdbc-default.json").read_text())
    datasource["password"] = "not-the-password"
    node.write_conf("datasource.jdbc-default.json", datasource)
    node.start()
    assert node.wait_exit() != 0
    log = node.log_text()
    assert "authentication to the repository" in log and "failed for user openidm" in log
    assert "not-the-password" not in log


def test_no_enabled_listener_is_fatal(make_node):
    node = make_node("n", None, boot={"openidm.http.enabled": "false"})
    node.start()
    assert node.wait_exit() != 0
    assert "no enabled conf/webserver.listener-*.json" in node.log_text()
    assert "at least one" in node.log_text()


def test_port_in_use_is_fatal(make_node, repo_db):
    node = make_node("n", repo_db)
    with socket.socket() as blocker:
        blocker.bind(("0.0.0.0", node.http_port))
        blocker.listen()
        node.start()
        assert node.wait_exit() != 0
    assert f"cannot listen on port {node.http_port}" in node.log_text()
