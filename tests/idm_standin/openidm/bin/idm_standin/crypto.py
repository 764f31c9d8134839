"""Encrypted configuration values of the IDM stand-in (test double).

PingIDM stores secret configuration properties as ``{"$crypto": {"type": "x-simple-encryption",
"value": {...}}}``, encrypted with a key of its keystore. The stand-in models the consequence
that matters to a cluster: a value encrypted by one node can be decrypted only by a node whose
keystore holds the same key material. The AES key is derived from the keystore's private key
(HKDF-SHA256 over its DER form), so two independently generated keystores give different keys.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CIPHER = "AES/GCM/NoPadding"
TYPE = "x-simple-encryption"
_INFO = b"idm-standin-config"


class CryptoError(Exception):
    """A value cannot be decrypted (other key material, or not a valid encrypted value)."""


def key_from_private_key(private_key: Any) -> bytes:
    """A 32-byte AES key derived from a private key (HKDF-SHA256 over its PKCS#8 DER)."""
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(der)


def encrypt(plaintext: str, key: bytes, alias: str) -> dict[str, Any]:
    """Encrypt ``plaintext`` with a random IV, in PingIDM's ``$crypto`` form."""
    iv = os.urandom(12)
    data = AESGCM(key).encrypt(iv, plaintext.encode("utf-8"), None)
    return {
        "$crypto": {
            "type": TYPE,
            "value": {
                "cipher": CIPHER,
                "iv": base64.b64encode(iv).decode("ascii"),
                "data": base64.b64encode(data).decode("ascii"),
                "key": alias,
            },
        }
    }


def is_encrypted(value: Any) -> bool:
    """Whether ``value`` is a ``{"$crypto": ...}`` object."""
    return isinstance(value, dict) and isinstance(value.get("$crypto"), dict)


def decrypt(obj: dict[str, Any], key: bytes) -> str:
    """Decrypt a ``$crypto`` object; ``CryptoError`` when it cannot be done with ``key``."""
    if not is_encrypted(obj):
        raise CryptoError("not an encrypted value")
    crypto = obj["$crypto"]
    value = crypto.get("value") if isinstance(crypto.get("value"), dict) else {}
    if crypto.get("type") != TYPE or value.get("cipher") != CIPHER:
        raise CryptoError(f"unsupported encryption {crypto.get('type')}/{value.get('cipher')}")
    try:
        iv = base64.b64decode(str(value["iv"]), validate=True)
        data = base64.b64decode(str(value["data"]), validate=True)
    except (KeyError, ValueError):
        raise CryptoError("malformed encrypted value") from None
    try:
        return AESGCM(key).decrypt(iv, data, None).decode("utf-8")
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise CryptoError(
            f"cannot decrypt a value encrypted with key {value.get('key')!r}: this node's "
            "keystore holds other key material"
        ) from None
