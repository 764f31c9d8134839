# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate rule: the certificate the TLS listeners serve is not about to expire.

Rule ``certificate-expiry`` (14); see ``registry``. It reads ``ctx.listeners`` (filled by
``ports``) and, per node, the ``certificate`` section (renewal threshold, who renews, days the
given file is valid) and the gathered fact ``certificate_days_left`` (days the served certificate
is valid; negative when expired). A node without the section is not described and not judged.
"""

from __future__ import annotations

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    WARNING,
    Context,
    section,
    valid_fields,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.values import (
    Check,
    is_int,
    is_non_negative_int,
    is_text,
)

SOURCES = ("generate", "files", "keystore")


def _is_source(value: object) -> bool:
    return is_text(value) and value in SOURCES


def _is_optional_int(value: object) -> bool:
    return value is None or is_int(value)


_CHECKS: tuple[Check, ...] = (
    ("renew_days", is_non_negative_int, "an integer of 0 or more"),
    ("source", _is_source, "one of generate, files, keystore"),
    ("file_days_left", _is_optional_int, "an integer or null"),
)
FIX_EXPIRY = (
    "put a new certificate and key for the public host name into idm_tls_cert_src and "
    "idm_tls_key_src (or lower idm_cert_renew_days), then run again"
)
FIX_KEYSTORE = (
    "give the cluster a keystore whose TLS listeners' alias holds a valid certificate "
    "(idm_keystore_src or the shared keystore), or let the run issue one "
    "(idm_tls_certificate_source generate or files)"
)


def validity(days: int) -> str:
    """``days`` (whole days until expiry) in words: "expired 3 days ago", "expires in 12 days"."""
    if days < 0:
        return f"expired {-days} day{'s' if days != -1 else ''} ago"
    return f"expires in {days} day{'s' if days != 1 else ''}"


def check_certificate_expiry(ctx: Context) -> None:
    """The given certificate file, and the certificate each node serves, outlive the threshold."""
    for host, node in ctx.nodes.items():
        if node.get("certificate") is None:
            continue  # not described
        cert = section(ctx, "certificate-expiry", host, node, "certificate")
        if cert is None:
            continue
        if not any(item.secure and item.enabled for item in ctx.listeners.get(host, ())):
            continue  # no TLS listener serves it
        live = ctx.fact(host, "certificate_days_left", "certificate-expiry", is_int, "an integer")
        valid = valid_fields(ctx, "certificate-expiry", host, "certificate", cert, _CHECKS)
        if len(valid) < len(_CHECKS):
            continue
        _verdict(ctx, host, valid, live)


def _verdict(ctx: Context, host: str, cert: dict[str, object], live: int | None) -> None:
    threshold = int(cert["renew_days"])  # type: ignore[call-overload]
    source = cert["source"]
    given = cert["file_days_left"]
    if source == "files" and given is not None and given < threshold:  # type: ignore[operator]
        ctx.problem(
            "certificate-expiry",
            host,
            f"the given certificate file (idm_tls_cert_src) {validity(given)} "  # type: ignore[arg-type]
            f"(renewal threshold idm_cert_renew_days {threshold}); the run does not renew it",
            FIX_EXPIRY,
        )
        return
    if live is None or live >= threshold:
        return
    served = f"the certificate it serves {validity(live)} (renewal threshold {threshold} days)"
    if source == "generate":
        ctx.problem("certificate-expiry", host, f"{served}; the run re-issues it",
                    "nothing, the run renews it", WARNING)  # fmt: skip
    elif source == "files":
        ctx.problem("certificate-expiry", host, f"{served}; the run installs the given file",
                    "nothing, the run installs the given certificate", WARNING)  # fmt: skip
    elif live < 0:
        ctx.problem("certificate-expiry", host, f"{served}, and the keystore is provided",
                    FIX_KEYSTORE)  # fmt: skip
    else:
        ctx.problem("certificate-expiry", host, f"{served}; the run cannot renew a keystore's own",
                    FIX_KEYSTORE, WARNING)  # fmt: skip
