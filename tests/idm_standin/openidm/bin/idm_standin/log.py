"""Logging of the IDM stand-in (test double).

One line per event, written to ``<working dir>/logs/openidm0.log.0`` and to stderr. Every line
carries the tag ``idm-standin`` and the node ID, so a log of a deployment shows at a glance that
it came from the test double and from which node. Secrets are never passed to the logger.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

LOGGER = logging.getLogger("idm_standin")
_node = {"id": "-"}


def set_node_id(node_id: str) -> None:
    _node["id"] = node_id or "-"


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        message = record.getMessage().replace("\n", " | ")
        if record.exc_info:
            message += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return (
            f"{stamp}.{millis:03d}Z {record.levelname:<7} "
            f"[idm-standin node={_node['id']}] {message}"
        )


def setup(logs_dir: Path) -> Path | None:
    """Send log lines to stderr and to ``logs_dir/openidm0.log.0``; return the file path."""
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
    formatter = _Formatter()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(formatter)
    LOGGER.addHandler(stream)
    path = logs_dir / "openidm0.log.0"
    try:
        logs_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        LOGGER.warning("cannot write the log file %s (%s); logging to stderr only", path, exc)
        return None
    file_handler.setFormatter(formatter)
    LOGGER.addHandler(file_handler)
    return path
