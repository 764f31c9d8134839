"""Start-up and shutdown of the IDM stand-in (test double); started by ``startup.sh``.

Order of start-up, each step fatal (logged, exit 1) when it fails: boot properties and
OPENIDM_OPTS (with ``standin.variant.c12=strict`` also the shipped keys), the Java check (only
with ``standin.variant.c16=strict``), node ID, conf files, keystore/truststore, repository
(reachable, schema present), listeners. Like PingIDM, a node ID already used by another live
instance is not refused (both share one cluster row), and keystores are not compared: a node
whose keystore cannot decrypt the encrypted configuration stays up but is not ready. Then the node
serves while its start-up delay (``standin.startup.delay.seconds``, default 20) runs, checks in to
the cluster, runs schedules and watches ``conf/`` for schedule files.
SIGTERM/SIGINT: not ready at once, serve for ``standin.shutdown.grace.seconds``, close the
listeners (in-flight requests finish), store the cluster state ``down``, exit 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from idm_standin import PRODUCT_NAME, PRODUCT_VERSION, StandinError, log
from idm_standin.log import LOGGER

DEFAULT_STARTUP_DELAY = 20.0  # seconds; PingIDM takes tens of seconds to start (contract C15)

NODE_ID_HELP = (
    "no node ID: openidm.node.id is not set (or empty). Set it either in "
    "resolver/boot.properties (openidm.node.id=node1) or in OPENIDM_OPTS "
    '(export OPENIDM_OPTS="-Xmx1024m -Xms1024m -Dopenidm.node.id=node1") before startup.sh; '
    "every node of a cluster needs its own unique value"
)


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="idm_standin", description=PRODUCT_NAME)
    parser.add_argument("--home", required=True)
    parser.add_argument("--project")
    parser.add_argument("--working")
    parser.add_argument("--boot")
    parser.add_argument("--pid-file")
    args, _ = parser.parse_known_args(argv)
    return args


class Instance:
    """Everything one running node owns, and its shutdown."""

    def __init__(self, args: argparse.Namespace):
        from idm_standin.config import Paths, boot_file_for

        install = Path(args.home).resolve()
        instance = Path(args.project).resolve() if args.project else install
        data = Path(args.working).resolve() if args.working else install
        boot = Path(args.boot) if args.boot else boot_file_for(install, instance)
        self.paths = Paths(install, instance, data, boot)
        self.pid_file = Path(args.pid_file) if args.pid_file else install / ".openidm.pid"
        self.stop_requested = threading.Event()
        self.servers = []
        self.pool = None
        self.cluster = None
        self.node = None

    def start(self) -> None:
        # Imported here so that a missing psycopg/cryptography is reported as a fatal reason.
        try:
            import cryptography  # noqa: F401
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise StandinError(
                f"python module {exc.name} is missing: the IDM stand-in (test double) needs "
                "psycopg 3 and cryptography (Debian: python3-psycopg python3-cryptography)"
            ) from None
        from idm_standin import (
            cluster,
            config,
            configstore,
            crypto,
            metrics,
            repo,
            scheduler,
            security,
            variants,
            web,
        )
        from idm_standin.props import PropertyError, has_heap_options
        from idm_standin.state import NodeState

        paths = self.paths
        opts = os.environ.get("OPENIDM_OPTS", "")
        try:
            props = config.load_properties(paths, opts)
            if not has_heap_options(opts):
                LOGGER.warning(
                    "OPENIDM_OPTS is set without -Xmx/-Xms: the JVM would run with its default "
                    "heap; include the memory options whenever you set OPENIDM_OPTS"
                )
            variants.check_boot_keys(props, paths.boot_file)
            variants.check_java(props)
            node_id = (props.get("openidm.node.id") or "").strip()
            if not node_id:
                raise StandinError(NODE_ID_HELP)
            log.set_node_id(node_id)
            cluster_cfg = config.load_cluster(paths, props)
            if not cluster_cfg.instance_id:
                raise StandinError(NODE_ID_HELP + " (conf/cluster.json instanceId is empty)")
            if cluster_cfg.instance_id != node_id:
                log.set_node_id(cluster_cfg.instance_id)
                LOGGER.info(
                    "conf/cluster.json sets instanceId %s (openidm.node.id is %s)",
                    cluster_cfg.instance_id,
                    node_id,
                )
            node_id = cluster_cfg.instance_id
            LOGGER.info(
                "node ID %s; boot properties %s; cluster management %s "
                "(check-in every %d ms, offset %d ms, instanceTimeout %d ms, "
                "instanceRecoveryTimeout %d ms)",
                node_id,
                paths.boot_file,
                "enabled" if cluster_cfg.enabled else "disabled",
                cluster_cfg.checkin_interval_ms,
                cluster_cfg.checkin_offset_ms,
                cluster_cfg.instance_timeout_ms,
                cluster_cfg.recovery_timeout_ms,
            )
            change_mode = config.config_change_mode(props)
            LOGGER.info(
                "configuration changes: %s (conf/system.properties)",
                ", ".join(f"{k}={str(v).lower()}" for k, v in change_mode.items()),
            )
            listeners = config.load_listeners(paths, props)
            execute_persistent = config.load_execute_persistent(paths, props)
            schedules = scheduler.load_schedules(paths, props)
            alias = (props.get("openidm.https.keystore.cert.alias") or "openidm-localhost").strip()
            active_passive_flag = props.get_bool(
                "org.forgerock.feature.cluster.active.passive", False
            )
            improved_flag = props.get_bool("org.forgerock.feature.cluster.improved", False)
            delay = props.get_float("standin.startup.delay.seconds", DEFAULT_STARTUP_DELAY)
            c9_variant = variants.c9(props)
            config_save = props.get_bool("felix.fileinstall.enableConfigSave", True)
            poll_s = props.get_float("felix.fileinstall.poll", 2000.0) / 1000.0
            crypto_alias = (props.get("openidm.config.crypto.alias") or "").strip()
            self.grace = props.get_float("standin.shutdown.grace.seconds", 1.0)
            metrics_cfg = metrics.load(paths, props, node_id, opts)
        except PropertyError as exc:
            raise StandinError(str(exc)) from exc
        active_passive = active_passive_flag and improved_flag
        if active_passive_flag != improved_flag:
            LOGGER.warning(
                "active/passive clustering needs both org.forgerock.feature.cluster.active.passive"
                " and org.forgerock.feature.cluster.improved set to true; it stays off"
            )

        material = security.prepare(paths, props, alias, crypto_alias or None)
        contexts = {
            lst.name: web.tls_context(material, lst) if lst.secure else (None, None)
            for lst in listeners
        }

        if not material.entries:
            raise StandinError(f"keystore {material.keystore.path} holds no key entry")
        # Configuration (the datasource password, C5; the repository's encrypted values, C10) is
        # encrypted with the openidm.config.crypto.alias entry of the keystore, like IDM's
        # openidm-sym-default; a keystore without it uses its first entry.
        key_alias = (
            crypto_alias if crypto_alias in material.entries else sorted(material.entries)[0]
        )
        config_private_key = material.entries[key_alias][0]
        config_key = crypto.key_from_private_key(config_private_key)
        ds = repo.load_repository(paths, props, config_private_key, key_alias)
        LOGGER.info("connecting to the repository %s as %s", ds.describe(), ds.user)
        conn = ds.connect(f"idm-standin {node_id}")
        try:
            if isinstance(ds, repo.Datasource):
                repo.check_schema(conn, ds)
            typeid = repo.objecttype_id(conn, cluster.OBJECTTYPE)
            config_typeid = repo.objecttype_id(conn, configstore.OBJECTTYPE)
            # The first node stores an encrypted value; a node with other key material cannot
            # decrypt it (contract row C10).
            configstore.seed_encrypted(conn, config_typeid, config_key, key_alias, node_id)
            file_snapshot = configstore.load_files(
                conn, config_typeid, paths, change_mode["openidm.fileinstall.enabled"]
            )
        finally:
            conn.close()

        stale_after = max(cluster_cfg.instance_timeout_ms, 3 * cluster_cfg.checkin_interval_ms)
        node = NodeState(node_id, active_passive, stale_after / 1000.0)
        self.node = node
        identity = {
            "host": config.hostname(),
            "home": str(paths.install),
            "clusterEnabled": cluster_cfg.enabled,
            "executePersistentSchedules": execute_persistent,
            "configChangeMode": change_mode,
            "ports": [lst.port for lst in listeners],
            "implementation": PRODUCT_NAME,
        }
        self.cluster = cluster.ClusterManager(
            node,
            cluster_cfg,
            ds,
            typeid,
            identity,
            lambda c: configstore.decryption_problem(c, config_typeid, config_key),
        )
        cluster.c9_variant = c9_variant
        self.pool = repo.Pool(ds, f"idm-standin {node_id} rest")
        app = web.App(node, paths, self.pool, typeid, self.cluster)
        app.config_typeid = config_typeid
        app.config_save = config_save
        app.metrics = metrics_cfg
        for lst in listeners:
            context, names = contexts[lst.name]
            self.servers.append(web.ListenerServer(lst, app, context, names))
        web.serve(self.servers)
        for lst in listeners:
            LOGGER.info(
                "listening on port %d (conf/%s%s)",
                lst.port,
                lst.name,
                ", TLS alias " + lst.cert_alias + (", mutual auth" if lst.mutual_auth else "")
                if lst.secure
                else "",
            )
        if active_passive:
            LOGGER.info("active/passive clustering enabled: this node starts in STANDBY")
        if not execute_persistent:
            LOGGER.info("executePersistentSchedules is false: no persisted schedule runs here")
        self.cluster.start()
        if change_mode["openidm.fileinstall.enabled"]:
            configstore.FileWatcher(
                paths,
                ds,
                config_typeid,
                file_snapshot,
                poll_s,
                node.stop_event,
                node_id,
                protect=lambda name: repo.protect_datasource(
                    paths, props, name, config_private_key, key_alias
                ),
            ).start()
        scheduler.Scheduler(node, paths, schedules, execute_persistent, ds).start()
        threading.Thread(target=self._finish_start, args=(delay,), daemon=True).start()

    def _finish_start(self, delay: float) -> None:
        LOGGER.info("start-up delay %.1f s (standin.startup.delay.seconds)", delay)
        if self.node.stop_event.wait(max(0.0, delay)):
            return
        # Still STARTING until the cluster manager has tried its first check-in.
        while not self.node.first_checkin.wait(0.1):
            if self.node.stop_event.is_set():
                return
        self.node.activate()
        status = self.node.status()
        if status.ready:
            LOGGER.info("OpenIDM ready")
            print("OpenIDM ready", flush=True)
        else:
            LOGGER.warning("started, but not ready: %s", status.short_desc)

    def request_stop(self, signum, _frame) -> None:
        if not self.stop_requested.is_set():
            LOGGER.info("received %s", signal.Signals(signum).name)
        self.stop_requested.set()

    def run_until_stopped(self) -> int:
        while not self.stop_requested.wait(0.5):
            pass
        self.node.begin_stop()
        LOGGER.info(
            "stopping: not ready from now on, serving for %.1f s (standin.shutdown.grace.seconds)",
            self.grace,
        )
        time.sleep(max(0.0, self.grace))
        for server in self.servers:
            server.shutdown()
            server.server_close()
        LOGGER.info("listeners closed")
        self.cluster.mark_down()
        self.pool.close()
        self.remove_pid_file()
        LOGGER.info("%s stopped", PRODUCT_NAME)
        return 0

    def remove_pid_file(self) -> None:
        try:
            if self.pid_file.read_text().strip() == str(os.getpid()):
                self.pid_file.unlink()
        except OSError:
            pass

    def close_after_failure(self) -> None:
        for server in self.servers:
            server.server_close()
        if self.pool is not None:
            self.pool.close()
        self.remove_pid_file()


def _logging_config(paths) -> tuple[Path, dict[str, str], Path]:
    """conf/logback.xml of the project (or LOGGING_CONFIG), the names it may use (environment,
    launcher built-ins, -D options of OPENIDM_OPTS, the last winning) and the working location,
    against which a relative log file is written."""
    from idm_standin.props import PropertyError, parse_opts

    try:
        opts = parse_opts(os.environ.get("OPENIDM_OPTS", ""))
    except PropertyError:
        opts = {}  # reported as fatal once the properties are loaded
    variables = {
        **os.environ,
        "idm.install.dir": str(paths.install),
        "idm.instance.dir": str(paths.instance),
        "idm.data.dir": str(paths.data),
        **opts,
    }
    configured = os.environ.get("LOGGING_CONFIG", "")
    conf_file = Path(configured) if configured else paths.conf / "logback.xml"
    return conf_file, variables, paths.data


def main(argv: list[str]) -> int:
    args = _parse_args(argv)
    instance = Instance(args)
    log.setup(*_logging_config(instance.paths))
    signal.signal(signal.SIGTERM, instance.request_stop)
    signal.signal(signal.SIGINT, instance.request_stop)
    LOGGER.info(
        "%s of PingIDM %s starting: OPENIDM_HOME %s, PROJECT_HOME %s, pid %d",
        PRODUCT_NAME,
        PRODUCT_VERSION,
        instance.paths.install,
        instance.paths.instance,
        os.getpid(),
    )
    print(f'-> OpenIDM version "{PRODUCT_VERSION}" ({PRODUCT_NAME})', flush=True)
    try:
        instance.start()
    except StandinError as exc:
        LOGGER.error("%s cannot start: %s", PRODUCT_NAME, exc)
        instance.close_after_failure()
        return 1
    except Exception:
        LOGGER.exception("%s cannot start: unexpected error", PRODUCT_NAME)
        instance.close_after_failure()
        return 1
    return instance.run_until_stopped()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
