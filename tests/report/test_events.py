"""The report consumers of the engine's event stream (report._events), fed by a real run: the `--events` log has
one line at the start, one per finished case in the order the engine finished them and one at the end, and it
agrees with run.json; the Allure results hold one result per case, each with the commands that reproduce it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from apiconform.gate._run import RunOptions, execute


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict], dict]:
    work = tmp_path_factory.mktemp("events")
    events = work / "events.jsonl"
    options = RunOptions(vendors=["goodstack"], max_examples=2, reports_dir=work / "reports", progress=False, allure=False,
                         events_file=events, drifts=["goodstack:field-type-changed"])  # every suite: 6 work items
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        outcome = execute(options)
    assert outcome.exit_code == 1  # the drift is found
    lines = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    return work / "reports", lines, json.loads((work / "reports" / "run.json").read_text(encoding="utf-8"))


def test_the_event_log_is_the_run_as_it_happened(run: tuple[Path, list[dict], dict]) -> None:
    _, lines, record = run
    assert [line["event"] for line in lines] == ["started"] + ["case"] * (len(lines) - 2) + ["finished"]
    cases = lines[1:-1]
    assert lines[0]["items"] == len(cases) == len(record["cases"]) > 1
    assert [c["done"] for c in cases] == list(range(1, len(cases) + 1)) and {c["total"] for c in cases} == {len(cases)}
    assert [line["t"] for line in lines] == sorted(line["t"] for line in lines)
    by_name = {c["name"]: c for c in record["cases"]}
    for case in cases:
        kept = by_name[case["name"]]
        assert (case["vendor"], case["operation"], case["suite"]) == (kept["vendor"], kept["operation"], kept["suite"])
        assert case["findings"] == len(kept["findings"]) and case["requests"] == kept["requests"]
    assert sum(c["findings"] for c in cases) > 0


def test_allure_has_one_result_per_case_with_its_reproduce_commands(run: tuple[Path, list[dict], dict]) -> None:
    reports, _, record = run
    results = [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]
    assert len(results) == len(record["cases"])
    for result in results:
        names = {a["name"]: (reports / "allure-results" / a["source"]).read_text() for a in result["attachments"]}
        run_line = shlex.split(names["reproduce"])
        assert run_line[:3] == ["apiconform", "run", "goodstack"] and f"--suite={result['fullName'].split('#')[0].split('.')[1]}" in run_line
        assert "--drift=goodstack:field-type-changed" in names["reproduce"]
        pytest_line = shlex.split(names["reproduce (pytest)"])
        assert pytest_line[0] == "pytest" and pytest_line[-2:] == ["-k", result["name"]]
    environment = (reports / "allure-results" / "environment.properties").read_text()
    assert f"reproduce={record['context']['reproduce']}" in environment


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_an_event_log_on_a_full_disk_is_one_line_and_loses_no_other_report(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk under `--events` stops that log only: the run finishes, run.json and the other reports are
    written, and the failure is one line naming the option and the file (exit 2), never an internal error."""
    from apiconform.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    options = RunOptions(vendors=["goodstack"], suites=["examples"], max_examples=1, reports_dir=tmp_path / "reports",
                         progress=False, allure=False, events_file=Path("/dev/full"))
    with pytest.raises(ConfigError, match=r"^--events /dev/full: cannot write \(No space left on device\); the run "
                                          r"finished and the other reports are in "):
        execute(options)
    record = json.loads((tmp_path / "reports" / "run.json").read_text(encoding="utf-8"))
    assert record["cases"] and (tmp_path / "reports" / "junit.xml").is_file()
    assert len(list((tmp_path / "reports" / "allure-results").glob("*-result.json"))) == len(record["cases"])
