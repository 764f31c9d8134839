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
    against the repository database, but only when none of their tables exists. The product's
    C(openidm.pgsql) begins with C(DROP SCHEMA IF EXISTS openidm CASCADE), so a second run silently
    destroys the whole repository. It must run once per cluster, never again.
  - Everything happens in one transaction that first takes a PostgreSQL advisory lock, then looks
    at the schema. Two runs at once therefore apply the DDL once (the second waits, then finds the
    schema), and a failure or lost connection half-way leaves nothing behind (PostgreSQL DDL is
    transactional).
  - The tables each script creates are read from its C(CREATE TABLE) statements. The scripts run
    only when none of these tables exists anywhere and the schema holds no table at all.
  - Refuses, naming what it found and the fix, and runs nothing when the schema is owned by another
    role, holds tables that no given script creates, or is partial (some tables of the base
    scripts - the destructive ones and the one creating I(marker_table) - present, others not).
  - When the schema is complete, a later script (one given now whose tables are all absent, for
    example C(audit.pgsql) added to the list after the first deployment) is never run; it is
    returned in RV(pending) with a warning. When the schema exists but was created from scripts
    whose checksums differ from the given ones (a newer product version), the difference is
    reported and nothing changes unless I(update) is set (below).
  - The checksums of the applied scripts are recorded as the comment of the schema, with those of
    the release's repository update scripts (I(updates)); a schema created from a release's DDL
    already has what its update scripts add.
  - With I(update), a complete schema made for another release (its recorded DDL checksums differ
    from the given ones, or an update script is not recorded) is brought to this release, once,
    in the same locked transaction - the rows of I(clear_tables) that exist are deleted (the
    vendor's upgrade guide clears the configuration tables), the update scripts not recorded yet
    run in the given order, and the record becomes this release's. IDM must be stopped on every
    node (the caller's duty). A failing script rolls everything back. Without I(update) the need
    is returned in RV(update_needed) and RV(pending_updates) and nothing changes.
  - M(community.postgresql.postgresql_script) runs a script but always reports a change and takes no
    lock, which is why this module exists.
options:
  login_user:
    description: Role to log in as; it becomes the owner of what the scripts create.
    type: str
    required: true
  login_db:
    description: Repository database.
    type: str
    required: true
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
    description:
      - A table the main script creates; the scripts that create it, and the destructive ones,
        are the base scripts whose tables must all be present in an existing schema.
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
  updates:
    description:
      - The release's repository update scripts (those of C(db/postgresql/scripts/updates/) that
        the vendor's upgrade guide names for the upgrade path), in the order to run, each with
        C(name) and C(content). Each runs at most once per database.
    type: list
    elements: dict
    default: []
  update:
    description:
      - Bring a schema made for another release to this one (see the description). Only while
        IDM is stopped on every node of the cluster.
    type: bool
    default: false
  clear_tables:
    description: Tables whose rows an update deletes first (those that do not exist are skipped).
    type: list
    elements: str
    default: [openidm.configobjects, openidm.configobjectproperties]
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
update_needed:
  description:
    - Whether the schema was made for another release (recorded DDL checksums differ from the
      given ones, or an update script is not recorded). False after an update by this call.
  type: bool
  returned: always
pending_updates:
  description:
    - Update scripts that have not run against the schema (this call runs them with I(update)).
  type: list
  elements: str
  returned: always
updated:
  description: Update scripts run by this call.
  type: list
  elements: str
  returned: always
cleared:
  description: Tables whose rows this call deleted before the update scripts.
  type: list
  elements: str
  returned: always
pending:
  description:
    - Scripts that never ran against the existing schema (their tables are absent, or for a script
      creating no table, it is missing from the recorded checksums). They were not run.
  type: list
  elements: str
  returned: always
"""

import contextlib
import hashlib
import json
import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.idm_automation.cluster.plugins.module_utils.postgres import (
    DRIVER_ERROR,
    LOGIN_ARGUMENT_SPEC,
    connect,
    listing,
    pg_driver,
    quote_ident,
)

COMMENT_PREFIX = "idm_automation.cluster DDL "
# Update scripts are recorded beside the DDL under this prefix (their names are file names).
UPDATE_PREFIX = "updates/"


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


_CREATE_TABLE = re.compile(
    r"\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"((?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+))?)",
    re.IGNORECASE,
)
_DESTRUCTIVE = re.compile(r"\bDROP\s+(?:SCHEMA|TABLE|DATABASE|OWNED)\b", re.IGNORECASE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def _ident(part: str) -> str:
    part = part.strip()
    return part[1:-1] if part.startswith('"') else part.lower()


def created_tables(content: str) -> list[str]:
    """Tables a script creates: ``schema.table``, or ``table`` when it names no schema."""
    names = []
    for match in _CREATE_TABLE.finditer(_COMMENTS.sub(" ", content)):
        name = ".".join(_ident(p) for p in match.group(1).split("."))
        if name not in names:
            names.append(name)
    return names


def is_destructive(content: str) -> bool:
    """Whether a script drops something (the product's openidm.pgsql drops its schema first)."""
    return bool(_DESTRUCTIVE.search(_COMMENTS.sub(" ", content)))


def inspect(cursor, schema: str, scripts: list[dict], marker: str) -> dict:
    """What the database holds of the schema and of the tables the scripts create."""
    cursor.execute(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
        (schema,),
    )
    row = cursor.fetchone()
    owner = row[0] if row else None
    cursor.execute("SELECT current_user")
    user = cursor.fetchone()[0]
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY 1",
        (schema,),
    )
    in_schema = [r[0] for r in cursor.fetchall()]
    per_script = {}
    known = set()
    for script in scripts:
        tables = created_tables(script["content"])
        present = []
        for table in tables:
            if "." in table:
                table_schema, name = table.split(".", 1)
                found = table_schema == schema and name in in_schema
                if table_schema == schema:
                    known.add(name)
                else:
                    found = marker_exists(
                        cursor, quote_ident(table_schema) + "." + quote_ident(name)
                    )
            else:
                known.add(table)
                found = table in in_schema or marker_exists(cursor, quote_ident(table))
            if found:
                present.append(table)
        per_script[script["name"]] = {"tables": tables, "present": present}
    marker_name = marker.split(".", 1)[1] if marker.startswith(schema + ".") else marker
    base = [
        s["name"]
        for s in scripts
        if is_destructive(s["content"])
        or marker in per_script[s["name"]]["tables"]
        or marker_name in per_script[s["name"]]["tables"]
    ] or [scripts[0]["name"]]
    return {
        "owner": owner,
        "user": user,
        "in_schema": in_schema,
        "unknown": [t for t in in_schema if t not in known],
        "scripts": per_script,
        "base": base,
    }


_FIX_PARTIAL = (
    " Nothing was run: the product's DDL drops the schema first and would destroy what is "
    "there. Restore the repository from its backup, or - after making sure it holds nothing you "
    "need - drop the schema by hand (DROP SCHEMA {schema} CASCADE) and run again."
)


def refusal(state: dict, schema: str, login_user: str) -> str | None:
    """Why the scripts must not run and the schema cannot be taken as complete, or None."""
    if state["owner"] is not None and state["owner"] != state["user"]:
        return (
            f"the schema {schema} exists and is owned by {state['owner']}, not by {login_user}: "
            "a foreign schema (another application, or a repository created by another role). "
            f"Nothing was run. Give the repository its own database, or log in as the owner."
        )
    if state["unknown"]:
        return (
            f"the schema {schema} holds tables that none of the given scripts creates "
            f"({listing(state['unknown'])}): a foreign or customised schema."
            + _FIX_PARTIAL.format(schema=schema)
        )
    scripts = state["scripts"]
    found_any = any(info["present"] for info in scripts.values())
    if not found_any:
        return None
    for name in state["base"]:
        info = scripts[name]
        missing = [t for t in info["tables"] if t not in info["present"]]
        if missing:
            found = ", ".join(
                f"{len(i['present'])} of {len(i['tables'])} tables of {n}"
                for n, i in scripts.items()
                if i["present"]
            )
            return (
                f"the schema {schema} is partial: found {found}; missing from {name}: "
                f"{listing(missing)}." + _FIX_PARTIAL.format(schema=schema)
            )
    for name, info in scripts.items():
        if (
            name not in state["base"]
            and info["present"]
            and len(info["present"]) < len(info["tables"])
        ):
            missing = [t for t in info["tables"] if t not in info["present"]]
            return (
                f"the tables of {name} are partial in {schema}: found "
                f"{listing(info['present'])}; missing {listing(missing)}. Nothing was run: "
                f"complete or remove them by hand, then run again."
            )
    return None


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


def pending_updates(recorded: dict[str, str], wanted: dict[str, str], updates: list[dict]) -> list:
    """Update scripts a schema with the ``recorded`` checksums has not had. A schema created from
    the given DDL (every checksum recorded and equal) has them all: the DDL includes them."""
    if recorded and all(recorded.get(name) == digest for name, digest in wanted.items()):
        return []
    return [u for u in updates if UPDATE_PREFIX + u["name"] not in recorded]


def record(wanted: dict[str, str], updates: list[dict], recorded: dict[str, str]) -> dict:
    """The record of a schema at this release: its DDL, and every update it has had."""
    kept = {k: v for k, v in recorded.items() if k.startswith(UPDATE_PREFIX)}
    return {**kept, **wanted, **{UPDATE_PREFIX + k: v for k, v in checksums(updates).items()}}


def write_record(cursor, schema: str, checksums_: dict[str, str]) -> None:
    comment = COMMENT_PREFIX + json.dumps(checksums_, sort_keys=True)
    cursor.execute(f"COMMENT ON SCHEMA {quote_ident(schema)} IS {quote_literal(comment)}")


def update_schema(
    module: AnsibleModule, cursor, result: dict, recorded: dict, wanted: dict, pending: list
) -> None:
    """Clear the configuration tables, run the pending update scripts, record the release."""
    params = module.params
    result["changed"] = True
    result["updated"] = [u["name"] for u in pending]
    for table in params["clear_tables"]:
        if marker_exists(cursor, table):
            result["cleared"].append(table)
    if module.check_mode:
        return
    for table in result["cleared"]:
        name = ".".join(quote_ident(part) for part in table.split(".", 1))
        cursor.execute(f"DELETE FROM {name}")
    apply_scripts(module, cursor, pending)
    result["recorded"] = record(wanted, params["updates"], recorded)
    write_record(cursor, params["schema"], result["recorded"])
    result["differs"] = []
    result["update_needed"] = False


def run(module: AnsibleModule, connection) -> dict:
    params = module.params
    scripts = params["scripts"]
    schema = params["schema"]
    wanted = checksums(scripts)
    result = {
        "changed": False,
        "applied": [],
        "recorded": {},
        "differs": [],
        "pending": [],
        "update_needed": False,
        "pending_updates": [],
        "updated": [],
        "cleared": [],
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", (f"{params['lock_timeout']}s",)
        )
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (params["lock_key"],))
        state = inspect(cursor, schema, scripts, params["marker_table"])
        problem = refusal(state, schema, params["login_user"])
        if problem:
            raise RuntimeError(problem)
        if any(info["present"] for info in state["scripts"].values()):
            # Complete: the scripts ran. Never run any of them again; report what was added.
            recorded = recorded_checksums(cursor, schema)
            result["recorded"] = recorded
            result["differs"] = sorted(n for n, h in wanted.items() if recorded.get(n, h) != h)
            result["pending"] = [
                s["name"]
                for s in scripts
                if (
                    state["scripts"][s["name"]]["tables"]
                    and not state["scripts"][s["name"]]["present"]
                )
                or (
                    not state["scripts"][s["name"]]["tables"]
                    and recorded
                    and s["name"] not in recorded
                )
            ]
            pending = pending_updates(recorded, wanted, params["updates"])
            result["pending_updates"] = [u["name"] for u in pending]
            result["update_needed"] = bool(result["differs"] or pending)
            if result["update_needed"] and params["update"]:
                update_schema(module, cursor, result, recorded, wanted, pending)
                if module.check_mode:
                    connection.rollback()
                else:
                    connection.commit()
                return result
            connection.rollback()
            if result["update_needed"]:
                module.warn(
                    "The repository schema exists and was made for another release (DDL "
                    f"{', '.join(result['differs']) or 'as recorded'}; update scripts not run: "
                    f"{', '.join(result['pending_updates']) or 'none'}); it is left as it is. "
                    "Upgrade it with playbooks/upgrade.yml, never by re-running the DDL."
                )
            if result["pending"]:
                module.warn(
                    f"The repository schema exists, but {', '.join(result['pending'])} never ran "
                    "against it (added to the script list after the schema was created). It was "
                    "NOT run now: check that it does not drop anything, then run it once by hand "
                    f"as the repository user (psql -d {params['login_db']} -f <script>)."
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
        result["recorded"] = record(wanted, params["updates"], {})
        write_record(cursor, schema, result["recorded"])
    connection.commit()
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **LOGIN_ARGUMENT_SPEC,
            "lock_timeout": {"type": "int", "default": 600},
            "lock_key": {"type": "int", "default": 7170111100, "no_log": False},
            "schema": {"type": "str", "default": "openidm"},
            "marker_table": {"type": "str", "default": "openidm.configobjects"},
            "scripts": {"type": "list", "elements": "dict", "required": True},
            "create": {"type": "bool", "default": True},
            "updates": {"type": "list", "elements": "dict", "default": []},
            "update": {"type": "bool", "default": False},
            "clear_tables": {
                "type": "list",
                "elements": "str",
                "default": ["openidm.configobjects", "openidm.configobjectproperties"],
            },
        },
        supports_check_mode=True,
    )
    if pg_driver is None:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=DRIVER_ERROR)
    params = module.params
    for option in ("scripts", "updates"):
        for index, script in enumerate(params[option]):
            if not isinstance(script.get("name"), str) or not isinstance(
                script.get("content"), str
            ):
                module.fail_json(msg=f"{option}[{index}] needs a 'name' and a 'content' string")
    where = f"{params['login_host']}:{params['login_port']}/{params['login_db']}"
    try:
        connection = connect(params, "repository_schema")
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
