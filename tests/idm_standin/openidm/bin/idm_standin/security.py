"""Keystore and truststore handling of the IDM stand-in (test double).

Like PingIDM, the stand-in resolves ``mainKeyStore`` and ``mainTrustStore`` from
``conf/secrets.json`` and generates missing stores on first start with random key material
(RSA 2048 and a self-signed certificate with subject ``CN=localhost``, whatever ``openidm.host``
says, under the listeners' default alias ``openidm-localhost``), so that two nodes started
independently hold different keys. Deliberate difference: the stores are PKCS#12 files under the
IDM file names (``keystore.jceks``, ``truststore``); a real JCEKS/JKS file is refused with a clear
error. A keystore may hold several key entries (for example a certificate imported with keytool
under the listeners' ``sslCertAlias``); each is found by its alias (PKCS#12 friendly name). New
files are created atomically and never replace a file another node created meanwhile.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import tempfile
from dataclasses import dataclass
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
# Subject of the certificate IDM generates on first start (DefaultKeyStoreInitializer): always
# localhost, not openidm.host, so a load balancer's public name does not match it.
GENERATED_CN = "localhost"


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

    def key_entry(self, alias: str) -> tuple[object, x509.Certificate] | None:
        """The entry of ``alias``; like Java's PKCS12 keystore, aliases ignore case."""
        if alias in self.entries:
            return self.entries[alias]
        for name, entry in self.entries.items():
            if name.lower() == alias.lower():
                return entry
        return None

    def pem_for_alias(self, alias: str) -> tuple[bytes, bytes]:
        entry = self.key_entry(alias)
        if entry is None:
            raise KeyError(alias)
        key, cert = entry
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


def new_keystore(aliases: list[str], password: str) -> bytes:
    """A PKCS#12 keystore with one new random key entry (CN=localhost) under each alias."""
    singles = []
    for alias in aliases:
        key, cert = new_certificate(GENERATED_CN)
        singles.append(
            pkcs12.serialize_key_and_certificates(
                alias.encode("utf-8"), key, cert, None, _encryption(password)
            )
        )
    if len(singles) == 1:
        return singles[0]
    key_infos: list[bytes] = []
    cert_infos: list[bytes] = []
    for data in singles:
        split = _split_key_bags(data)
        if split is None:
            raise StandinError("cannot lay out a keystore with several entries")
        infos, keys = split
        key_infos.extend(_data_info(bag) for bag, _name in keys)
        cert_infos.extend(infos)
    return _pfx(key_infos + cert_infos, password)


def prepare(
    paths: Paths, props: Properties, default_alias: str, config_alias: str | None = None
) -> KeyMaterial:
    """Load mainKeyStore/mainTrustStore, generating the missing ones.

    A generated keystore holds the listeners' entry (``default_alias``) and, like IDM's, a
    separate entry for configuration encryption (``config_alias``, openidm-sym-default), so
    that replacing the TLS certificate does not change the key configuration is encrypted with.
    """
    keystore, truststore, _secrets_raw = load_secrets_config(paths, props)
    host = GENERATED_CN
    if not keystore.path.exists():
        aliases = [default_alias] + (
            [config_alias] if config_alias and config_alias != default_alias else []
        )
        data = new_keystore(aliases, keystore.password)
        if _create_exclusive(keystore.path, data):
            LOGGER.info(
                "generated a new keystore %s with random key material (aliases %s, CN=%s)",
                keystore.path,
                ", ".join(aliases),
                host,
            )
        else:
            LOGGER.info(
                "keystore %s was created meanwhile by another node; using it", keystore.path
            )
    ks_bytes, ks = _read_store(keystore, "keystore")
    entries = key_entries(ks_bytes, keystore.password, ks)
    if not truststore.path.exists():
        # Like IDM's, a generated truststore trusts the listeners' certificate, not the key
        # entries that only encrypt configuration.
        trusted_entries = {a: e for a, e in entries.items() if a == default_alias} or entries
        certs = [
            pkcs12.PKCS12Certificate(c, a.encode("utf-8")) for a, (_, c) in trusted_entries.items()
        ]
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
    _ts_bytes, ts = _read_store(truststore, "truststore")
    trusted = [c.certificate for c in ts.additional_certs]
    if ts.cert is not None:
        trusted.append(ts.cert.certificate)
    return KeyMaterial(keystore, truststore, entries, trusted)


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


# --- PKCS#12 stores with several key entries ----------------------------------------------------
# cryptography's load_pkcs12 returns one key (the first). A keystore written by keytool may hold
# several; to read entry N, the store is re-assembled with only the N-th key bag (certificate
# bags untouched, still encrypted), given a fresh MAC, and loaded again, so OpenSSL still does all
# decryption and pairs the key with its certificate by localKeyId.

_OID_DATA = bytes.fromhex("2a864886f70d010701")
_OID_KEY_BAG = bytes.fromhex("2a864886f70d010c0a0101")
_OID_SHROUDED_KEY_BAG = bytes.fromhex("2a864886f70d010c0a0102")
_OID_FRIENDLY_NAME = bytes.fromhex("2a864886f70d010914")
_OID_SHA256 = bytes.fromhex("608648016503040201")


class _DerError(ValueError):
    pass


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise _DerError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise _DerError("unsupported length")  # indefinite (BER) or absurd
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise _DerError("truncated")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, content start, content end, element start) of each element in data[start:end]."""
    out = []
    pos = start
    while pos < end:
        tag, cs, ce = _tlv(data, pos)
        out.append((tag, cs, ce, pos))
        pos = ce
    return out


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _p12_kdf(password: str, salt: bytes, purpose: int, iterations: int, size: int) -> bytes:
    """The PKCS#12 key derivation (RFC 7292 appendix B.2) with SHA-256."""
    v = 64  # SHA-256 block size; its output is 32 bytes
    secret = password.encode("utf-16-be") + b"\x00\x00"

    def fill(value: bytes) -> bytes:
        if not value:
            return b""
        length = v * -(-len(value) // v)
        return (value * (length // len(value) + 1))[:length]

    block_d = bytes([purpose]) * v
    block_i = bytearray(fill(salt) + fill(secret))
    out = b""
    while len(out) < size:
        a = hashlib.sha256(block_d + bytes(block_i)).digest()
        for _ in range(iterations - 1):
            a = hashlib.sha256(a).digest()
        out += a
        b = int.from_bytes(fill(a), "big")
        for j in range(0, len(block_i), v):
            chunk = (int.from_bytes(block_i[j : j + v], "big") + b + 1) % (1 << (8 * v))
            block_i[j : j + v] = chunk.to_bytes(v, "big")
    return out[:size]


def _friendly_name(bag: bytes) -> str | None:
    _tag, cs, ce = _tlv(bag, 0)
    parts = _children(bag, cs, ce)  # bagId, [0] bagValue, SET bagAttributes
    for tag, cs, ce, _ in parts[2:]:
        if tag != 0x31:
            continue
        for _t, acs, ace, _s in _children(bag, cs, ce):
            attr = _children(bag, acs, ace)
            if len(attr) == 2 and bag[attr[0][1] : attr[0][2]] == _OID_FRIENDLY_NAME:
                values = _children(bag, attr[1][1], attr[1][2])
                if values and values[0][0] == 0x1E:  # BMPString
                    return bag[values[0][1] : values[0][2]].decode("utf-16-be", "replace")
    return None


def _split_key_bags(data: bytes) -> tuple[list[bytes], list[tuple[bytes, str | None]]] | None:
    """The ContentInfos of a PFX with every key bag taken out, and the key bags (with their
    friendly names); None when the file is not laid out as expected."""
    _tag, cs, ce = _tlv(data, 0)
    pfx = _children(data, cs, ce)
    if len(pfx) < 2:
        return None
    auth = _children(data, pfx[1][1], pfx[1][2])
    if len(auth) != 2 or data[auth[0][1] : auth[0][2]] != _OID_DATA:
        return None
    wrapped = _children(data, auth[1][1], auth[1][2])
    if len(wrapped) != 1 or wrapped[0][0] != 0x04:
        return None
    safe = data[wrapped[0][1] : wrapped[0][2]]
    _t, scs, sce = _tlv(safe, 0)
    infos: list[bytes] = []
    keys: list[tuple[bytes, str | None]] = []
    for _t2, ics, ice, istart in _children(safe, scs, sce):
        info = _children(safe, ics, ice)
        if len(info) != 2 or safe[info[0][1] : info[0][2]] != _OID_DATA:
            infos.append(safe[istart:ice])  # encrypted data (certificates): kept as it is
            continue
        inner = _children(safe, info[1][1], info[1][2])
        if len(inner) != 1 or inner[0][0] != 0x04:
            return None
        contents = safe[inner[0][1] : inner[0][2]]
        _t3, bcs, bce = _tlv(contents, 0)
        others = []
        for _t4, gcs, gce, gstart in _children(contents, bcs, bce):
            bag = contents[gstart:gce]
            bag_parts = _children(contents, gcs, gce)
            oid = contents[bag_parts[0][1] : bag_parts[0][2]]
            if oid in (_OID_KEY_BAG, _OID_SHROUDED_KEY_BAG):
                keys.append((bag, _friendly_name(bag)))
            else:
                others.append(bag)
        if others:
            infos.append(_data_info(b"".join(others)))
    return infos, keys


def _data_info(bags: bytes) -> bytes:
    return _der(0x30, _der(0x06, _OID_DATA) + _der(0xA0, _der(0x04, _der(0x30, bags))))


def _pfx(infos: list[bytes], password: str) -> bytes:
    auth_safe = _der(0x30, b"".join(infos))
    salt = os.urandom(16)
    iterations = 2048
    mac_key = _p12_kdf(password, salt, 3, iterations, 32)
    digest = hmac.new(mac_key, auth_safe, hashlib.sha256).digest()
    algorithm = _der(0x30, _der(0x06, _OID_SHA256) + b"\x05\x00")
    mac_data = _der(
        0x30,
        _der(0x30, algorithm + _der(0x04, digest))
        + _der(0x04, salt)
        + _der(0x02, iterations.to_bytes(2, "big")),
    )
    return _der(
        0x30,
        _der(0x02, b"\x03")
        + _der(0x30, _der(0x06, _OID_DATA) + _der(0xA0, _der(0x04, auth_safe)))
        + mac_data,
    )


def _public_bytes(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _matching_certificate(one: object) -> x509.Certificate | None:
    """The certificate of the loaded key: OpenSSL pairs them by localKeyId, checked here."""
    own = _public_bytes(one.key.public_key())  # type: ignore[attr-defined]
    candidates = [one.cert, *one.additional_certs]  # type: ignore[attr-defined]
    for candidate in candidates:
        if _public_bytes(candidate.certificate.public_key()) == own:
            return candidate.certificate
    return None


def key_entries(
    data: bytes, password: str, parsed: object
) -> dict[str, tuple[object, x509.Certificate]]:
    """Every key entry of a PKCS#12 keystore by alias (friendly name, as keytool writes it)."""
    entries: dict[str, tuple[object, x509.Certificate]] = {}
    try:
        split = _split_key_bags(data)
    except _DerError:
        split = None
    if split is not None and len(split[1]) > 1:
        infos, keys = split
        for bag, name in keys:
            try:
                one = pkcs12.load_pkcs12(
                    _pfx([_data_info(bag), *infos], password), password.encode("utf-8")
                )
            except ValueError:
                continue
            if one.key is None or one.cert is None:
                continue
            cert = _matching_certificate(one)
            if cert is None:
                continue
            alias = name or (one.cert.friendly_name or b"").decode("utf-8", "replace")
            entries.setdefault(alias, (one.key, cert))
        if entries:
            return entries
    if parsed.key is not None and parsed.cert is not None:  # type: ignore[attr-defined]
        cert = parsed.cert  # type: ignore[attr-defined]
        alias = (cert.friendly_name or b"").decode("utf-8", "replace")
        entries[alias] = (parsed.key, cert.certificate)  # type: ignore[attr-defined]
    return entries
