"""IDM stand-in (test double) of PingIDM 8.1 (and of 8.0, built with ``--version 8.0.0``).

Not PingIDM: a small Python server that behaves like PingIDM 8.1 where the Ansible collection
``idm_automation.cluster`` touches it (layout, boot properties, conf files, PostgreSQL repository,
cluster manager, schedules, listeners, REST endpoints) and fails where PingIDM fails. Tests deploy
it because the real distribution cannot be downloaded in the test environment.

The product version comes from the file ``VERSION`` beside this module, which the build writes
(``tests/idm_standin/build --version V``); without it (the source tree) the version is 8.1.0.
"""

from pathlib import Path

DEFAULT_VERSION = "8.1.0"
PRODUCT_NAME = "IDM stand-in (test double)"


def _product_version() -> str:
    path = Path(__file__).with_name("VERSION")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return DEFAULT_VERSION
    parts = text.split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"{path} holds {text!r}, not a version like {DEFAULT_VERSION}")
    return text


PRODUCT_VERSION = _product_version()
PRODUCT_VERSION_INFO = tuple(int(part) for part in PRODUCT_VERSION.split("."))
# The test double's invented schema change of 8.1 (README.md, "Versions"): the column
# openidm.clusterobjects.activation, written by every check-in from 8.1.0 on.
CLUSTER_ACTIVATION_COLUMN = PRODUCT_VERSION_INFO >= (8, 1, 0)


class StandinError(Exception):
    """A fatal start-up problem; the message is what the operator reads in the log."""
