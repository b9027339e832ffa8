"""Mutation testing of the checks and the judge: run mutmut 3, print the mutation score.

    python scripts/mutation.py            # mutmut run (incremental), then the score
    python scripts/mutation.py --report   # score of the last run only
    make mutation                          # the same as the first line

Scope (see [tool.mutmut] in pyproject.toml): every function of `checks.py` and `validation.py`, and the
runner's judge (`runner.judge` and `runner._security_params`, which decides what the judge ignores).
mutmut mutates all of `engine/_judge.py`; mutants outside the judge are not scored here. The tests are the fast
hand-built ones (tests/engine/test_checks.py, tests/contracts/test_validation.py), so a run takes a few minutes.

Surviving mutants that are equivalent (no behaviour can tell them apart) are listed with the reason in
`docs/mutation-survivors.md`; the script prints any survivor missing from that list, and exits 1 if the
score is under --min (default 90) or a survivor is unexplained.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCOPE = {
    "apiconform.engine.checks": None,  # every function
    "apiconform.contracts._validate": None,
    "apiconform.engine._judge": ("judge", "_security_params"),
}
# mutmut exit codes per mutant: 1 = killed (tests failed), 0 = survived, 33 = no test covers it,
# 34 = skipped, 35/36 = suspicious/timeout (counted as killed: the mutant broke something), 37 = type check killed
KILLED = {1, 3, -24, 24, 35, 36, 37, 152, 255}
SURVIVED = {0}
NO_TESTS = {33}
SURVIVORS_FILE = ROOT / "docs" / "mutation-survivors.md"


def _function(key: str) -> tuple[str, str]:
    """`apiconform.engine.checks.xǁCheckContextǁfinding__mutmut_3` -> ("apiconform.engine.checks", "CheckContext.finding")."""
    module, _, name = key.rpartition(".")
    name = re.sub(r"__mutmut_\d+$", "", name)
    name = name[2:] if name.startswith("x_") else name
    return module, name.replace("xǁ", "").replace("ǁ", ".").strip(".")


def collect() -> dict[str, dict[str, int | None]]:
    results: dict[str, dict[str, int | None]] = {}
    for meta in (ROOT / "mutants" / "src").rglob("*.py.meta"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for key, code in data.get("exit_code_by_key", {}).items():
            module, function = _function(key)
            if module not in SCOPE:
                continue
            wanted = SCOPE[module]
            if wanted is not None and function.split(".")[-1] not in wanted:
                continue
            results.setdefault(module, {})[key] = code
    return results


def explained() -> set[str]:
    if not SURVIVORS_FILE.exists():
        return set()
    return set(re.findall(r"`(apiconform\.[^`]+__mutmut_\d+)`", SURVIVORS_FILE.read_text(encoding="utf-8")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="only print the score of the last run")
    parser.add_argument("--min", type=float, default=90.0, help="minimum score in percent (default 90)")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    if not args.report:
        mutmut = Path(sys.executable).with_name("mutmut")
        code = subprocess.call([str(mutmut), "run", "--max-children", str(args.max_children)], cwd=ROOT,
                               stdout=subprocess.DEVNULL)
        if code not in (0, 1):
            print(f"mutmut run failed with exit {code}", file=sys.stderr)
            return 2
    results = collect()
    if not results:
        print("no mutation results: run `python scripts/mutation.py` first (needs mutmut: pip install -e .[mutation])")
        return 2
    known = explained()
    total_killed = total_scored = 0
    unexplained: list[str] = []
    for module, codes in sorted(results.items()):
        killed = sum(1 for c in codes.values() if c in KILLED)
        survived = sorted(k for k, c in codes.items() if c in SURVIVED)
        untested = sum(1 for c in codes.values() if c in NO_TESTS)
        scored = killed + len(survived) + untested
        total_killed += killed
        total_scored += scored
        print(f"{module:24} {killed:4}/{scored:<4} killed  {100 * killed / max(scored, 1):5.1f} %"
              f"  ({len(survived)} survived, {untested} not covered by any test)")
        unexplained += [k for k in survived if k not in known]
    score = 100 * total_killed / max(total_scored, 1)
    print(f"mutation score: {score:.1f} % ({total_killed} of {total_scored} mutants killed)")
    for key in unexplained:
        print(f"  survivor not explained in {SURVIVORS_FILE.relative_to(ROOT)}: {key}  (mutmut show {key})")
    return 0 if score >= args.min and not unexplained else 1


if __name__ == "__main__":
    sys.exit(main())
