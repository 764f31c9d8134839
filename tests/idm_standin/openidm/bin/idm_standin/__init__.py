"""IDM stand-in (test double) of PingIDM 8.1.

Not PingIDM: a small Python server that behaves like PingIDM 8.1 where the Ansible collection
``idm_automation.cluster`` touches it (layout, boot properties, conf files, PostgreSQL repository,
cluster manager, schedules, listeners, REST endpoints) and fails where PingIDM fails. Tests deploy
it because the real distribution cannot be downloaded in the test environment.
"""

PRODUCT_VERSION = "8.1.0"
PRODUCT_NAME = "IDM stand-in (test double)"


class StandinError(Exception):
    """A fatal start-up problem; the message is what the operator reads in the log."""
