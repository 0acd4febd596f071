"""The PAdES signature with the per-key template (signing._TemplateSigner): every signed PDF
validates with pyHanko, the CMS container is the one pyHanko's own SimpleSigner builds, and a
change of key starts a new template."""

from __future__ import annotations

import asyncio
import hashlib
import io

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from jumin.certificates import signing


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=0)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _validate(pdf: bytes):
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=[signing.trust_root()])
    )
    return signature, status


def test_consecutive_signatures_each_validate():
    # issue 6 item 6: every PDF signed (PAdES B-B); the template is reused across documents
    for n in range(3):
        pdf = signing.sign_pdf(_pdf(f"document {n}"), reason=f"r{n}", location="相模原市")
        signature, status = _validate(pdf)
        assert status.intact and status.valid and status.bottom_line
        assert status.coverage.name == "ENTIRE_FILE"
        assert signature.sig_object["/Reason"] == f"r{n}"
        attrs = signature.signer_info["signed_attrs"]
        names = {a["type"].native for a in attrs}
        # PAdES: no signing-time attribute (the time is /M in the signature dictionary)
        assert names == {"content_type", "message_digest", "signing_certificate_v2"}
        digest = next(a for a in attrs if a["type"].native == "message_digest")
        assert digest["values"][0].native == signature.compute_digest()
    assert isinstance(signing._loaded().signer, signing._TemplateSigner)


def test_a_changed_byte_breaks_the_signature():
    pdf = bytearray(signing.sign_pdf(_pdf("tamper"), reason="r", location="l"))
    at = pdf.index(b"tamper")
    pdf[at] ^= 1
    _, status = _validate(bytes(pdf))
    assert not status.bottom_line


def _container(signer: signers.SimpleSigner, digest: bytes) -> cms.ContentInfo:
    return asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))


def test_the_container_is_the_one_pyhanko_builds(monkeypatch):
    loaded = signing._loaded()
    plain = signers.SimpleSigner(
        signing_cert=loaded.signer.signing_cert,
        signing_key=loaded.signer.signing_key,
        cert_registry=loaded.signer.cert_registry,
    )

    async def fixed(self, data, digest_algorithm, dry_run=False):
        return hashlib.sha256(data).digest() * 2  # deterministic stand-in for ECDSA

    monkeypatch.setattr(signers.SimpleSigner, "async_sign_raw", fixed)
    for digest in (b"\x01" * 32, hashlib.sha256(b"other").digest()):
        ours = _container(loaded.signer, digest)["content"]
        theirs = _container(plain, digest)["content"]
        ours_info, theirs_info = ours["signer_infos"][0], theirs["signer_infos"][0]
        assert ours_info.dump() == theirs_info.dump()  # attributes, identifier, algorithms
        assert ours_info["signature"].native == theirs_info["signature"].native
        # the certificate set: the same certificates (pyHanko orders a Python set)
        assert sorted(c.dump() for c in ours["certificates"]) == sorted(
            c.dump() for c in theirs["certificates"]
        )
        assert ours["digest_algorithms"].dump() == theirs["digest_algorithms"].dump()
        assert ours["version"].native == theirs["version"].native


def test_a_new_key_starts_a_new_template(settings, tmp_path):
    first = signing._loaded()
    signing.sign_pdf(_pdf("one"), reason="r", location="l")
    assert first.reserved  # computed once, kept with the key
    settings.VAR_DIR = tmp_path / "other"
    signing.reset_cache()
    second = signing._loaded()
    assert second is not first and not second.reserved
    assert second.signer.signing_cert.dump() != first.signer.signing_cert.dump()
    pdf = signing.sign_pdf(_pdf("two"), reason="r", location="l")
    signature, status = _validate(pdf)
    assert status.bottom_line
    assert signature.signer_cert.dump() == second.signer.signing_cert.dump()


@pytest.mark.parametrize("copies", [1, 4])
def test_the_reserved_space_holds_the_container(copies):
    # the space is estimated once per key (a dry run, +50 %) instead of per document
    for n in range(copies):
        pdf = signing.sign_pdf(_pdf(f"c{n}"), reason="r" * 200, location="l")
        signature, status = _validate(pdf)
        assert status.bottom_line
        raw = bytes(signature.sig_object.raw_get("/Contents"))
        assert 0 < len(raw.rstrip(b"\0")) < len(raw)  # the container, then zero padding
