#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refuse a repository database that is not this cluster's, before anything in it changes."""

from __future__ import annotations

DOCUMENTATION = r"""
module: repository_guard
short_description: Refuse a PostgreSQL database that belongs to another cluster or application
version_added: 0.1.0
description:
  - Read-only. Run before the repository phase creates, takes over or writes anything, it refuses
    (naming what it found and the fix) when the target database is not this cluster's to use.
  - B(Another cluster) - the product's cluster table (C(<schema>.clusterobjects), one row per
    instance, C(fullobject.timestamp) its last check-in in epoch ms of the database clock) lists an
    instance whose node ID is not in I(node_ids) and that checked in within I(checkin_window)
    seconds. Two clusters on one repository share schedules, configuration and recovery.
  - B(Another application) - the database exists and holds, outside I(schema), tables, views,
    sequences or other relations owned by another role than I(role) (a wrong I(database) naming
    another application's database, which the role would otherwise take over with
    C(ALTER DATABASE ... OWNER) and put the IDM schema into). Empty schemas, and relations the IDM
    role owns (product tables created in its default schema), are not foreign.
  - B(A password never changed silently) - with I(update_password=on_create), an existing I(role)
    whose I(role_password) does not log in is refused instead of having its password reset (another
    cluster or application may log in with it).
  - A database that does not exist yet is no problem (nothing to look at); the login needs the
    right to connect to it when it exists.
options:
  login_user:
    description: Role to log in as (the admin login when there is one, else the IDM role).
    type: str
    required: true
  login_db:
    description: Database to connect to first (the admin login's maintenance database).
    type: str
    required: true
  database:
    description: The repository database.
    type: str
    required: true
  role:
    description: The database role IDM logs in as.
    type: str
    required: true
  role_password:
    description: Password of I(role); needed for the I(update_password) check.
    type: str
  update_password:
    description:
      - C(on_create) refuses an existing I(role) whose I(role_password) does not log in;
        C(always) lets the caller reset it (nothing is checked).
    type: str
    choices: [on_create, always]
    default: on_create
  schema:
    description: The IDM schema.
    type: str
    default: openidm
  node_ids:
    description: Node IDs of this cluster (configured and recorded); their rows are ours.
    type: list
    elements: str
    default: []
  checkin_window:
    description: Seconds; a foreign row that checked in within this window refuses. C(0) skips it.
    type: int
    default: 600
extends_documentation_fragment:
  - idm_automation.cluster.postgres_login
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: Refuse a database that is not this cluster's
  idm_automation.cluster.repository_guard:
    login_host: pg1.example.com
    login_user: postgres
    login_password: "{{ idm_repo_admin_password }}"
    login_db: postgres
    database: openidm
    role: openidm
    role_password: "{{ idm_repo_password }}"
    node_ids: [node1, node2, node3]
  run_once: true
"""

RETURN = r"""
database_exists:
  description: Whether I(database) exists.
  type: bool
  returned: always
role_exists:
  description: Whether I(role) exists.
  type: bool
  returned: always
role_login:
  description: Whether I(role) logs in with I(role_password) (null when not tried).
  type: bool
  returned: always
instances:
  description:
    - Rows of the cluster table - C(id), C(state), C(age) (seconds since the last check-in, or
      null).
  type: list
  elements: dict
  returned: always
foreign_objects:
  description: Relations outside I(schema) owned by another role, as C(schema.name (owner)).
  type: list
  elements: str
  returned: always
"""

import contextlib

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.idm_automation.cluster.plugins.module_utils.postgres import (
    DRIVER_ERROR,
    LOGIN_ARGUMENT_SPEC,
    connect,
    error_text,
    listing,
    pg_driver,
    quote_ident,
)

_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


def recent_foreign(instances: list[dict], ours: list[str], window: int) -> list[dict]:
    """Rows of instances that are not ours, not down, and checked in within ``window`` seconds.

    A node that shut down writes ``down`` with a fresh timestamp: a node just removed from the
    inventory (remove_node.yml) or renamed is not another cluster at work."""
    if window <= 0:
        return []
    mine = {str(node_id) for node_id in ours}
    return [
        row
        for row in instances
        if row["id"] not in mine
        and row["state"] != "down"
        and row["age"] is not None
        and row["age"] <= window
    ]


def refusals(state: dict, params: dict) -> list[str]:
    """Why this database must not be used by the cluster (empty when it may)."""
    where = f"{params['login_host']}:{params['login_port']}/{params['database']}"
    found = []
    foreign = recent_foreign(state["instances"], params["node_ids"], params["checkin_window"])
    if foreign:
        rows = [f"{r['id']} ({r['state']}, {r['age']} s ago)" for r in foreign]
        found.append(
            f"the repository {where} is in use by another cluster: its cluster table lists "
            f"instances that are not nodes of this one and checked in within "
            f"{params['checkin_window']} s: {listing(rows)}. Give this cluster a database of its "
            "own (idm_repo_host/idm_repo_database); if these are old node IDs of this cluster, "
            "remove them (playbooks/remove_node.yml) or wait until they are older than "
            "idm_repo_foreign_checkin_window"
        )
    if state["foreign_objects"]:
        found.append(
            f"the database {where} belongs to another application: outside the IDM schema "
            f"{params['schema']} it holds objects of other owners "
            f"({listing(state['foreign_objects'])}); "
            "the repository phase would take the database over (ALTER DATABASE ... OWNER) and put "
            f"the IDM schema into it. Check idm_repo_database (it must name IDM's own database, "
            "new or used only by IDM)"
        )
    if (
        params["update_password"] == "on_create"
        and state["role_exists"]
        and state["role_login"] is False
    ):
        found.append(
            f"the database role {params['role']} exists on {params['login_host']}:"
            f"{params['login_port']} but idm_repo_password does not log in as it "
            f"({state['role_error']}); its password is not changed, another cluster or "
            "application may use it. Set idm_repo_password to the role's password, use a role "
            "of its own (idm_repo_user), or reset it on purpose with "
            "idm_repo_update_password: always"
        )
    return found


def _connect(params: dict, user: str, password: str, dbname: str):
    return connect(params, "repository_guard", user, password, dbname)


def inspect_database(cursor, schema: str, role: str) -> tuple[list[dict] | None, list[str]]:
    """The cluster table's rows (None when the login may not read it) and the foreign objects of
    the connected database."""
    cursor.execute(
        "SELECT n.nspname || '.' || c.relname || ' (' || pg_get_userbyid(c.relowner) || ')'"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname <> %s AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg\\_%%'"
        " AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        " AND pg_get_userbyid(c.relowner) <> %s ORDER BY 1",
        (schema, list(_SYSTEM_SCHEMAS), role),
    )
    foreign = [row[0] for row in cursor.fetchall()]
    # From the catalog (readable by every login): whether the table is there and readable. An
    # admin that is not a superuser (a managed service's) may not read the IDM role's schema.
    cursor.execute(
        "SELECT has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = 'clusterobjects'",
        (schema,),
    )
    row = cursor.fetchone()
    if row is None:
        return [], foreign
    return (read_instances(cursor, schema) if row[0] else None), foreign


def read_instances(cursor, schema: str) -> list[dict]:
    """The rows of the cluster table, each with its age in seconds."""
    instances: list[dict] = []
    cursor.execute(
        "SELECT objectid, fullobject->>'state', fullobject->>'timestamp',"
        " (extract(epoch FROM clock_timestamp()) * 1000)::bigint"
        f" FROM {quote_ident(schema)}.clusterobjects ORDER BY objectid"
    )
    for node_id, state, stamp, now in cursor.fetchall():
        try:
            age = max(0, (int(now) - int(stamp)) // 1000)
        except (TypeError, ValueError):
            age = None
        instances.append({"id": node_id, "state": state or "unknown", "age": age})
    return instances


def _instances_as_role(params: dict) -> list[dict]:
    """The cluster table read as the IDM role (its password logs in, or the read fails)."""
    if params["role_password"] is None:
        raise pg_driver.Error(
            f"{params['login_user']} may not read {params['schema']}.clusterobjects and no "
            "role_password was given to read it as its owner"
        )
    connection = _connect(params, params["role"], params["role_password"], params["database"])
    try:
        with connection.cursor() as cursor:
            return read_instances(cursor, params["schema"])
    finally:
        with contextlib.suppress(pg_driver.Error):
            connection.close()


def run(module: AnsibleModule) -> dict:
    params = module.params
    state = {
        "database_exists": False,
        "role_exists": False,
        "role_login": None,
        "role_error": None,
        "instances": [],
        "foreign_objects": [],
    }
    where = f"{params['login_host']}:{params['login_port']}"
    try:
        first = _connect(params, params["login_user"], params["login_password"], params["login_db"])
    except pg_driver.Error as error:
        module.fail_json(
            msg=f"The repository server {where} refuses the login {params['login_user']} "
            f"(database {params['login_db']}): {error_text(error)}. Check the login and "
            "pg_hba.conf; nothing was changed."
        )
    try:
        with first.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (params["database"],))
            state["database_exists"] = cursor.fetchone() is not None
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (params["role"],))
            state["role_exists"] = cursor.fetchone() is not None
        first.rollback()
    finally:
        with contextlib.suppress(pg_driver.Error):
            first.close()
    if state["database_exists"]:
        connection = None
        try:
            connection = _connect(
                params, params["login_user"], params["login_password"], params["database"]
            )
            with connection.cursor() as cursor:
                instances, state["foreign_objects"] = inspect_database(
                    cursor, params["schema"], params["role"]
                )
            connection.rollback()
            if instances is None:  # the login may not read the IDM schema: read it as its owner
                instances = _instances_as_role(params)
            state["instances"] = instances
        except pg_driver.Error as error:
            module.fail_json(
                msg=f"The repository database {where}/{params['database']} cannot be read as "
                f"{params['login_user']}: {error_text(error)}; nothing was changed."
            )
        finally:
            with contextlib.suppress(pg_driver.Error, AttributeError):
                connection.close()
    if (
        state["role_exists"]
        and params["update_password"] == "on_create"
        and params["role_password"] is not None
        and params["role"] != params["login_user"]
    ):
        dbname = params["database"] if state["database_exists"] else params["login_db"]
        try:
            probe = _connect(params, params["role"], params["role_password"], dbname)
        except pg_driver.Error as error:
            state["role_login"] = False
            state["role_error"] = error_text(error)
        else:
            state["role_login"] = True
            with contextlib.suppress(pg_driver.Error):
                probe.close()
    elif params["role"] == params["login_user"]:
        state["role_login"] = True
    problems = refusals(state, params)
    result = {k: v for k, v in state.items() if k != "role_error"}
    if problems:
        module.fail_json(
            msg="Refused, nothing was changed: " + "; and ".join(problems) + ".", **result
        )
    return {"changed": False, **result}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **LOGIN_ARGUMENT_SPEC,
            "database": {"type": "str", "required": True},
            "role": {"type": "str", "required": True},
            "role_password": {"type": "str", "no_log": True},
            "update_password": {
                "type": "str",
                "default": "on_create",
                "choices": ["on_create", "always"],
                "no_log": False,
            },
            "schema": {"type": "str", "default": "openidm"},
            "node_ids": {"type": "list", "elements": "str", "default": []},
            "checkin_window": {"type": "int", "default": 600},
        },
        supports_check_mode=True,
    )
    if pg_driver is None:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=DRIVER_ERROR)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
