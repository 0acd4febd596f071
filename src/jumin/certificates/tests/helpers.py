"""Test helpers: requests as a clerk makes them, and PDFs read back with poppler."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from jumin.certificates.schemas import CertificateRequestIn

ISSUE_NUMBER = re.compile(r"(\d{8}) (\S+) (\S+) (\S+) (\d{3,}) (\d+)/(\d+)")


def request(kind: str, *atena_nos: str, requester: dict[str, Any] | None = None, **extra: Any):
    data: dict[str, Any] = {
        "kind": kind,
        "atena_nos": list(atena_nos),
        "requester": {"kind": "self", "name": "相模　太郎", "atena_no": atena_nos[0]},
        "purpose": "勤務先への提出",
        "identity_document": {"kind": "driver_license", "number": "AB12345678"},
    }
    if requester is not None:
        data["requester"] = requester
    data.update(extra)
    return CertificateRequestIn.model_validate(data)


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext -layout)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        match = re.search(r"Pages:\s+(\d+)", info.stdout)
        assert match is not None
        pages = int(match.group(1))
        out = []
        for n in range(1, pages + 1):
            text = subprocess.run(
                ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(path), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            out.append(text)
        return out


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_pages(pdf))


def squeeze(text: str) -> str:
    """Text without spaces (pdftotext spaces CJK text by layout)."""
    return re.sub(r"[\s\u3000]+", "", text)
