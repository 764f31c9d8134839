# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets rule: one secrets mode, one keystore, truststore and secrets.json for the cluster.

Rule ``one-keystore`` (4); see ``registry``. The majority logic is shared with the
``secrets_source`` filter through ``common``, so a preflight that passes here never makes that
filter fail on the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    SECRET_FILE_FACTS,
    describe_groups,
    group_secrets,
    key_holders,
    name_list,
    strict_majority,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    WARNING,
    Context,
    disagreement,
    section,
    valid_fields,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.values import (
    Check,
    is_optional_text,
    is_text,
    show,
)

SECRETS_MODES = ("bootstrap", "provided", "shared")
SECRETS_PATHS = {
    "provided": ("keystore_src", "truststore_src"),
    "shared": ("keystore_location", "truststore_location"),
}
SECRET_FILE_NAMES = dict(
    zip(SECRET_FILE_FACTS, ("keystore", "truststore", "secrets.json"), strict=True)
)
FIX_SECRETS = (
    "use one secrets mode for the whole cluster group, with the same keystore and truststore "
    "sources (provided) or locations (shared) on every node"
)


def _mode_ok(value: object) -> bool:
    return value in SECRETS_MODES


def check_one_keystore(ctx: Context) -> None:
    """One secrets mode and its paths everywhere; live files agree (a majority repairs drift)."""
    modes: dict[str, str] = {}
    paths: dict[str, dict[str, tuple[object, ...]]] = {"provided": {}, "shared": {}}
    mode_check: Check = ("mode", _mode_ok, "one of " + ", ".join(SECRETS_MODES))
    for host, node in ctx.nodes.items():
        secrets = section(ctx, "one-keystore", host, node, "secrets")
        if secrets is None:
            continue
        mode = valid_fields(ctx, "one-keystore", host, "secrets", secrets, (mode_check,))
        if not mode:
            continue
        modes[host] = str(mode["mode"])
        if mode["mode"] in SECRETS_PATHS:
            _secrets_paths(ctx, host, secrets, str(mode["mode"]), paths)
    disagreement(ctx, "one-keystore", "the secrets mode", modes, str, FIX_SECRETS)
    for mode, values in paths.items():
        what = f"the {' and '.join(SECRETS_PATHS[mode])} of {mode} mode"
        disagreement(ctx, "one-keystore", what, values, _show_all, FIX_SECRETS)
    if _secrets_drift(ctx) and "bootstrap" in modes.values():
        _limited_initialise(ctx)


FIX_LIMIT = (
    "run without --limit, or include a node that holds the cluster's keystore in the limit, so "
    "that the limited nodes receive its files instead of new ones"
)


def _secrets_paths(
    ctx: Context,
    host: str,
    secrets: Mapping[str, object],
    mode: str,
    paths: dict[str, dict[str, tuple[object, ...]]],
) -> None:
    checks: list[Check] = [(key, is_text, "a non-empty string") for key in SECRETS_PATHS[mode]]
    if mode == "provided":
        checks.append(("secrets_json_src", is_optional_text, "a non-empty string or null"))
    valid = valid_fields(ctx, "one-keystore", host, "secrets", secrets, checks)
    if len(valid) == len(checks):
        paths[mode][host] = tuple(valid[key] for key, _ok, _text in checks)


def _show_all(values: tuple[object, ...]) -> str:
    return ", ".join(show(value) for value in values)


def _limited_initialise(ctx: Context) -> None:
    """A limited run whose nodes hold no keystore would create new keys while others hold some."""
    if not ctx.nodes or key_holders(ctx.facts, ctx.nodes):
        return
    outside = key_holders(ctx.facts, ctx.outside)
    if outside:
        message = (
            f"no node of this limited run ({name_list(ctx.nodes)}) holds a keystore, so the "
            f"bootstrap node would create new key material while {name_list(outside)} (outside "
            "--limit) hold the cluster's keystore"
        )
        ctx.add("one-keystore", [*ctx.nodes, *outside], message, FIX_LIMIT)


def _secrets_drift(ctx: Context) -> bool:
    """Judge the keystore holders of the whole cluster group; False when an error was reported."""
    judged = [host for host in [*ctx.nodes, *ctx.outside] if _secret_facts_typed(ctx, host)]
    groups = group_secrets(ctx.facts, judged)
    if len(groups) < 2:
        return True
    winner = strict_majority(groups)
    if winner is None:
        message = (
            "the nodes hold different keystore/truststore/secrets.json files and no set is held by "
            f"a strict majority: {describe_groups(groups.values())}"
        )
        fix = (
            "choose the authoritative node, copy its security/keystore.jceks, security/truststore "
            "and conf/secrets.json to the other nodes, then run again (copying automatically "
            "could destroy the keys that encrypt data in the repository)"
        )
        ctx.add("one-keystore", [h for group in groups.values() for h in group], message, fix)
        return False
    odd = [host for sig, group in groups.items() if sig != winner for host in group]
    files = sorted(
        {name for sig in groups if sig != winner for name, a, b in _pairs(sig, winner) if a != b}
    )
    what = f"{name_list(odd)} hold(s) a different {' and '.join(files)} than the majority of "
    what += f"nodes ({name_list(groups[winner])})"
    if not [host for host in groups[winner] if host in ctx.nodes]:
        message = f"{what}, which are all outside --limit: this run cannot copy their files"
        ctx.add("one-keystore", odd, message, FIX_LIMIT)
        return False
    members = [host for host in odd if host in ctx.nodes and ctx.facts[host].get("member") is True]
    if members and ctx.raw.get("secrets_overwrite_allowed") is not True:
        message = (
            f"{what}; {name_list(members)} ran as cluster member(s) with their own files, and "
            "replacing them would make whatever they encrypted unreadable"
        )
        fix = (
            "keep the files you want: make the nodes agree by hand, or set "
            "idm_secrets_overwrite_allowed: true to let the run replace them (it keeps a "
            "timestamped copy of every replaced file beside it)"
        )
        ctx.add("one-keystore", members, message, fix)
        return False
    message = f"{what}; the run copies the majority's files to them (keeping a timestamped copy)"
    fix = "nothing, unless the odd nodes hold the files you want to keep (then make them agree)"
    ctx.add("one-keystore", odd, message, fix, WARNING)
    return True


def _secret_facts_typed(ctx: Context, host: str) -> bool:
    """Report ill-typed checksum facts; False if there was one (the host is then not judged)."""
    entry = ctx.facts.get(host, {})
    typed = True
    for key in SECRET_FILE_FACTS:
        if (
            entry.get(key) is not None
            and ctx.fact(host, key, "one-keystore", is_text, "a sha256 string") is None
        ):
            typed = False
    return typed


def _pairs(signature: tuple, winner: tuple) -> Iterable[tuple[str, object, object]]:
    names = (SECRET_FILE_NAMES[key] for key in SECRET_FILE_FACTS)
    return zip(names, signature, winner, strict=True)
