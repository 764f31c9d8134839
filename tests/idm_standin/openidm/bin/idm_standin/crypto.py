"""Encryption of configuration values by the IDM stand-in (test double).

PingIDM encrypts configuration properties marked secret (the datasource ``password`` among them)
with a key of its keystore and stores them in the ``{"$crypto": ...}`` JSON shape. The stand-in
does the same with AES-256-GCM and a fresh random IV per value, so two encryptions of one value
never give the same text; the AES key is derived from the keystore's private key, so only a node
holding the same keystore can decrypt what another node encrypted.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idm_standin import StandinError

CRYPTO_TYPE = "x-simple-encryption"
CIPHER = "AES/GCM/NoPadding"
_INFO = b"idm-standin-config"


class CryptoError(StandinError):
    """A value cannot be decrypted (wrong key, damaged or foreign value)."""


def key_from_private_key(private_key: Any) -> bytes:
    """The 32-byte AES key of a keystore private key (HKDF-SHA256 over its DER encoding)."""
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(der)


def encrypt(plaintext: str, key: bytes, alias: str) -> dict:
    """``{"$crypto": {...}}`` holding ``plaintext`` encrypted with ``key`` (random IV)."""
    iv = os.urandom(12)
    data = AESGCM(key).encrypt(iv, plaintext.encode("utf-8"), None)
    return {
        "$crypto": {
            "type": CRYPTO_TYPE,
            "value": {
                "cipher": CIPHER,
                "iv": base64.b64encode(iv).decode("ascii"),
                "data": base64.b64encode(data).decode("ascii"),
                "key": alias,
            },
        }
    }


def is_encrypted(value: Any) -> bool:
    """Whether ``value`` is an encrypted value in the ``$crypto`` shape of :func:`encrypt`."""
    if not isinstance(value, dict) or set(value) != {"$crypto"}:
        return False
    crypto = value["$crypto"]
    return (
        isinstance(crypto, dict)
        and crypto.get("type") == CRYPTO_TYPE
        and isinstance(crypto.get("value"), dict)
    )


def decrypt(obj: dict, key: bytes) -> str:
    """The plaintext of an encrypted value; :class:`CryptoError` when it cannot be decrypted."""
    if not is_encrypted(obj):
        raise CryptoError("not an encrypted value of type " + CRYPTO_TYPE)
    value = obj["$crypto"]["value"]
    if value.get("cipher") != CIPHER:
        raise CryptoError(f"unsupported cipher {value.get('cipher')!r}")
    try:
        iv = base64.b64decode(str(value["iv"]), validate=True)
        data = base64.b64decode(str(value["data"]), validate=True)
        return AESGCM(key).decrypt(iv, data, None).decode("utf-8")
    except (KeyError, ValueError, InvalidTag, UnicodeDecodeError):
        raise CryptoError(
            f"cannot decrypt a value encrypted with key {value.get('key')!r}: it was encrypted "
            "with another keystore, or it is damaged"
        ) from None
