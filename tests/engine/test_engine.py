"""The engine runs without pytest, and every consumer (engine in one process, engine in worker processes,
plain `pytest suites`) reaches the same verdict for every work item."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apiconform import engine
from apiconform.engine import CaseFinished, Engine, EngineOptions, RunFinished, RunStarted

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ["goodstack", "tesla-ce"]
DRIFT = ["enum-value-changed"]


def _verdicts(cases: list[dict]) -> dict[str, object]:
    return {f"{c['vendor']} {c['suite']} {c['name']}": (c.get("status"), c.get("requests"), c.get("skipped"),
                                                        sorted(f["fingerprint"] for f in c.get("findings", [])))
            for c in cases}


def _engine_verdicts(workers: int) -> dict[str, object]:
    record = Engine(EngineOptions(vendors=VENDORS, drifts=DRIFT, max_examples=3, workers=workers)).run()
    return _verdicts(record.to_dict()["cases"])


def test_engine_runs_without_pytest() -> None:
    code = ("import sys\nfrom apiconform.engine import Engine, EngineOptions\n"
            "r = Engine(EngineOptions(vendors=['goodstack'], max_examples=2)).run()\n"
            "assert r.cases and 'pytest' not in sys.modules and '_pytest' not in sys.modules, sorted(sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=300)


def test_events_stream_every_item_then_the_record() -> None:
    events = list(Engine(EngineOptions(vendors=["ctrlhub"], max_examples=2)).events())
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    finished = [e for e in events if isinstance(e, CaseFinished)]
    assert len(finished) == len(events[0].items) == len(events[-1].record.cases) > 0
    assert [e.done for e in finished] == list(range(1, len(finished) + 1))


@pytest.mark.e2e  # whole pytest runs in subprocesses: `make test-e2e` (CI runs it)
def test_one_worker_two_workers_and_pytest_agree(tmp_path: Path) -> None:
    one, two = _engine_verdicts(1), _engine_verdicts(2)
    assert one == two
    assert any(findings for *_, findings in one.values())  # type: ignore[misc]  # the drift was seen
    out = tmp_path / "reports"
    args = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider", "--apiconform-record",
            "--reports-dir", str(out), "--max-examples=3", *[f"--vendor={v}" for v in VENDORS],
            *[f"--drift={d}" for d in DRIFT], "-p", "no:xdist"]
    subprocess.run(args, cwd=ROOT, capture_output=True, timeout=900)
    via_pytest = _verdicts(json.loads((out / "run.json").read_text())["cases"])
    assert via_pytest == one


def test_plan_skips_what_cannot_apply_and_shards_partition() -> None:
    items = engine.plan(["goodstack", "eduframe"])
    assert not [i for i in items if i.test == "test_idempotency_key_reuse" and i.vendor == "eduframe"]
    assert [i for i in items if i.test == "test_idempotency_key_reuse" and i.vendor == "goodstack"]
    shards = [set(engine.plan(["goodstack", "eduframe"], shard=(k, 3))) for k in (1, 2, 3)]
    assert set().union(*shards) == set(items) and sum(map(len, shards)) == len(items)


def test_a_crashing_item_is_recorded_and_the_others_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    real = engine.execute_item

    def crash_on_properties(item, *args, **kwargs):  # type: ignore[no-untyped-def]
        if item.test == "test_properties":
            raise RuntimeError("boom")
        return real(item, *args, **kwargs)

    monkeypatch.setattr(engine, "execute_item", crash_on_properties)
    record = Engine(EngineOptions(vendors=["goodstack"], max_examples=2)).run()
    crashed = [c for c in record.cases if c.skipped.startswith("crashed: ")]
    assert crashed and all("RuntimeError: boom" in c.skipped for c in crashed)
    assert [c for c in record.cases if not c.skipped]  # the other items ran


def test_cli_gate_reports_a_crash_as_exit_2_and_keeps_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from apiconform.errors import UsageError
    from apiconform.gate._run import RunOptions, execute

    real = engine.execute_item
    monkeypatch.setattr(engine, "execute_item", lambda item, *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
                        if item.test == "test_properties" else real(item, *a, **k))
    with pytest.raises(UsageError, match="crashed before judging"):
        execute(RunOptions(vendors=["goodstack"], max_examples=2, reports_dir=tmp_path, allure=False))
    assert json.loads((tmp_path / "run.json").read_text())["cases"]


def test_issue_repro_same_verdicts_at_one_and_two_workers(tmp_path: Path) -> None:
    """The run that once differed between 1 and 2 workers (negative suite, error-shape drift, seed 7)."""
    verdicts = []
    for workers in (1, 2):
        record = Engine(EngineOptions(vendors=["eduframe"], suites=["negative"], operations=["list_invoices"], seed=7,
                                      drifts=["error-shape-changed"], max_examples=3, workers=workers)).run()
        verdicts.append(_verdicts(record.to_dict()["cases"]))
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) >= 2
