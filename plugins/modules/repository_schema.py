#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create the IDM repository schema exactly once: one transaction, under an advisory lock."""

from __future__ import annotations

DOCUMENTATION = r"""
module: repository_schema
short_description: Run the PingIDM repository DDL exactly once per PostgreSQL database
version_added: 0.1.0
description:
  - Runs the product's DDL scripts (C(openidm.pgsql), C(flowable.postgres.all.create.sql), ...)
    against the repository database, but only when the schema is absent. The product's DDL is
    plain C(CREATE) - running it a second time fails - and it must run once per cluster, not once
    per node.
  - Everything happens in one transaction that first takes a PostgreSQL advisory lock, then
    checks for the marker table. Two runs at once therefore apply the DDL once (the second waits,
    then finds the schema), and a failure or lost connection half-way leaves nothing behind
    (PostgreSQL DDL is transactional).
  - Never drops, truncates or re-creates anything. When the schema exists but was created from
    scripts whose checksums differ from the given ones (a newer product version), it reports the
    difference and changes nothing; upgrading a schema is the product's upgrade procedure.
  - The checksums of the applied scripts are recorded as the comment of the schema.
  - M(community.postgresql.postgresql_script) runs a script but always reports a change and takes no
    lock, which is why this module exists.
options:
  login_host:
    description: Database server host.
    type: str
    required: true
  login_port:
    description: Database server port.
    type: int
    default: 5432
  login_user:
    description: Role to log in as; it becomes the owner of what the scripts create.
    type: str
    required: true
  login_password:
    description: Password of I(login_user).
    type: str
    required: true
  login_db:
    description: Repository database.
    type: str
    required: true
  connect_timeout:
    description: Seconds to wait for a connection.
    type: int
    default: 10
  lock_timeout:
    description: Seconds to wait for the advisory lock held by another run.
    type: int
    default: 600
  lock_key:
    description:
      - Key of the transaction-level advisory lock (bigint).
      - All runs against one database must use the same key.
    type: int
    default: 7170111100
  schema:
    description: Schema the scripts create; its comment records the applied scripts.
    type: str
    default: openidm
  marker_table:
    description: Table whose existence means the DDL already ran.
    type: str
    default: openidm.configobjects
  scripts:
    description: Scripts in the order to run, each with C(name) and C(content) (the SQL text).
    type: list
    elements: dict
    required: true
  create:
    description:
      - Create the schema when it is absent. With C(false) an absent schema is an error - for
        operations on an existing cluster (adding nodes) that must never run the DDL.
    type: bool
    default: true
requirements:
  - psycopg (3) or psycopg2 on the host that runs the module
extends_documentation_fragment:
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
- name: Read the DDL from the distribution
  ansible.builtin.slurp:
    src: /opt/idm/openidm/db/postgresql/scripts/openidm.pgsql
  register: ddl

- name: Create the repository schema once
  idm_automation.cluster.repository_schema:
    login_host: pg1.example.com
    login_user: openidm
    login_password: "{{ idm_repo_password }}"
    login_db: openidm
    scripts:
      - name: openidm.pgsql
        content: "{{ ddl.content | b64decode }}"
  run_once: true
"""

RETURN = r"""
applied:
  description: Names of the scripts run by this call (empty when the schema existed).
  type: list
  elements: str
  returned: always
recorded:
  description: Script checksums recorded when the schema was created (empty if unknown).
  type: dict
  returned: always
differs:
  description: Scripts whose checksum differs from the recorded one (the schema is left as it is).
  type: list
  elements: str
  returned: always
"""

import contextlib
import hashlib
import json
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import psycopg as pg_driver

    DRIVER_ERROR = None
except ImportError:
    try:
        import psycopg2 as pg_driver

        DRIVER_ERROR = None
    except ImportError:
        pg_driver = None
        DRIVER_ERROR = traceback.format_exc()

COMMENT_PREFIX = "idm_automation.cluster DDL "


def checksums(scripts: list[dict]) -> dict[str, str]:
    """sha256 of every script's content, by name."""
    return {s["name"]: hashlib.sha256(s["content"].encode()).hexdigest() for s in scripts}


def recorded_checksums(cursor, schema: str) -> dict[str, str]:
    """Checksums this module recorded on the schema, or {} when none were recorded."""
    cursor.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (schema,),
    )
    row = cursor.fetchone()
    comment = row[0] if row else None
    if not comment or not comment.startswith(COMMENT_PREFIX):
        return {}
    try:
        return json.loads(comment[len(COMMENT_PREFIX) :])
    except ValueError:
        return {}


def marker_exists(cursor, marker: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (marker,))
    return bool(cursor.fetchone()[0])


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """SQL string literal (standard_conforming_strings): COMMENT takes no bind parameters."""
    return "'" + text.replace("'", "''") + "'"


def apply_scripts(module: AnsibleModule, cursor, scripts: list[dict]) -> None:
    """Run every script; on error the caller's transaction is rolled back."""
    for script in scripts:
        try:
            cursor.execute(script["content"])
        except pg_driver.Error as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise RuntimeError(f"{script['name']} failed: {message}") from error


def run(module: AnsibleModule, connection) -> dict:
    params = module.params
    scripts = params["scripts"]
    wanted = checksums(scripts)
    result = {"changed": False, "applied": [], "recorded": {}, "differs": []}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", (f"{params['lock_timeout']}s",)
        )
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (params["lock_key"],))
        if marker_exists(cursor, params["marker_table"]):
            recorded = recorded_checksums(cursor, params["schema"])
            result["recorded"] = recorded
            result["differs"] = sorted(n for n, h in wanted.items() if recorded.get(n, h) != h)
            connection.rollback()
            if result["differs"]:
                module.warn(
                    "The repository schema exists and was created from other versions of "
                    f"{', '.join(result['differs'])}; it is left as it is. Upgrade it with the "
                    "product's upgrade procedure, never by re-running the DDL."
                )
            return result
        if not params["create"]:
            raise RuntimeError(
                f"the repository has no IDM schema ({params['marker_table']} is missing) and this "
                "run must not create it; deploy the cluster with site.yml first"
            )
        result["changed"] = True
        result["applied"] = [s["name"] for s in scripts]
        if module.check_mode:
            connection.rollback()
            return result
        apply_scripts(module, cursor, scripts)
        if not marker_exists(cursor, params["marker_table"]):
            raise RuntimeError(
                f"the scripts ran but did not create {params['marker_table']}; "
                "check that they are the product's repository DDL"
            )
        comment = COMMENT_PREFIX + json.dumps(wanted, sort_keys=True)
        cursor.execute(
            f"COMMENT ON SCHEMA {quote_ident(params['schema'])} IS {quote_literal(comment)}"
        )
        result["recorded"] = wanted
    connection.commit()
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "login_host": {"type": "str", "required": True},
            "login_port": {"type": "int", "default": 5432},
            "login_user": {"type": "str", "required": True},
            "login_password": {"type": "str", "required": True, "no_log": True},
            "login_db": {"type": "str", "required": True},
            "connect_timeout": {"type": "int", "default": 10},
            "lock_timeout": {"type": "int", "default": 600},
            "lock_key": {"type": "int", "default": 7170111100, "no_log": False},
            "schema": {"type": "str", "default": "openidm"},
            "marker_table": {"type": "str", "default": "openidm.configobjects"},
            "scripts": {"type": "list", "elements": "dict", "required": True},
            "create": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    if pg_driver is None:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=DRIVER_ERROR)
    params = module.params
    for index, script in enumerate(params["scripts"]):
        if not isinstance(script.get("name"), str) or not isinstance(script.get("content"), str):
            module.fail_json(msg=f"scripts[{index}] needs a 'name' and a 'content' string")
    where = f"{params['login_host']}:{params['login_port']}/{params['login_db']}"
    try:
        connection = pg_driver.connect(
            host=params["login_host"],
            port=params["login_port"],
            user=params["login_user"],
            password=params["login_password"],
            dbname=params["login_db"],
            connect_timeout=params["connect_timeout"],
            application_name="idm_automation.cluster repository_schema",
        )
    except pg_driver.Error as error:
        module.fail_json(
            msg=f"The repository at {where} is unreachable as {params['login_user']}: "
            f"{str(error).strip()}. Check that PostgreSQL runs, listens there and accepts this "
            "login (pg_hba.conf); nothing was changed."
        )
    try:
        result = run(module, connection)
    except (RuntimeError, pg_driver.Error) as error:
        lost = bool(getattr(connection, "closed", False))
        with contextlib.suppress(pg_driver.Error):
            connection.rollback()
        how = "the connection was lost before the commit, so PostgreSQL " if lost else "it was "
        module.fail_json(
            msg=f"Creating the repository schema at {where} failed: {str(error).strip()}. "
            f"The transaction was not committed: {how}rolled back, nothing was applied and the "
            "database is as it was before."
        )
    finally:
        with contextlib.suppress(pg_driver.Error):
            connection.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
