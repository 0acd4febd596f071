"""Benchmark ``jumin seed``: wall time and peak RSS against a raw CSV-writing baseline.

    .venv/bin/python bench/bench_seed.py                      # 1,000,000 residents
    .venv/bin/python bench/bench_seed.py --residents 5000     # what CI runs

Both runs are child processes, measured with ``os.wait4`` (that child's own peak RSS,
``ru_maxrss``) and a monotonic clock:

1. the generator: ``python -m jumin.synth.cli --residents N --out TMP --quiet``;
2. the baseline: a process that writes the same three CSV files with ``csv.writer`` — the
   same number of rows, each a constant row copied from the generated files — i.e. the cost
   floor of producing files of that shape, with no generation work at all.

It prints both, the ratio generator / baseline, and whether the targets hold (1,000,000
residents in at most 120 s and 500 MB peak RSS; below 1,000,000 the time target is scaled
linearly and reported for information). Exit status: 0, or 1 when a run fails or, at
1,000,000 residents or more, when a target is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL_SCALE = 1_000_000
TIME_TARGET_S = 120.0
RSS_TARGET_MB = 500.0
FILES = ("households.csv", "residents.csv", "history.csv")


def _run(argv: list[str]) -> tuple[float, float, int]:
    """Run ``argv``; return (wall seconds, peak RSS in MB of that child, exit status)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    rss_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return elapsed, rss_mb, proc.returncode


def _baseline_child(spec_path: str) -> None:
    """Write the files of ``spec`` with constant rows: the baseline process."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    out = Path(spec["out"])
    for name in FILES:
        header, row, count = spec["files"][name]
        with (out / name).open("w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            batch = [row] * 1000
            full, rest = divmod(count, 1000)
            for _ in range(full):
                writer.writerows(batch)
            writer.writerows(batch[:rest])


def _sample(path: Path) -> tuple[list[str], list[str], int]:
    """(header, first data row, number of data rows) of a CSV file."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        first = next(reader, header)
        count = 1 + sum(1 for _ in reader) if first is not header else 0
    return header, first, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=FULL_SCALE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated files here")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--baseline-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_child:
        _baseline_child(args.baseline_child)
        return 0
    if args.residents < 1:
        parser.error("--residents must be at least 1")

    with tempfile.TemporaryDirectory(prefix="bench_seed_") as tmp:
        gen_out = args.keep or Path(tmp) / "generated"
        if gen_out.exists() and any(gen_out.iterdir()):
            parser.error(f"{gen_out} is not empty")
        gen_time, gen_rss, status = _run(
            [
                sys.executable,
                "-m",
                "jumin.synth.cli",
                "--residents",
                str(args.residents),
                "--seed",
                str(args.seed),
                "--out",
                str(gen_out),
                "--quiet",
            ]
        )
        if status != 0:
            print(f"bench_seed: the generator failed (exit {status})", file=sys.stderr)
            return 1
        baseline_out = Path(tmp) / "baseline"
        baseline_out.mkdir()
        samples = {name: _sample(gen_out / name) for name in FILES}
        sizes = {name: (gen_out / name).stat().st_size for name in FILES}
        spec = {"out": str(baseline_out), "files": samples}
        spec_path = Path(tmp) / "baseline.json"
        spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        base_time, base_rss, status = _run(
            [sys.executable, __file__, "--baseline-child", str(spec_path)]
        )
        if status != 0:
            print(f"bench_seed: the baseline failed (exit {status})", file=sys.stderr)
            return 1

    rows = {name: samples[name][2] for name in FILES}
    scale = args.residents / FULL_SCALE
    time_target = TIME_TARGET_S * scale
    time_ok = gen_time <= time_target
    rss_ok = gen_rss <= RSS_TARGET_MB
    full = args.residents >= FULL_SCALE
    print(f"jumin seed benchmark — {args.residents:,} residents, seed {args.seed}")
    for name in FILES:
        print(f"  {name:<15} {rows[name]:>12,} rows {sizes[name] / 1e6:>10.1f} MB")
    print(f"  generator        {gen_time:8.2f} s   peak RSS {gen_rss:7.1f} MB")
    print(f"  baseline (csv)   {base_time:8.2f} s   peak RSS {base_rss:7.1f} MB")
    print(f"  ratio            {gen_time / base_time:8.2f} x  (generator / raw csv.writer floor)")
    print(f"  throughput       {args.residents / gen_time:10,.0f} residents/s")
    label = "target" if full else f"target scaled to {args.residents:,}"
    print(
        f"  time  {'OK ' if time_ok else 'MISS'} {gen_time:.1f} s <= {time_target:.1f} s ({label};"
        f" {TIME_TARGET_S:.0f} s at {FULL_SCALE:,})"
    )
    print(f"  RSS   {'OK ' if rss_ok else 'MISS'} {gen_rss:.1f} MB <= {RSS_TARGET_MB:.0f} MB")
    if args.json:
        print(
            json.dumps(
                {
                    "residents": args.residents,
                    "generator_s": round(gen_time, 3),
                    "generator_rss_mb": round(gen_rss, 1),
                    "baseline_s": round(base_time, 3),
                    "baseline_rss_mb": round(base_rss, 1),
                    "ratio": round(gen_time / base_time, 3),
                    "rows": rows,
                    "time_ok": time_ok,
                    "rss_ok": rss_ok,
                }
            )
        )
    if full and not (time_ok and rss_ok):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
