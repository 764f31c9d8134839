"""Property resolution of the IDM stand-in (test double).

Models how PingIDM resolves its configuration: Java ``.properties`` files
(``resolver/boot.properties``, ``conf/system.properties``), ``-Dkey=value`` options in
``OPENIDM_OPTS``, and ``&{key}`` / ``&{key|default}`` expressions (defaults may nest) inside
``conf/*.json``, including the typed wrappers ``{"$bool": ...}``, ``{"$int": ...}`` and
``{"$number": ...}``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any


class PropertyError(Exception):
    """A property expression cannot be resolved or converted."""


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _logical_lines(text: str):
    """Yield logical lines of a Java properties file (continuations joined)."""
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        # A line ending in an odd number of backslashes continues on the next line.
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending += line[:-1]
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending


def _unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and i + 6 <= len(text):
                try:
                    out.append(chr(int(text[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_properties(text: str) -> dict[str, str]:
    """Parse the subset of the Java properties format that IDM's files use."""
    result: dict[str, str] = {}
    for line in _logical_lines(text):
        key_end = len(line)
        i = 0
        while i < len(line):
            ch = line[i]
            if ch == "\\":
                i += 2
                continue
            if ch in "=: \t":
                key_end = i
                break
            i += 1
        key = line[:key_end]
        rest = line[key_end:].lstrip(" \t")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t")
        result[_unescape(key)] = _unescape(rest)
    return result


def parse_opts(opts: str) -> dict[str, str]:
    """Return the ``-Dkey=value`` system properties of an ``OPENIDM_OPTS`` string."""
    result: dict[str, str] = {}
    try:
        tokens = shlex.split(opts or "")
    except ValueError as exc:
        raise PropertyError(f"cannot parse OPENIDM_OPTS: {exc}") from exc
    for token in tokens:
        if token.startswith("-D") and len(token) > 2:
            key, _, value = token[2:].partition("=")
            result[key] = value
    return result


def has_heap_options(opts: str) -> bool:
    """True when OPENIDM_OPTS carries both JVM heap options, as the vendor requires."""
    tokens = shlex.split(opts or "")
    return any(t.startswith("-Xmx") for t in tokens) and any(t.startswith("-Xms") for t in tokens)


class Properties:
    """Layered property lookup: the first layer that defines a key wins."""

    def __init__(self, layers: Sequence[Mapping[str, str]]):
        self._layers = list(layers)

    def raw(self, key: str) -> str | None:
        for layer in self._layers:
            if key in layer:
                return layer[key]
        return None

    def get(self, key: str, default: str | None = None, where: str = "properties") -> str | None:
        """Return the value of ``key`` with its own expressions resolved, or ``default``."""
        value = self.raw(key)
        if value is None:
            return default
        return self.substitute(value, where, _stack=(key,))

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None or value.strip() == "":
            return default
        return to_bool(value, key)

    def get_float(self, key: str, default: float) -> float:
        value = self.get(key)
        if value is None or value.strip() == "":
            return default
        try:
            return float(value)
        except ValueError as exc:
            raise PropertyError(f"property {key}={value!r} is not a number") from exc

    def substitute(self, text: str, where: str, _stack: tuple[str, ...] = ()) -> str:
        """Replace every ``&{key}`` / ``&{key|default}`` in ``text``."""
        out = []
        i = 0
        while True:
            start = text.find("&{", i)
            if start < 0:
                out.append(text[i:])
                return "".join(out)
            out.append(text[i:start])
            end, key_expr, default_expr = _split_expression(text, start, where)
            key = self.substitute(key_expr, where, _stack).strip()
            if key in _stack:
                raise PropertyError(f"property {key} refers to itself (in {where})")
            value = self.raw(key)
            if value is not None:
                out.append(self.substitute(value, where, (*_stack, key)))
            elif default_expr is not None:
                out.append(self.substitute(default_expr, where, _stack))
            else:
                raise PropertyError(
                    f"property {key} is not set (used in {where}); set it in "
                    "resolver/boot.properties or as -D" + key + "=... in OPENIDM_OPTS"
                )
            i = end


def _split_expression(text: str, start: int, where: str) -> tuple[int, str, str | None]:
    """Parse ``&{key|default}`` at ``start``; return (end index, key, default or None)."""
    depth = 0
    i = start
    bar = -1
    while i < len(text):
        if text.startswith("&{", i):
            depth += 1
            i += 2
            continue
        ch = text[i]
        if ch == "|" and depth == 1 and bar < 0:
            bar = i
        elif ch == "}":
            depth -= 1
            if depth == 0:
                body_start = start + 2
                if bar < 0:
                    return i + 1, text[body_start:i], None
                return i + 1, text[body_start:bar], text[bar + 1 : i]
        i += 1
    raise PropertyError(f"unterminated &{{ expression in {where}: {text!r}")


def to_bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    raise PropertyError(f"{what}: {value!r} is not a boolean (true/false)")


def to_int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise PropertyError(f"{what}: {value!r} is not an integer")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise PropertyError(f"{what}: {value!r} is not an integer") from exc


def resolve(value: Any, props: Properties, where: str) -> Any:
    """Resolve expressions and typed wrappers throughout a JSON document."""
    if isinstance(value, str):
        return props.substitute(value, where)
    if isinstance(value, list):
        return [resolve(v, props, where) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag in ("$bool", "$int", "$number"):
                resolved = resolve(inner, props, where)
                if tag == "$bool":
                    return to_bool(resolved, f"{where} ($bool)")
                if tag == "$int":
                    return to_int(resolved, f"{where} ($int)")
                try:
                    return float(resolved)
                except (TypeError, ValueError) as exc:
                    raise PropertyError(f"{where} ($number): {resolved!r} is not a number") from exc
        return {k: resolve(v, props, where) for k, v in value.items()}
    return value
