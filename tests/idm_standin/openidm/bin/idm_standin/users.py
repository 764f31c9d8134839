"""Internal user passwords of the IDM stand-in (test double).

``openidm.internaluser.pwd`` holds either the plain value the DDL inserts (``openidm-admin``) or,
after a password change, a salted hash in IDM's ``$crypto`` JSON shape. Passwords are never
logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

ITERATIONS = 20000


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, ITERATIONS)
    return json.dumps(
        {
            "$crypto": {
                "type": "salted-hash",
                "value": {
                    "algorithm": "PBKDF2-SHA256",
                    "iterations": ITERATIONS,
                    "salt": base64.b64encode(salt).decode(),
                    "data": base64.b64encode(digest).decode(),
                },
            }
        },
        sort_keys=True,
    )


def verify_password(stored: str | None, password: str) -> bool:
    if stored is None or password is None:
        return False
    if stored.startswith("{"):
        try:
            value = json.loads(stored)["$crypto"]["value"]
            salt = base64.b64decode(value["salt"])
            expected = base64.b64decode(value["data"])
            iterations = int(value["iterations"])
        except (ValueError, KeyError, TypeError):
            return False
        actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
        return hmac.compare_digest(actual, expected)
    return hmac.compare_digest(stored.encode("utf-8"), password.encode("utf-8"))
