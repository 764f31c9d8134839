"""Stand-in options for the uncertain rows of the product contract (``standin.variant.<row>``).

Where the evidence does not settle how PingIDM 8.1 behaves, the stand-in has both variants; the
scenarios run the stricter one and the tests show the collection works under both.

- ``standin.variant.c9``: ``state`` (default) or ``recovery``, see ``cluster.api_view``.
- ``standin.variant.c11``: a build option (``build --variant c11=literals``), see the README.
- ``standin.variant.c12``: ``lenient`` (default: a key missing from ``resolver/boot.properties``
  falls back to its built-in default) or ``strict`` (start-up fails when a key the distribution
  ships in ``resolver/boot.properties`` is missing from the boot properties in use).
- ``standin.variant.c16``: ``lenient`` (default: no Java needed, it is a Python test double) or
  ``strict`` (start-up fails unless ``java -version`` reports Java 17 or 21).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from idm_standin import StandinError
from idm_standin.config import _read_properties_file
from idm_standin.props import Properties

# Keys of the shipped resolver/boot.properties a strict node insists on (contract row C12).
SHIPPED_KEYS = (
    "openidm.port.http",
    "openidm.port.https",
    "openidm.port.mutualauth",
    "openidm.host",
    "openidm.auth.clientauthonlyports",
    "openidm.servlet.alias",
    "openidm.https.keystore.cert.alias",
    "openidm.config.crypto.alias",
    "openidm.keystore.type",
    "openidm.truststore.type",
)
JAVA_VERSIONS = (17, 21)


def _choice(props: Properties, row: str, allowed: tuple[str, ...]) -> str:
    key = f"standin.variant.{row}"
    value = (props.get(key) or allowed[0]).strip().lower()
    if value not in allowed:
        raise StandinError(f"{key}={value}: expected one of {', '.join(allowed)}")
    return value


def c9(props: Properties) -> str:
    return _choice(props, "c9", ("state", "recovery"))


def check_boot_keys(props: Properties, boot_file: Path) -> None:
    """Strict C12: every shipped key must be in the boot properties file in use."""
    if _choice(props, "c12", ("lenient", "strict")) != "strict":
        return
    present = _read_properties_file(boot_file, required=True)
    missing = [key for key in SHIPPED_KEYS if key not in present]
    if missing:
        raise StandinError(
            f"{boot_file} lacks key(s) the distribution ships in resolver/boot.properties: "
            + ", ".join(missing)
            + " (standin.variant.c12=strict); keep the shipped keys when you change the file"
        )


def java_major(text: str) -> int | None:
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java(props: Properties) -> None:
    """Strict C16: a Java runtime 17 or 21 must be on the PATH."""
    if _choice(props, "c16", ("lenient", "strict")) != "strict":
        return
    try:
        result = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except FileNotFoundError:
        raise StandinError(
            "no java on the PATH: PingIDM 8.1 needs Java 17 or 21 (standin.variant.c16=strict)"
        ) from None
    except subprocess.TimeoutExpired:
        raise StandinError("java -version did not answer within 20 s") from None
    major = java_major(result.stderr + result.stdout)
    if major not in JAVA_VERSIONS:
        raise StandinError(
            f"java -version reports {'Java ' + str(major) if major else 'no version'}: PingIDM 8.1 "
            "needs Java 17 or 21 (standin.variant.c16=strict)"
        )
