#!/usr/bin/env python3
"""Determinism check: run the same gate with the same seed N times with 1 worker and N times with 2 workers
against the faithful mocks, and count the cases whose verdict or findings differ between any two runs
(expected: 0; exit 1 otherwise).

A case is (vendor, operation, suite, test name); what must not differ is its state (passed / skipped / failed)
and its findings (fingerprint, category, check and message of each).

    python scripts/determinism.py --runs 20                       # all vendors, 20 runs at 1 and 20 at 2 workers
    python scripts/determinism.py --runs 3 --vendors tesla-ce,cofe-cms --max-examples 3 --workers 2
    python scripts/determinism.py --runs 5 --vendors tesla-ce,goodstack --drifts enum-value-changed,field-renamed
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Key = tuple[str, str, str, str]
Verdict = tuple[str, tuple[tuple[str, ...], ...]]


def _ensure_venv() -> None:
    """`python scripts/determinism.py` with a Python that lacks apiconform: re-run under the checkout's .venv."""
    if importlib.util.find_spec("apiconform") is None:
        venv_py = ROOT / ".venv" / "bin" / "python"
        if venv_py.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
            os.execv(str(venv_py), [str(venv_py), *sys.argv])
        raise SystemExit("determinism: apiconform is not importable: run `make setup` first (it builds .venv)")


def verdicts(record: Any) -> dict[Key, Verdict]:
    out: dict[Key, Verdict] = {}
    for case in record.cases:
        state = "skipped" if case.skipped else ("failed" if case.findings else "passed")
        findings = tuple(sorted((f.fingerprint, f.category.value, f.check, f.message) for f in case.findings))
        out[(case.vendor, case.operation, case.suite, case.name)] = (state, findings)
    return out


def differences(runs: Sequence[Mapping[Key, Verdict]]) -> dict[Key, set[Verdict | None]]:
    """Every case whose verdict or findings are not the same in all runs (a case missing from a run: None)."""
    keys: set[Key] = set().union(*runs)
    seen: dict[Key, set[Verdict | None]] = defaultdict(set)
    for run in runs:
        for key in keys:
            seen[key].add(run.get(key))
    return {key: values for key, values in sorted(seen.items()) if len(values) > 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="gate runs per worker count (default 20)")
    parser.add_argument("--vendors", default="", help="comma-separated vendors (default: all)")
    parser.add_argument("--suites", default="", help="comma-separated suites (default: all)")
    parser.add_argument("--operations", default="", help="comma-separated operationIds (default: all)")
    parser.add_argument("--max-examples", type=int, default=3, help="generated cases per operation (default 3)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts, each run --runs times (default 1,2)")
    parser.add_argument("--seed", type=int, default=20261123, help="the one seed every run uses")
    parser.add_argument("--drifts", default="", help="comma-separated mock drifts, so that the runs have findings to compare")
    args = parser.parse_args(argv)
    split = lambda text: [v.strip() for v in text.split(",") if v.strip()]  # noqa: E731
    try:
        worker_counts = [int(w) for w in split(args.workers)]
    except ValueError:
        parser.error(f"--workers expects comma-separated numbers, got {args.workers!r}")
    if args.runs * len(worker_counts) < 2:
        parser.error("at least two runs in all are needed to compare anything")

    from apiconform.engine import SUITES
    from apiconform.errors import ApiconformError
    from apiconform.gate._run import RunOptions, execute

    runs: list[dict[Key, Verdict]] = []
    durations: dict[int, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="apiconform-determinism-") as tmp:
        for workers in worker_counts:
            for i in range(args.runs):
                options = RunOptions(
                    vendors=split(args.vendors), suites=split(args.suites) or list(SUITES),
                    operations=split(args.operations), max_examples=args.max_examples, seed=args.seed, workers=workers,
                    drifts=split(args.drifts),
                    reports_dir=Path(tmp) / f"w{workers}-run{i}", allure=False, progress=False,
                )
                started = time.perf_counter()
                try:
                    outcome = execute(options)
                except ApiconformError as exc:
                    print(f"determinism: run {i + 1} with {workers} worker(s) failed: {exc}", file=sys.stderr)
                    return 2
                if outcome.record.interrupted:  # stopped by SIGINT/SIGTERM: nothing left to compare
                    print(f"determinism: interrupted by {outcome.record.interrupted}", file=sys.stderr)
                    return 4
                durations[workers].append(time.perf_counter() - started)
                runs.append(verdicts(outcome.record))
                print(f"workers {workers}, run {i + 1}/{args.runs}: {len(runs[-1])} cases, "
                      f"{sum(len(v[1]) for v in runs[-1].values())} findings, exit {outcome.exit_code}, "
                      f"{durations[workers][-1]:.1f}s", flush=True)

    differing = differences(runs)
    for (vendor, operation, suite, name), values in list(differing.items())[:20]:
        states = sorted({v[0] if v else "missing" for v in values})
        print(f"  differs: {vendor} {operation} {suite} {name}: {' / '.join(states)} ({len(values)} variants)")
    cases = len(set().union(*runs))
    print(f"verdicts: {cases} cases x {len(runs)} runs (workers {','.join(map(str, worker_counts))}); "
          f"cases whose verdict or findings differ: {len(differing)} (expected 0)")
    for workers, times in durations.items():
        print(f"timing, {workers} worker(s): mean {statistics.mean(times):.1f}s, min {min(times):.1f}s, "
              f"max {max(times):.1f}s per run")
    return 1 if differing else 0


if __name__ == "__main__":
    _ensure_venv()
    sys.exit(main())
