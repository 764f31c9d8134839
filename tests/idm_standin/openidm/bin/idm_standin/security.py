"""Keystore and truststore handling of the IDM stand-in (test double).

Like PingIDM, the stand-in resolves ``mainKeyStore`` and ``mainTrustStore`` from
``conf/secrets.json`` and generates missing stores on first start with random key material
(RSA 2048 and a self-signed certificate for ``openidm.host``), so that two nodes started
independently hold different keys. Deliberate difference: the stores are PKCS#12 files under the
IDM file names (``keystore.jceks``, ``truststore``); a real JCEKS/JKS file is refused with a clear
error. New files are created atomically and never replace a file another node created meanwhile.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import ipaddress
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from idm_standin import StandinError
from idm_standin.config import Paths
from idm_standin.log import LOGGER
from idm_standin.props import Properties, PropertyError, resolve

SECRETS_FILE = "secrets.json"


@dataclass(frozen=True)
class StoreConfig:
    name: str  # mainKeyStore / mainTrustStore
    path: Path
    password: str
    storetype: str


@dataclass
class KeyMaterial:
    keystore: StoreConfig
    truststore: StoreConfig
    entries: dict[str, tuple[object, x509.Certificate]]
    trusted: list[x509.Certificate]
    fingerprints: dict[str, str] = field(default_factory=dict)

    def key_entry(self, alias: str) -> tuple[object, x509.Certificate] | None:
        return self.entries.get(alias)

    def pem_for_alias(self, alias: str) -> tuple[bytes, bytes]:
        key, cert = self.entries[alias]
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return key_pem, cert.public_bytes(serialization.Encoding.PEM)

    def trusted_pem(self) -> str:
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in self.trusted)


def _store_config(doc: dict, name: str, paths: Paths) -> StoreConfig:
    stores = doc.get("stores")
    if not isinstance(stores, list):
        raise StandinError('conf/secrets.json has no "stores" list')
    for store in stores:
        if isinstance(store, dict) and store.get("name") == name:
            config = store.get("config") or {}
            file_name = str(config.get("file") or "").strip()
            if not file_name:
                raise StandinError(f"conf/secrets.json store {name} has no config.file")
            password = config.get("storePassword")
            if password is None or str(password) == "":
                raise StandinError(f"conf/secrets.json store {name} has no config.storePassword")
            password = str(password)
            if password.startswith(("OBF:", "CRYPT:")):
                raise StandinError(
                    f"conf/secrets.json store {name}: obfuscated (OBF:/CRYPT:) store passwords "
                    "are not supported by the IDM stand-in (test double); use the plain value"
                )
            path = Path(file_name)
            if not path.is_absolute():
                path = paths.install / path
            return StoreConfig(name, path, password, str(config.get("storetype") or ""))
    raise StandinError(
        f"conf/secrets.json defines no store named {name}; IDM needs mainKeyStore and "
        "mainTrustStore to start"
    )


def load_secrets_config(paths: Paths, props: Properties) -> tuple[StoreConfig, StoreConfig, bytes]:
    path = paths.conf / SECRETS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StandinError(f"{path} is missing; IDM needs it to start") from None
    except OSError as exc:
        raise StandinError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        doc = resolve(json.loads(raw), props, "conf/secrets.json")
    except json.JSONDecodeError as exc:
        raise StandinError(f"{path} is not valid JSON: {exc}") from exc
    except PropertyError as exc:
        raise StandinError(str(exc)) from exc
    if not isinstance(doc, dict):
        raise StandinError(f"{path} must hold a JSON object")
    keystore = _store_config(doc, "mainKeyStore", paths)
    truststore = _store_config(doc, "mainTrustStore", paths)
    return keystore, truststore, raw


def _host_name_entry(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def new_certificate(host: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A fresh RSA 2048 key with a self-signed certificate for ``host`` (CN and SAN)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([_host_name_entry(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _encryption(password: str) -> serialization.KeySerializationEncryption:
    return serialization.BestAvailableEncryption(password.encode("utf-8"))


def _create_exclusive(path: Path, data: bytes) -> bool:
    """Create ``path`` with ``data`` (mode 0600) unless it exists; True when this call created
    it. The content appears atomically, so a node reading a shared location never sees half a
    file, and a file another node created meanwhile is kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StandinError(f"cannot create {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            # A file system without hard links: fall back to an exclusive create.
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(out, "wb") as handle:
                handle.write(data)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _read_store(store: StoreConfig, what: str) -> tuple[bytes, object]:
    try:
        data = store.path.read_bytes()
    except OSError as exc:
        raise StandinError(
            f"cannot read the {what} {store.path} ({store.name} in conf/secrets.json): "
            f"{exc.strerror}"
        ) from exc
    try:
        parsed = pkcs12.load_pkcs12(data, store.password.encode("utf-8"))
    except ValueError:
        raise StandinError(
            f"cannot open the {what} {store.path} ({store.name} in conf/secrets.json): wrong "
            "storePassword, or not a PKCS#12 file (the IDM stand-in (test double) reads PKCS#12 "
            "stores only)"
        ) from None
    return data, parsed


def prepare(paths: Paths, props: Properties, host: str, default_alias: str) -> KeyMaterial:
    """Load mainKeyStore/mainTrustStore, generating the missing ones; compute fingerprints."""
    keystore, truststore, secrets_raw = load_secrets_config(paths, props)
    if not keystore.path.exists():
        key, cert = new_certificate(host)
        data = pkcs12.serialize_key_and_certificates(
            default_alias.encode("utf-8"), key, cert, None, _encryption(keystore.password)
        )
        if _create_exclusive(keystore.path, data):
            LOGGER.info(
                "generated a new keystore %s with random key material (alias %s, CN=%s)",
                keystore.path,
                default_alias,
                host,
            )
        else:
            LOGGER.info(
                "keystore %s was created meanwhile by another node; using it", keystore.path
            )
    ks_bytes, ks = _read_store(keystore, "keystore")
    entries: dict[str, tuple[object, x509.Certificate]] = {}
    if ks.key is not None and ks.cert is not None:
        alias = (ks.cert.friendly_name or b"").decode("utf-8", "replace")
        entries[alias] = (ks.key, ks.cert.certificate)
    if not truststore.path.exists():
        certs = [pkcs12.PKCS12Certificate(c, a.encode("utf-8")) for a, (_, c) in entries.items()]
        if not certs:
            raise StandinError(f"keystore {keystore.path} holds no key entry to trust")
        data = pkcs12.serialize_key_and_certificates(
            None, None, None, certs, _encryption(truststore.password)
        )
        if _create_exclusive(truststore.path, data):
            LOGGER.info("generated a new truststore %s", truststore.path)
        else:
            LOGGER.info(
                "truststore %s was created meanwhile by another node; using it", truststore.path
            )
    ts_bytes, ts = _read_store(truststore, "truststore")
    trusted = [c.certificate for c in ts.additional_certs]
    if ts.cert is not None:
        trusted.append(ts.cert.certificate)
    material = KeyMaterial(keystore, truststore, entries, trusted)
    material.fingerprints = {
        "keystore": hashlib.sha256(ks_bytes).hexdigest(),
        "truststore": hashlib.sha256(ts_bytes).hexdigest(),
        "secrets.json": hashlib.sha256(secrets_raw).hexdigest(),
    }
    return material


def certificate_names(cert: x509.Certificate) -> list[str]:
    """Subject CNs and SAN DNS names / IP addresses of a certificate, lower case."""
    names = [
        str(attr.value).lower() for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return names
    names += [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return list(dict.fromkeys(names))


def host_matches(host: str | None, names: list[str]) -> bool:
    """Whether a Host header value (port stripped) matches a certificate name; ``*.`` matches
    exactly one label."""
    if not host:
        return False
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.rstrip(".")
    if not host:
        return False
    for name in names:
        name = name.rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if first and rest == name[2:]:
                return True
    return False
