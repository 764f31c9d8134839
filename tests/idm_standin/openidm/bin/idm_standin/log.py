"""Logging of the IDM stand-in (test double).

PingIDM 8 logs through logback and reads ``conf/logback.xml`` of the project (the environment
variable ``LOGGING_CONFIG`` names another file); before 8.0 it used java.util.logging and
``conf/logging.properties``, which 8.x no longer reads. The stand-in reads the part of
``logback.xml`` a deployment sets: the root level, the appenders the root refers to
(``ConsoleAppender`` to stderr; ``FileAppender`` / ``RollingFileAppender`` to their ``<file>``), and
for a rolling file a ``FixedWindowRollingPolicy`` (``fileNamePattern`` with ``%i``, ``minIndex``,
``maxIndex``) triggered by a ``SizeBasedTriggeringPolicy`` (``maxFileSize``). ``${name}`` and
``${name:-default}`` are replaced from the ``-D`` options of ``OPENIDM_OPTS``, the launcher's
built-ins (``idm.data.dir`` ...) and the environment, like logback does with system properties; an
undefined name becomes ``name_IS_UNDEFINED``, as in logback. A relative file is under the working
location (``idm.data.dir``). Time-based rolling policies are not modelled: their ``<file>`` is
written without rolling. No configuration file, or one that does not parse: stderr only.

Every line carries the tag ``idm-standin`` and the node ID, so a log of a deployment shows at a
glance that it came from the test double and from which node. Secrets are never passed to the
logger.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

LOGGER = logging.getLogger("idm_standin")
_node = {"id": "-"}

# logback's levels and Python's numbers for them (TRACE below DEBUG).
TRACE = 5
logging.addLevelName(TRACE, "TRACE")
LEVELS = {"ALL": 1, "TRACE": TRACE, "DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40, "OFF": 100}
MAX_WINDOW = 20  # logback's FixedWindowRollingPolicy keeps at most 20 files beyond minIndex
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024  # logback's SizeBasedTriggeringPolicy default, 10 MB
_SIZE = re.compile(r"^\s*([0-9]+)\s*(kb|mb|gb)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
Vars = Mapping[str, str]
_VAR = re.compile(r"\$\{([^}:]+)(?::-([^}]*))?\}")


def set_node_id(node_id: str) -> None:
    _node["id"] = node_id or "-"


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        message = record.getMessage().replace("\n", " | ")
        if record.exc_info:
            message += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        level = "WARN" if record.levelname == "WARNING" else record.levelname
        return f"{stamp}.{millis:03d}Z {level:<7} [idm-standin node={_node['id']}] {message}"


@dataclass(frozen=True)
class FileTarget:
    """One file appender: the active file and, when it rolls, its window of older files."""

    path: Path
    append: bool = True
    archive_pattern: str = ""  # with %i; empty: the file never rolls
    min_index: int = 1
    max_index: int = 7
    max_bytes: int = DEFAULT_MAX_FILE_SIZE
    threshold: int = 0  # the appender's ThresholdFilter level

    def archive(self, index: int) -> Path:
        return Path(self.archive_pattern.replace("%i", str(index)))


@dataclass(frozen=True)
class LogConfig:
    level: int
    console: bool
    files: tuple[FileTarget, ...]
    problem: str = ""  # why the file could not be used (then: stderr only)
    console_threshold: int = 0


def parse_size(text: str) -> int:
    """logback's FileSize: a number of bytes, or with a KB/MB/GB suffix (any case)."""
    match = _SIZE.match(text or "")
    if not match:
        raise ValueError(f"cannot parse the file size {text!r}")
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower() or None]


def substitute(text: str, variables: Mapping[str, str]) -> str:
    def one(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            return variables[name]
        return default if default is not None else f"{name}_IS_UNDEFINED"

    return _VAR.sub(one, text)


def _text(element: ET.Element | None, tag: str, variables: Mapping[str, str]) -> str | None:
    child = element.find(tag) if element is not None else None
    if child is None or child.text is None:
        return None
    return substitute(child.text.strip(), variables)


def _short(class_name: str | None) -> str:
    return (class_name or "").rsplit(".", 1)[-1]


def _absolute(value: str, base: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else base / path


def _threshold(appender: ET.Element, variables: Mapping[str, str]) -> int:
    """The level of the appender's ThresholdFilter (events below it are denied), else 0."""
    for item in appender.findall("filter"):
        if _short(item.get("class")) == "ThresholdFilter":
            return LEVELS.get((_text(item, "level", variables) or "").upper(), 0)
    return 0


def _file_target(appender: ET.Element, variables: Vars, base: Path) -> FileTarget | None:
    file_value = _text(appender, "file", variables)
    if not file_value:
        return None
    target = _rolling(appender, variables, base, file_value)
    return replace(target, threshold=_threshold(appender, variables))


def _rolling(appender: ET.Element, variables: Vars, base: Path, file_value: str) -> FileTarget:
    append = (_text(appender, "append", variables) or "true").lower() != "false"
    path = _absolute(file_value, base)
    policy = appender.find("rollingPolicy")
    trigger = appender.find("triggeringPolicy")
    if _short(appender.get("class")) != "RollingFileAppender" or policy is None:
        return FileTarget(path, append)
    if _short(policy.get("class")) != "FixedWindowRollingPolicy":
        return FileTarget(path, append)  # time-based policies: not modelled, no rolling
    pattern = _text(policy, "fileNamePattern", variables) or ""
    if "%i" not in pattern:
        return FileTarget(path, append)  # logback refuses the policy; the file does not roll
    min_index = int(_text(policy, "minIndex", variables) or 1)
    max_index = int(_text(policy, "maxIndex", variables) or 7)
    max_index = max(min_index, min(max_index, min_index + MAX_WINDOW))
    max_bytes = DEFAULT_MAX_FILE_SIZE
    if trigger is not None and _short(trigger.get("class")) == "SizeBasedTriggeringPolicy":
        size = _text(trigger, "maxFileSize", variables)
        max_bytes = parse_size(size) if size else DEFAULT_MAX_FILE_SIZE
    return FileTarget(path, append, str(_absolute(pattern, base)), min_index, max_index, max_bytes)


def parse_config(text: str, variables: Mapping[str, str], base: Path) -> LogConfig:
    """What a ``logback.xml`` asks for: the root level and the root's console and file appenders."""
    root_element = ET.fromstring(text)
    appenders = {a.get("name"): a for a in root_element.iter("appender")}
    root = root_element.find("root")
    if root is None:
        return LogConfig(LEVELS["DEBUG"], False, ())  # logback's root defaults to DEBUG
    level = LEVELS.get(substitute(root.get("level", "DEBUG"), variables).upper(), LEVELS["DEBUG"])
    console, console_threshold, files = False, 0, []
    for ref in root.findall("appender-ref"):
        appender = appenders.get(ref.get("ref"))
        if appender is None:
            continue
        kind = _short(appender.get("class"))
        if kind == "ConsoleAppender":
            console, console_threshold = True, _threshold(appender, variables)
        elif kind in ("FileAppender", "RollingFileAppender"):
            target = _file_target(appender, variables, base)
            if target is not None:
                files.append(target)
    return LogConfig(level, console, tuple(files), console_threshold=console_threshold)


def load_config(conf_file: Path, variables: Mapping[str, str], base: Path) -> LogConfig:
    try:
        return parse_config(conf_file.read_text(encoding="utf-8"), variables, base)
    except FileNotFoundError:
        return LogConfig(LEVELS["INFO"], True, (), f"{conf_file} not found")
    except (OSError, ET.ParseError, ValueError) as exc:
        return LogConfig(LEVELS["INFO"], True, (), f"{conf_file} not usable: {exc}")


class WindowFileHandler(logging.Handler):
    """A file that rolls like logback's FixedWindowRollingPolicy + SizeBasedTriggeringPolicy: once
    the active file holds maxFileSize bytes, the oldest archive is deleted, the others move one
    index up, and the active file becomes minIndex."""

    def __init__(self, target: FileTarget):
        super().__init__()
        self.target = target
        target.path.parent.mkdir(parents=True, exist_ok=True)
        self.stream = open(target.path, "a" if target.append else "w", encoding="utf-8")  # noqa: SIM115

    def _rollover(self) -> None:
        self.stream.close()
        t = self.target
        t.archive(t.max_index).unlink(missing_ok=True)
        for index in range(t.max_index - 1, t.min_index - 1, -1):
            if t.archive(index).exists():
                os.replace(t.archive(index), t.archive(index + 1))
        t.archive(t.min_index).parent.mkdir(parents=True, exist_ok=True)
        os.replace(t.path, t.archive(t.min_index))
        self.stream = open(t.path, "w", encoding="utf-8")  # noqa: SIM115

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            if self.target.archive_pattern and self.stream.tell() >= self.target.max_bytes:
                self._rollover()
            self.stream.write(line)
            self.stream.flush()
        except Exception:  # a log line must never stop the node
            self.handleError(record)

    def close(self) -> None:
        try:
            self.stream.close()
        finally:
            super().close()


def setup(conf_file: Path, variables: Mapping[str, str], base: Path) -> list[Path]:
    """Configure LOGGER from ``conf_file`` (a logback.xml); return the active log files."""
    config = load_config(conf_file, variables, base)
    LOGGER.setLevel(config.level)
    LOGGER.propagate = False
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
        handler.close()
    formatter = _Formatter()
    # stderr always carries the start-up problems; the console appender decides the rest.
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(formatter)
    stream.setLevel(config.console_threshold if config.console else LEVELS["WARN"])
    LOGGER.addHandler(stream)
    if config.problem:
        LOGGER.warning("logging configuration %s; logging to stderr only", config.problem)
    active = []
    for target in config.files:
        try:
            handler = WindowFileHandler(target)
        except OSError as exc:
            LOGGER.warning("cannot write the log file %s (%s)", target.path, exc)
            continue
        handler.setFormatter(formatter)
        handler.setLevel(target.threshold)
        LOGGER.addHandler(handler)
        active.append(target.path)
    return active
