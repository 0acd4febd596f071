"""Benchmark certificate issuance: render + PAdES signature of a 4-person household copy.

    .venv/bin/python bench/bench_certificates.py                  # 20 s per measurement
    .venv/bin/python bench/bench_certificates.py --seconds 3      # what CI runs (small)
    .venv/bin/python bench/bench_certificates.py --residents 5000 # as .ci/bench calls it

The script makes its own data — a fresh SQLite database under a temporary directory, one
4-person household moved in and committed through the register's procedures — and measures
for ``--seconds`` each:

1. **render + sign**: the household form (世帯連記式) of 住民票の写し laid out by
   ``jumin.certificates.render`` (fonts embedded, QR code, seal, issue number, 見本) and
   signed by ``signing.sign_pdf`` (PAdES B-B) — p95 and copies per second, one process;
2. the same on **both cores** (two worker processes) — copies per second;
3. **issue** through ``services.issue`` (reads, checks, counters, issue log, stored file,
   operation log; SQLite) — p95 and copies per second;
4. the **baseline**: a bare ReportLab page with the same text (same font, no table, no QR, no
   signature) — p95; the ratio render+sign / baseline is printed.

Targets (issue 6): render + sign p95 ≤ 150 ms; ≥ 20 copies per second sustained on this
2-core machine. Printed, not asserted (timings are never assertions); exit 1 only on failure.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 150.0
TARGET_RATE = 20.0


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _setup() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    tmp = tempfile.mkdtemp(prefix="jumin-bench-cert-")
    os.environ["JUMIN_VAR_DIR"] = tmp
    os.environ["JUMIN_DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("JUMIN_MODE", "demo")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumin.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _run_for(seconds: float, work: Callable[[], Any]) -> list[float]:
    samples: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(samples) < 5:
        t0 = time.perf_counter()
        work()
        samples.append(time.perf_counter() - t0)
    return samples


def _household() -> tuple[Any, Any]:
    from jumin.register.tests import factories as f

    _, members = f.family()
    return f.clerk(), members


def _data(members: list[Any]) -> Any:
    from jumin.certificates.schemas import CertificateRequestIn

    return CertificateRequestIn.model_validate(
        {
            "kind": "record_copy",
            "atena_nos": [m.atena_no for m in members],
            "requester": {"kind": "self", "name": "相模　太郎", "atena_no": members[0].atena_no},
            "purpose": "ベンチマーク",
            "identity_document": {"kind": "driver_license", "number": "1234"},
            "options": {"household_form": True, "honseki": True},
        }
    )


def _document(clerk: Any, members: list[Any]) -> Any:
    import dataclasses

    from jumin.certificates import services, verification
    from jumin.register.procedures.common import today

    plan = services.plan(clerk, _data(members), function="bench", preview=False)
    (built,) = services.build(plan, issued_on=today(), watermark=True)
    issue_id = verification.new_issue_id()
    return dataclasses.replace(
        built.document,
        issue_number=f"{today():%Y%m%d} 相模原市 BENCH-01 PDF 001",
        qr_url=verification.verify_url(issue_id),
        verification_text=f"交付ID {issue_id}",
    )


def _render_and_sign(document: Any) -> bytes:
    from jumin.certificates import render, signing

    pdf = render.render(document).pdf
    return signing.sign_pdf(pdf, reason="bench", location="相模原市")


def _baseline(lines: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from jumin.certificates import fonts

    names = fonts.register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4)
    c.setFont(names["mincho"], 10)
    y = 800.0
    for line in lines:
        c.drawString(40, y, line)
        y -= 14
    c.showPage()
    c.save()
    return buffer.getvalue()


def _text_lines(document: Any) -> list[str]:
    lines = [document.title, document.subtitle]
    for block in document.blocks:
        for row in block.rows:
            lines.append("　".join(f"{f.label} {f.value}" for f in row).replace("\n", " "))
    lines += [document.certification_text, document.certifier_line, document.issue_number]
    return lines


def _worker(args: tuple[Any, float]) -> int:
    document, seconds = args
    return len(_run_for(seconds, lambda: _render_and_sign(document)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=None, help="per measurement")
    parser.add_argument("--residents", type=int, default=None, help="scale from .ci/bench")
    args = parser.parse_args()
    seconds = args.seconds
    if seconds is None:
        seconds = 20.0 if (args.residents or 1_000_000) >= 1_000_000 else 3.0

    _setup()
    from jumin.certificates import fonts, services, signing

    fonts.register_fonts()
    signing.ensure_configured()
    clerk, members = _household()
    document = _document(clerk, members)
    _render_and_sign(document)  # warm: fonts, key, subsetting caches

    rs = _run_for(seconds, lambda: _render_and_sign(document))
    rs_rate = len(rs) / sum(rs)
    base = _run_for(seconds, lambda: _baseline(_text_lines(document)))

    ctx = multiprocessing.get_context("fork")
    t0 = time.perf_counter()
    with ctx.Pool(2) as pool:
        counts = pool.map(_worker, [(document, seconds)] * 2)
    both_rate = sum(counts) / (time.perf_counter() - t0)

    data = _data(members)
    issued = _run_for(seconds, lambda: services.issue(clerk, data))
    issue_rate = len(issued) / sum(issued)

    p95_rs, p95_base, p95_issue = _p95(rs) * 1000, _p95(base) * 1000, _p95(issued) * 1000
    print(f"4-person household copy (世帯連記式), {seconds:g} s per measurement")
    print(
        f"render + sign      p95 {p95_rs:7.1f} ms  median {statistics.median(rs) * 1000:6.1f} ms"
        f"  {rs_rate:6.1f} copies/s (1 process)   target p95 ≤ {TARGET_P95_MS:g} ms"
    )
    print(
        f"render + sign      {both_rate:6.1f} copies/s on 2 processes"
        f"          target ≥ {TARGET_RATE:g}/s"
    )
    print(
        f"issue (service)    p95 {p95_issue:7.1f} ms  {issue_rate:6.1f} copies/s"
        " (1 process, SQLite: reads, log, counters, stored PDF)"
    )
    print(f"baseline (bare page, same text, no signature) p95 {p95_base:7.1f} ms")
    print(f"ratio render+sign / baseline: {p95_rs / p95_base:5.1f}×")
    ok_p95 = p95_rs <= TARGET_P95_MS
    ok_rate = both_rate >= TARGET_RATE
    print(
        f"targets: p95 {'met' if ok_p95 else 'MISSED'}, throughput {'met' if ok_rate else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
