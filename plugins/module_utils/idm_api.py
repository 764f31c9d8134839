# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the PingIDM REST API, shared by the collection's modules.

It knows the product's conventions once: every endpoint needs credentials (anonymous headers for
probes, contract row C8; the admin user for the rest), ``X-OpenIDM-NoSession: true`` on every
call, JSON bodies, ``If-Match: *`` on updates. Transport is ``ansible.module_utils.urls.open_url``
so it runs inside modules on the managed host. Errors name the URL, the HTTP status and a hint;
no password ever appears in an error or in a returned value.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url

ANONYMOUS = "anonymous"
DEFAULT_ADMIN_USER = "openidm-admin"
NO_SESSION = {"X-OpenIDM-NoSession": "true"}
CLUSTER_QUERY = "/openidm/cluster?_queryFilter=true"
ACTIVATION = "/openidm/cluster/active"
ACTIVATION_STATES = ("ACTIVE", "STANDBY")
NOT_CONNECTED = -1  # status of a request that got no HTTP answer


@dataclass(frozen=True)
class Credentials:
    """Who the client is. ``basic`` sends HTTP Basic (as the roles' uri tasks did); otherwise
    the ``X-OpenIDM-Username``/``X-OpenIDM-Password`` headers. The password is not in repr()."""

    username: str
    password: str = field(repr=False)
    basic: bool = True

    @classmethod
    def anonymous(cls) -> Credentials:
        return cls(ANONYMOUS, ANONYMOUS, basic=False)

    @property
    def is_anonymous(self) -> bool:
        return self.username == ANONYMOUS

    def headers(self) -> dict[str, str]:
        if not self.basic:
            return {"X-OpenIDM-Username": self.username, "X-OpenIDM-Password": self.password}
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}


@dataclass(frozen=True)
class Reply:
    """One HTTP exchange: ``status`` is -1 when nothing answered (``reason`` says why)."""

    method: str
    url: str
    status: int
    body: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def summary(self) -> str:
        """Status and a short excerpt of the answer, for messages."""
        if self.status == NOT_CONNECTED:
            return f"no answer ({self.reason})"
        document = self.json()
        detail = document.get("message") if isinstance(document, dict) else None
        text = str(detail or self.body).strip().replace("\n", " ")[:200]
        return f"HTTP {self.status}" + (f": {text}" if text else "")


class IdmApiError(Exception):
    """A call that did not get the answer it needed; ``str()`` names URL, status and a hint."""

    def __init__(self, reply: Reply, hint: str) -> None:
        self.reply = reply
        self.hint = hint
        super().__init__(f"{reply.method} {reply.url}: {reply.summary()}. {hint}")

    @property
    def status(self) -> int:
        return self.reply.status


def hint(reply: Reply, credentials: Credentials) -> str:
    """What an operator should check, given what came back."""
    status, reason = reply.status, reply.reason.lower()
    if status == NOT_CONNECTED:
        if "refused" in reason:
            return "Nothing listens there: is the node started, and is this its port?"
        if "timed out" in reason or "timeout" in reason:
            return "The node did not answer in time: is it overloaded or still starting?"
        if "certificate" in reason or "ssl" in reason:
            return "TLS failed: give the CA with ca_path, or check the name the URL uses."
        return "The node could not be reached: check the host name and the network."
    if status == 401:
        if credentials.is_anonymous:
            return "IDM refused the anonymous credentials (it needs the anonymous headers)."
        return f"IDM refused the credentials of {credentials.username}: check the admin password."
    if status == 403:
        return f"{credentials.username} may not use this endpoint."
    if status == 404:
        return "IDM does not know this resource."
    if status in (412, 428):
        return "IDM wants the header If-Match: * on this update."
    if status == 503:
        return "The node is not ready (starting, stopping or without its repository)."
    return "Unexpected answer from IDM."


class Deadline:
    """A point in monotonic time; ``left()`` is never negative."""

    def __init__(self, seconds: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + max(float(seconds), 0.0)

    def left(self) -> float:
        return max(self.end - time.monotonic(), 0.0)

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def elapsed(self) -> float:
        return round(time.monotonic() - self.start, 2)


def poll(
    attempt: Callable[[], Any],
    done: Callable[[Any], bool],
    deadline: Deadline,
    interval: float,
    stop: Callable[[Any], bool] | None = None,
) -> tuple[Any, bool]:
    """Call ``attempt`` until ``done(result)``, ``stop(result)`` or the deadline; at least once.
    Returns (last result, done?). Sleeps ``interval`` between attempts, never past the deadline."""
    while True:
        result = attempt()
        if done(result):
            return result, True
        if (stop is not None and stop(result)) or deadline.passed():
            return result, False
        time.sleep(min(max(interval, 0.0), deadline.left()))


class IdmClient:
    """The REST API of one IDM node at ``base_url`` (scheme, host and port, no path)."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        validate_certs: bool = True,
        ca_path: str | None = None,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") or base_url
        self.credentials = credentials or Credentials.anonymous()
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.extra_headers = dict(headers or {})

    def url(self, path: str) -> str:
        """``base_url`` followed by ``path`` (``""``: ``base_url`` as it is)."""
        if not path:
            return self.base_url
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        credentials: Credentials | None = None,
    ) -> Reply:
        """One request; never raises for HTTP or connection trouble (see ``Reply.status``)."""
        url = self.url(path)
        who = credentials or self.credentials
        all_headers = {**NO_SESSION, **who.headers(), **self.extra_headers, **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            all_headers.setdefault("Content-Type", "application/json")
        try:
            with open_url(
                url,
                data=data,
                headers=all_headers,
                method=method,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                use_proxy=False,
                follow_redirects="none",
                use_netrc=False,
            ) as response:
                text = response.read().decode("utf-8", "replace")
                return Reply(method, url, response.status, text)
        except urllib.error.HTTPError as error:
            return Reply(method, url, error.code, _read(error))
        except (TimeoutError, OSError, ValueError, UrlConnectionError) as error:
            return Reply(method, url, NOT_CONNECTED, reason=_reason(error))

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs) -> Reply:
        """``send`` that raises ``IdmApiError`` unless the status is in ``expect``."""
        reply = self.send(method, path, **kwargs)
        if reply.status not in expect:
            raise IdmApiError(reply, hint(reply, kwargs.get("credentials") or self.credentials))
        return reply

    # The product's resources -------------------------------------------------------------------
    def cluster_instances(self) -> list[dict[str, Any]]:
        """``result`` of the cluster query: one mapping per instance the repository knows."""
        reply = self.call("GET", CLUSTER_QUERY)
        document = reply.json()
        result = document.get("result") if isinstance(document, dict) else None
        if not isinstance(result, list):
            raise IdmApiError(reply, "The cluster query answered without a result list.")
        return [item for item in result if isinstance(item, dict)]

    def cluster_instance(self, instance_id: str) -> dict[str, Any] | None:
        """One instance (``/openidm/cluster/<id>``), None when the cluster does not know it."""
        reply = self.call("GET", "/openidm/cluster/" + quote(instance_id, safe=""), (200, 404))
        document = reply.json()
        return document if reply.status == 200 and isinstance(document, dict) else None

    def activation(self) -> str:
        """This node's activation state (ACTIVE or STANDBY; active/passive clusters only)."""
        reply = self.call("GET", ACTIVATION)
        document = reply.json()
        state = document.get("state") if isinstance(document, dict) else None
        if state not in ACTIVATION_STATES:
            raise IdmApiError(reply, "The activation endpoint answered without a state.")
        return state

    def config(self, pid: str) -> dict[str, Any] | None:
        """A configuration object (``/openidm/config/<pid>``), None when IDM has none."""
        reply = self.call("GET", "/openidm/config/" + quote(pid, safe="/"), (200, 404))
        document = reply.json()
        if reply.status == 404:
            return None
        if not isinstance(document, dict):
            raise IdmApiError(reply, "The configuration endpoint answered without an object.")
        return document

    def put_config(self, pid: str, document: dict[str, Any]) -> Reply:
        """Create or replace a configuration object (IDM stores it in its repository). No
        If-Match header: IDM's documented PUT on a configuration object creates or replaces it."""
        return self.call(
            "PUT", "/openidm/config/" + quote(pid, safe="/"), (200, 201), body=document
        )

    def set_activation(self, state: str) -> Reply:
        return self.call("PUT", ACTIVATION, body={"state": state}, headers={"If-Match": "*"})

    def accepts(self, credentials: Credentials, path: str = CLUSTER_QUERY) -> Reply:
        """Try ``credentials`` on an admin resource; 200 means they work (401/403: they do not)."""
        return self.send("GET", path, credentials=credentials)


def _read(error: urllib.error.HTTPError) -> str:
    try:
        return error.read().decode("utf-8", "replace")
    except (OSError, AttributeError):
        return ""


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    return str(reason) or type(error).__name__


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every given secret replaced by ********."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def argument_spec() -> dict[str, dict[str, Any]]:
    """The options of the ``idm_automation.cluster.idm_api`` documentation fragment."""
    return {
        "url": {"type": "str", "required": True},
        "admin_user": {"type": "str", "default": DEFAULT_ADMIN_USER},
        "admin_password": {"type": "str", "required": True, "no_log": True},
        "auth_headers": {"type": "bool", "default": False},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "request_timeout": {"type": "float", "default": 10.0},
    }


def client(params: dict[str, Any], password: str | None = None) -> IdmClient:
    """A client for the module parameters of ``argument_spec``, as the admin user (with
    ``password`` instead of ``admin_password`` when given)."""
    credentials = Credentials(
        params["admin_user"],
        params["admin_password"] if password is None else password,
        basic=not params["auth_headers"],
    )
    return IdmClient(
        params["url"],
        credentials,
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        timeout=params["request_timeout"],
    )
