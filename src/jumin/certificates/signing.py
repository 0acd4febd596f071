"""PAdES signatures (pyHanko) with the city's key on every issued PDF.

Production: the key and certificate are PEM files named by ``JUMIN_CERT_SIGNING_KEY`` and
``JUMIN_CERT_SIGNING_CERT`` (``JUMIN_CERT_SIGNING_CHAIN``: intermediate certificates,
``JUMIN_CERT_SIGNING_KEY_PASSPHRASE``: the key's passphrase). Without them nothing is issued:
:func:`signer` raises :class:`SigningUnavailable` and the issuance service refuses.

Demo mode: on first use a self-signed CA 「<city> 証明書署名CA（デモ）」 and a signing
certificate issued by it are generated into ``$JUMIN_VAR_DIR/certificates/`` (ECDSA P-256,
ten years), under a file lock so that two processes agree on one key. A validator trusts the CA
(:func:`trust_root`); the public verification page is the check a resident can make without it.

The signature is PAdES baseline B-B (``ETSI.CAdES.detached``, SHA-256), invisible, with the
city as location. No time-stamp authority is reachable from the counter network today; a
B-T profile needs one (see ADR 0008).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from jumin.certificates import conf

FIELD_NAME = "JuminSignature"
DEMO_DIR = "certificates"
DEMO_CA = "demo-ca.pem"
DEMO_KEY = "demo-signing-key.pem"
DEMO_CERT = "demo-signing-cert.pem"


class SigningUnavailable(Exception):
    """No signing key: production without JUMIN_CERT_SIGNING_KEY/_CERT, or unreadable files."""


@dataclass(frozen=True)
class _Loaded:
    signer: signers.SimpleSigner
    root: asn1_x509.Certificate
    source: tuple[str, ...]


_lock = threading.Lock()
_cache: dict[str, _Loaded] = {}


def _demo_dir() -> Path:
    return Path(settings.VAR_DIR) / DEMO_DIR


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, conf.municipality_name()),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def ensure_demo_files() -> tuple[Path, Path, Path]:
    """The demo CA, signing key and certificate (created on first use). Returns their paths."""
    folder = _demo_dir()
    ca_path, key_path, cert_path = folder / DEMO_CA, folder / DEMO_KEY, folder / DEMO_CERT
    if ca_path.is_file() and key_path.is_file() and cert_path.is_file():
        return ca_path, key_path, cert_path
    with _file_lock(folder / ".lock"):
        if ca_path.is_file() and key_path.is_file() and cert_path.is_file():
            return ca_path, key_path, cert_path
        now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        until = now + dt.timedelta(days=3650)
        city = conf.municipality_name()
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name(f"{city} 証明書署名CA（デモ）")
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{city}長（証明書電子署名・デモ）"))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        _write(
            key_path,
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
            0o600,
        )
        _write(cert_path, cert.public_bytes(pem))
        _write(ca_path, ca.public_bytes(pem))  # last: its presence means the set is complete
    return ca_path, key_path, cert_path


def _load_cert(path: Path) -> asn1_x509.Certificate:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _load_chain(path: Path) -> list[asn1_x509.Certificate]:
    return [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
        for c in x509.load_pem_x509_certificates(path.read_bytes())
    ]


def _load(key_path: Path, cert_path: Path, chain: list[Path], passphrase: str) -> _Loaded:
    try:
        key = serialization.load_pem_private_key(
            key_path.read_bytes(), password=passphrase.encode() if passphrase else None
        )
        key_info = asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert = _load_cert(cert_path)
        others: list[asn1_x509.Certificate] = []
        for p in chain:
            others.extend(_load_chain(p))
    except (OSError, ValueError, TypeError) as exc:
        raise SigningUnavailable(
            f"証明書の署名鍵・証明書を読み込めません（{exc}）。JUMIN_CERT_SIGNING_KEY と"
            " JUMIN_CERT_SIGNING_CERT のファイルとパスフレーズを確認してください。"
        ) from exc
    registry = SimpleCertificateStore.from_certs([cert, *others])  # type: ignore[no-untyped-call]
    signer = signers.SimpleSigner(signing_cert=cert, signing_key=key_info, cert_registry=registry)
    root = others[-1] if others else cert
    return _Loaded(signer, root, (str(key_path), str(cert_path), *map(str, chain)))


def _loaded() -> _Loaded:
    key_setting = conf.raw("CERT_SIGNING_KEY")
    cert_setting = conf.raw("CERT_SIGNING_CERT")
    chain_setting = conf.raw("CERT_SIGNING_CHAIN")
    if key_setting or cert_setting:
        if not (key_setting and cert_setting):
            raise SigningUnavailable(
                "JUMIN_CERT_SIGNING_KEY と JUMIN_CERT_SIGNING_CERT は両方指定してください。"
            )
        paths = (Path(key_setting), Path(cert_setting))
        chain = [Path(p) for p in chain_setting.split(",") if p.strip()]
        cache_key = "|".join([key_setting, cert_setting, chain_setting])
    elif conf.is_demo():
        ca_path, key_path, cert_path = ensure_demo_files()
        paths = (key_path, cert_path)
        chain = [ca_path]
        cache_key = f"demo|{ca_path}"
    else:
        raise SigningUnavailable(
            "証明書に電子署名する市の鍵が設定されていません。本番モードでは"
            " JUMIN_CERT_SIGNING_KEY（秘密鍵 PEM）と JUMIN_CERT_SIGNING_CERT（証明書 PEM）を"
            "設定するまで証明書を交付できません。"
        )
    loaded = _cache.get(cache_key)
    if loaded is not None:
        return loaded
    with _lock:
        loaded = _cache.get(cache_key)
        if loaded is None:
            loaded = _load(*paths, chain, conf.raw("CERT_SIGNING_KEY_PASSPHRASE"))
            _cache.clear()
            _cache[cache_key] = loaded
    return loaded


def reset_cache() -> None:
    """Forget the loaded key (tests that change the settings)."""
    with _lock:
        _cache.clear()


def ensure_configured() -> None:
    """Raise :class:`SigningUnavailable` unless a signing key can be loaded."""
    _loaded()


def trust_root() -> asn1_x509.Certificate:
    """The certificate a validator trusts: the top of the configured chain (demo: the CA)."""
    return _loaded().root


def signing_certificate() -> asn1_x509.Certificate:
    return _loaded().signer.signing_cert


def sign_pdf(pdf: bytes, *, reason: str, location: str) -> bytes:
    """The PDF with a PAdES B-B signature appended (incremental update)."""
    loaded = _loaded()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=conf.municipality_name(),
    )
    out = signers.sign_pdf(writer, meta, signer=loaded.signer)
    return bytes(out.getvalue())
