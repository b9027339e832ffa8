"""`make test` (fast) and `make test-e2e` (slow end-to-end + real server) together run every test exactly once,
and CI runs both: moving a test behind a marker must never drop it from CI."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _marker_expression(target: str) -> str:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(rf"^{re.escape(target)}: setup\n\t(.+)$", makefile, re.M)
    assert recipe, f"no recipe for {target} in the Makefile"
    match = re.search(r'-m "([^"]+)"', recipe.group(1))
    assert match, f"{target} selects no marker expression: {recipe.group(1)}"
    return match.group(1)


def test_fast_and_e2e_sets_partition_every_test() -> None:
    fast, slow = _marker_expression("test"), _marker_expression("test-e2e")
    names = sorted(set(re.findall(r"[a-z_0-9]+", fast + " " + slow)) - {"and", "or", "not"})
    assert names == ["e2e", "real_vendor"]
    for values in itertools.product((False, True), repeat=len(names)):
        env = dict(zip(names, values))
        in_fast, in_slow = eval(fast, {}, env), eval(slow, {}, env)  # noqa: S307 - our own Makefile's expressions
        assert in_fast != in_slow, f"a test marked {env} runs in {'both' if in_fast else 'neither'} of make test / make test-e2e"


def test_ci_runs_the_readme_test_command_and_the_e2e_set() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"for step in test test-e2e; do\n\s+make --no-print-directory \"\$step\"", ci)
    assert "make --no-print-directory lint" in ci
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.split("```sh\n", 1)[1].splitlines()[1].startswith("make test ")
