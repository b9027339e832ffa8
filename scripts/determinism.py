#!/usr/bin/env python3
"""Determinism check (not part of CI): run the gate N times against the faithful mocks with the same
seed and parallel workers, and count verdicts that differ between runs (expected: 0).

A verdict is, per case (vendor, operation, suite, test name): passed / skipped / the sorted set of
finding fingerprints.

    .venv/bin/python scripts/determinism.py                      # 20 runs, all vendors, --workers 2
    .venv/bin/python scripts/determinism.py --runs 3 --vendors tesla-ce,cofe-cms --max-examples 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from apiconform.errors import ApiconformError
from apiconform.gate._run import SUITE_FILES, RunOptions, execute

Verdict = tuple[str, tuple[str, ...]]


def verdicts(record: Any) -> dict[tuple[str, str, str, str], Verdict]:
    out: dict[tuple[str, str, str, str], Verdict] = {}
    for case in record.cases:
        state = "skipped" if case.skipped else ("failed" if case.findings else "passed")
        out[(case.vendor, case.operation, case.suite, case.name)] = (state, tuple(sorted(f.fingerprint for f in case.findings)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="how many gate runs (default 20)")
    parser.add_argument("--vendors", default="", help="comma-separated vendors (default: all)")
    parser.add_argument("--suites", default=",".join(SUITE_FILES), help="comma-separated suites (default: all)")
    parser.add_argument("--operations", default="", help="comma-separated operationIds (default: all)")
    parser.add_argument("--max-examples", type=int, default=3, help="generated cases per operation (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (default 2)")
    parser.add_argument("--seed", type=int, default=20261123, help="the one seed every run uses")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2 to compare anything")

    split = lambda text: [v.strip() for v in text.split(",") if v.strip()]  # noqa: E731
    runs: list[dict[tuple[str, str, str, str], Verdict]] = []
    durations: list[float] = []
    with tempfile.TemporaryDirectory(prefix="apiconform-determinism-") as tmp:
        for i in range(args.runs):
            options = RunOptions(
                vendors=split(args.vendors), suites=split(args.suites), operations=split(args.operations),
                max_examples=args.max_examples, seed=args.seed, workers=args.workers,
                reports_dir=Path(tmp) / f"run{i}", allure=False,
            )
            started = time.perf_counter()
            try:
                outcome = execute(options)
            except ApiconformError as exc:
                print(f"determinism: run {i + 1} failed: {exc}", file=sys.stderr)
                return 2
            durations.append(time.perf_counter() - started)
            runs.append(verdicts(outcome.record))
            print(f"run {i + 1}/{args.runs}: {len(runs[-1])} cases, exit {outcome.exit_code}, {durations[-1]:.1f}s", flush=True)

    keys = set().union(*runs)
    seen: dict[tuple[str, str, str, str], set[Verdict | None]] = defaultdict(set)
    for run in runs:
        for key in keys:
            seen[key].add(run.get(key))
    flaky = sorted(key for key, values in seen.items() if len(values) > 1)
    for vendor, operation, suite, name in flaky[:20]:
        states = sorted({v[0] if v else "missing" for v in seen[(vendor, operation, suite, name)]})
        print(f"  flaky: {vendor} {operation} {suite} {name}: {' / '.join(states)}")
    print(f"verdicts: {len(keys)} cases x {args.runs} runs; flaky verdicts: {len(flaky)} (expected 0)")
    print(f"timing: mean {statistics.mean(durations):.1f}s, min {min(durations):.1f}s, max {max(durations):.1f}s per run; "
          f"total {sum(durations):.1f}s")
    return 1 if flaky else 0


if __name__ == "__main__":
    sys.exit(main())
