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

Cost (issue 6, ≥ 20 copies/s): per key the signer encodes once what every signature repeats —
the signed attributes except the message digest, the signer identifier, the algorithms and the
certificate set (:class:`_TemplateSigner`) — and the space reserved for the CMS container is
computed once instead of by a dry-run signature per document. The bytes produced are those of
pyHanko's own :class:`~pyhanko.sign.signers.SimpleSigner` (tested).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore

from jumin.certificates import conf

FIELD_NAME = "JuminSignature"
DEMO_DIR = "certificates"
DEMO_CA = "demo-ca.pem"
DEMO_KEY = "demo-signing-key.pem"
DEMO_CERT = "demo-signing-cert.pem"


class SigningUnavailable(Exception):
    """No signing key: production without JUMIN_CERT_SIGNING_KEY/_CERT, or unreadable files."""


class _TemplateSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner with the constant parts of a PAdES signature encoded once.

    A PAdES B-B signature without time stamp signs three attributes: content type, message
    digest and signing-certificate-v2. Only the digest changes from one document to the next,
    so the attributes are encoded once by pyHanko with a random marker in place of the digest,
    and each signature substitutes its digest for the marker (same length, same DER). The
    signer info and signed data are assembled from parts pyHanko encoded once (identifier,
    algorithms, certificate set), so the certificates are not re-encoded per signature.
    Anything else (dry runs, time stamps, other attribute sets, unsigned attributes) goes
    through pyHanko unchanged."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._attr_templates: dict[tuple[str, int], tuple[bytes, int, int]] = {}
        self._parts: dict[tuple[str, str], dict[str, tuple[type[Any], bytes]]] = {}

    def _plain_pades(
        self,
        attr_settings: PdfCMSSignedAttributes | None,
        content_type: str,
        use_pades: bool,
        timestamper: Any,
        is_pdf_sig: bool,
    ) -> bool:
        return (
            use_pades
            and is_pdf_sig
            and timestamper is None
            and content_type == "data"
            and self.signed_attr_prov_spec is None
            and (
                attr_settings is None
                or (
                    attr_settings.cades_signed_attrs is None
                    and getattr(attr_settings, "adobe_revinfo_attr", None) is None
                )
            )
        )

    async def signed_attrs(  # type: ignore[no-untyped-def]
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: PdfCMSSignedAttributes | None = None,
        content_type: str = "data",
        use_pades: bool = False,
        timestamper: Any = None,
        dry_run: bool = False,
        is_pdf_sig: bool = True,
    ):
        if dry_run or not self._plain_pades(
            attr_settings, content_type, use_pades, timestamper, is_pdf_sig
        ):
            return await super().signed_attrs(
                data_digest,
                digest_algorithm,
                attr_settings=attr_settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
        key = (digest_algorithm, len(data_digest))
        template = self._attr_templates.get(key)
        if template is None:
            marker = os.urandom(len(data_digest))
            attrs = await super().signed_attrs(
                marker,
                digest_algorithm,
                attr_settings=attr_settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=None,
                is_pdf_sig=is_pdf_sig,
            )
            der = attrs.dump()
            if der.count(marker) != 1:  # pragma: no cover — the marker is random, 2^-256
                return await super().signed_attrs(
                    data_digest,
                    digest_algorithm,
                    attr_settings=attr_settings,
                    content_type=content_type,
                    use_pades=use_pades,
                    is_pdf_sig=is_pdf_sig,
                )
            template = (der, der.index(marker), len(marker))
            self._attr_templates[key] = template
        der, at, size = template
        return asn1_cms.CMSAttributes.load(der[:at] + data_digest + der[at + size :])

    def _parts_for(
        self, digest_algorithm: str, cms_version: str, signed_attrs: asn1_cms.CMSAttributes
    ) -> dict[str, tuple[type[Any], bytes]]:
        key = (digest_algorithm, cms_version)
        parts = self._parts.get(key)
        if parts is None:
            # let pyHanko assemble one container and keep the encoding of its constant parts
            sample = super()._package_signature(
                digest_algorithm=digest_algorithm,
                cms_version=cms_version,
                signed_attrs=signed_attrs,
                signature=b"\0" * 8,
                unsigned_attrs=None,
                encap_content_info=None,
            )
            data = sample["content"]
            info = data["signer_infos"][0]
            parts = {}
            for name in ("version", "digest_algorithms", "encap_content_info", "certificates"):
                # untagged (certificates: [0] IMPLICIT), tagged again when assembled
                value = data[name].untag() if data[name].implicit else data[name]
                parts[name] = (type(value), value.dump())
            for name in ("version", "sid", "digest_algorithm", "signature_algorithm"):
                parts[f"info_{name}"] = (type(info[name]), info[name].dump())
            self._parts[key] = parts
        return parts

    def _package_signature(  # type: ignore[no-untyped-def]
        self,
        *,
        digest_algorithm: str,
        cms_version: Any,
        signed_attrs: asn1_cms.CMSAttributes,
        signature: bytes,
        unsigned_attrs: asn1_cms.CMSAttributes | None,
        encap_content_info: Any,
    ):
        detached = encap_content_info is None or encap_content_info == {"content_type": "data"}
        if (
            unsigned_attrs is not None
            or not detached
            or self.attribute_certs
            or not isinstance(cms_version, str)
        ):
            return super()._package_signature(
                digest_algorithm=digest_algorithm,
                cms_version=cms_version,
                signed_attrs=signed_attrs,
                signature=signature,
                unsigned_attrs=unsigned_attrs,
                encap_content_info=encap_content_info,
            )
        parts = self._parts_for(digest_algorithm, cms_version, signed_attrs)

        def part(name: str) -> Any:
            cls, der = parts[name]
            return cls.load(der)

        info = asn1_cms.SignerInfo(
            {
                "version": part("info_version"),
                "sid": part("info_sid"),
                "digest_algorithm": part("info_digest_algorithm"),
                "signature_algorithm": part("info_signature_algorithm"),
                "signed_attrs": signed_attrs,
                "signature": signature,
            }
        )
        data = asn1_cms.SignedData(
            {
                "version": part("version"),
                "digest_algorithms": part("digest_algorithms"),
                "encap_content_info": part("encap_content_info"),
                "certificates": part("certificates"),
                "signer_infos": asn1_cms.SignerInfos([info]),
            }
        )
        return asn1_cms.ContentInfo(
            {"content_type": asn1_cms.ContentType("signed_data"), "content": data}
        )


@dataclass(frozen=True)
class _Loaded:
    signer: signers.SimpleSigner
    root: asn1_x509.Certificate
    source: tuple[str, ...]
    reserved: dict[str, int] = field(default_factory=dict)  # digest algorithm → bytes


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
    signer = _TemplateSigner(signing_cert=cert, signing_key=key_info, cert_registry=registry)
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


MD_ALGORITHM = "sha256"


def _reserved(loaded: _Loaded) -> int:
    """Bytes to reserve for the CMS container (hex): what pyHanko would estimate with a
    dry-run signature before every document (its size plus 50 %), computed once per key."""
    size = loaded.reserved.get(MD_ALGORITHM)
    if size is None:
        digest = bytes(hashes.Hash(hashes.SHA256()).finalize())
        sample = asyncio.run(
            loaded.signer.async_sign(digest, MD_ALGORITHM, dry_run=True, use_pades=True)
        )
        test_len = len(sample.dump()) * 2
        size = test_len + 2 * (test_len // 4)
        loaded.reserved[MD_ALGORITHM] = size
    return size


def sign_pdf(pdf: bytes, *, reason: str, location: str) -> bytes:
    """The PDF with a PAdES B-B signature appended (incremental update)."""
    loaded = _loaded()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm=MD_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=conf.municipality_name(),
    )
    out = signers.sign_pdf(writer, meta, signer=loaded.signer, bytes_reserved=_reserved(loaded))
    return bytes(out.getvalue())
