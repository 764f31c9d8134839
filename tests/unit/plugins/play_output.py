"""What a play of the ``ansible_playbook`` fixture (conftest.py) showed."""

from __future__ import annotations

import json
import subprocess
from typing import Any


def shown_result(done: subprocess.CompletedProcess) -> Any:
    """The JSON a passed play's debug task showed as ``msg: "RESULT=<json>"``."""
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if '"msg": "RESULT=' in x)
    return json.loads(json.loads("{" + line.strip().rstrip(",") + "}")["msg"][len("RESULT=") :])
