# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's PostgreSQL modules share: the driver, the login options, a connection,
and the small text and SQL helpers their messages and queries use."""

from __future__ import annotations

import traceback
from typing import Any

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

# The login options of repository_schema and repository_guard (argument spec).
LOGIN_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "login_host": {"type": "str", "required": True},
    "login_port": {"type": "int", "default": 5432},
    "login_user": {"type": "str", "required": True},
    "login_password": {"type": "str", "required": True, "no_log": True},
    "login_db": {"type": "str", "required": True},
    "connect_timeout": {"type": "int", "default": 10},
    "ssl_mode": {
        "type": "str",
        "default": "prefer",
        "choices": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
    },
    "ca_cert": {"type": "str", "aliases": ["ssl_rootcert"]},
}


def connect(params: dict, module_name: str, user: str | None = None,
            password: str | None = None, dbname: str | None = None):  # fmt: skip
    """A connection with the login options (``user``/``password``/``dbname`` override them)."""
    return pg_driver.connect(
        host=params["login_host"],
        port=params["login_port"],
        user=params["login_user"] if user is None else user,
        password=params["login_password"] if password is None else password,
        dbname=params["login_db"] if dbname is None else dbname,
        connect_timeout=params["connect_timeout"],
        application_name=f"idm_automation.cluster {module_name}",
        **tls_options(params),
    )


def tls_options(params: dict) -> dict[str, str]:
    """libpq's ``sslmode`` and ``sslrootcert`` from the ``ssl_mode`` and ``ca_cert`` options
    (``prefer``, libpq's default, when they are not given)."""
    options = {"sslmode": params.get("ssl_mode") or "prefer"}
    if params.get("ca_cert"):
        options["sslrootcert"] = params["ca_cert"]
    return options


def error_text(error: Exception) -> str:
    """The first line of a driver error (the rest repeats the query)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)


def listing(names: list[str], limit: int = 8) -> str:
    """``a, b, c and 4 more``."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
