"""The on-disk case cache: generated once, replayed later, and the verdicts never change because of it."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from requests.structures import CaseInsensitiveDict

from apiconform.engine import _casecache as _casecache

from apiconform.engine import _generate as runner
from apiconform.contracts import load_contract

ROOT = Path(__file__).resolve().parents[2]


def test_serialisation_round_trips_what_schemathesis_produces() -> None:
    case = _casecache.WireCase(
        {"method": "POST", "url": "/x/%2F", "headers": CaseInsensitiveDict({"Content-Type": "application/json"}),
         "params": {"a": [1, 2.5, None, True], "b": ("t", "u")}, "json": {"k": ["\udcff", -0.0, 10**30, {"n": {}}]},
         "data": b"\x00\xffbinary"},
        "negative",
    )
    [back], note = _casecache.loads(_casecache.dumps([case], "why"))
    assert note == "why"
    assert back.generation == case.generation and back.negative
    assert back.kwargs["headers"] == {"Content-Type": "application/json"}
    assert back.kwargs["params"] == {"a": [1, 2.5, None, True], "b": ("t", "u")}
    assert back.kwargs["json"] == case.kwargs["json"] and back.kwargs["data"] == b"\x00\xffbinary"
    assert back.transport_kwargs("http://h/base/")["url"] == "http://h/base/x/%2F"
    assert not back.judged  # only a compiled case the contract accepted carries it, and it survives the cache
    [judged], _ = _casecache.loads(_casecache.dumps([dataclasses.replace(case, judged=True)]))
    assert judged.judged


def test_path_filling_matches_schemathesis_on_every_contract_path() -> None:
    """A replayed case re-addressed to other path values (`fill_path`) gives the URL schemathesis would."""
    from schemathesis.transport.prepare import prepare_path

    from apiconform.contracts import list_vendors

    values = ["42", "a.b", "%2F%3F", "0", "x y", "\u00e9", 7, True]
    checked = 0
    for vendor in list_vendors():
        for op in load_contract(vendor):
            names = op.path_params()
            for i in range(len(values)):
                params = {name: values[(i + j) % len(values)] for j, name in enumerate(names)}
                assert _casecache.fill_path(op.path, params) == prepare_path(op.path, params), op.label
                checked += 1
            if names:
                with pytest.raises(KeyError, match=names[0]):
                    _casecache.fill_path(op.path, {})
    assert checked > 100


def test_second_draw_comes_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path))
    contract = load_contract("eduframe")
    op = contract.operation("list_courses")
    calls: list[str] = []
    real = runner._sampled.draw  # valid cases come from the compiled samplers (engine._sampled)
    monkeypatch.setattr(runner._sampled, "draw", lambda *a, **k: calls.append("drawn") or real(*a, **k))
    first, _ = runner.generated_cases(contract, op, "positive", 5, 7, {})
    second, _ = runner.generated_cases(contract, op, "positive", 5, 7, {})
    assert calls == ["drawn"]
    assert [c.kwargs for c in first] == [c.kwargs for c in second] and len(first) == 5
    other, _ = runner.generated_cases(contract, op, "positive", 5, 8, {})  # another seed is another key
    assert calls == ["drawn", "drawn"] and [c.kwargs for c in other] != [c.kwargs for c in first]


def test_cache_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("APICONFORM_CACHE", "off")
    contract = load_contract("goodstack")
    runner.generated_cases(contract, next(iter(contract)), "positive", 2, 1, {})
    assert not (tmp_path / "cases").exists()


def _verdicts(reports: Path) -> dict[str, object]:
    record = json.loads((reports / "run.json").read_text())
    return {f"{c['vendor']} {c['suite']} {c['name']}": (c.get("status"), c.get("requests"), c.get("skipped"),
                                                        sorted(f["fingerprint"] for f in c.get("findings", [])))
            for c in record["cases"]}


_DRAW = """
import hashlib, json, os, sys
for name in filter(None, os.environ.get("PRELOAD", "").split(",")):
    __import__(name)
from apiconform.contracts import load_contract
from apiconform.engine import _generate as runner
contract = load_contract("tesla-ce")
out = []
for label in ("read_provider_request", "update_provider_notification", "status_provider_request",
              "partial_update_provider_notification", "create_provider_notification"):
    for mode in ("negative", "positive"):
        cases, _ = runner.generated_cases(contract, contract.operation(label), mode, 10, 12345, {})
        wire = [{**c.kwargs, "headers": {k: v for k, v in (c.kwargs.get("headers") or {}).items()
                                         if not k.lower().startswith("x-schemathesis")}} for c in cases]
        out.append(hashlib.sha256(json.dumps(wire, default=repr, sort_keys=True).encode()).hexdigest()[:12])
print(" ".join(out))
"""


@pytest.mark.e2e  # fresh processes by nature (what a process loaded): `make test-e2e` (CI runs it)
def test_draws_do_not_depend_on_the_modules_a_process_has_loaded(tmp_path: Path) -> None:
    """The same contract and seed draw the same cases whatever else the process loaded: hypothesis' constants
    from local modules (an editable checkout, a team's own package under pytest) are kept out of the draws.
    Without engine._draws, loading this one module of literals re-draws several of these operations."""
    (tmp_path / "team_helpers.py").write_text(
        'ENDPOINTS = {"bearer": 1, "base64url": 2, "admin": -1}\n'
        'LIMITS = (0, 255, 65535, 2**31 - 1, 1e-308, -0.5)\n'
        'WORDS = ["null", "true", "../..", "%00", "SELECT", "\\u00e9", "x" * 3]\n'
        "def helper(value):\n    return value in ('ok', 'fail', 'retry', 42, 3.14)\n")

    def draw(preload: str) -> str:
        env = {**os.environ, "APICONFORM_CACHE": "off", "PRELOAD": preload,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH", "")]))}
        done = subprocess.run([sys.executable, "-c", _DRAW], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    plain = draw("")
    assert len(plain.split()) == 10
    assert draw("team_helpers,apiconform.config") == plain  # a team's module of literals and a module of ours


def test_isolated_draws_is_scoped_and_restores_hypothesis() -> None:
    """Only apiconform's own draws lose the local constants: afterwards hypothesis harvests them as before."""
    from hypothesis.internal.conjecture import providers

    from apiconform.engine._draws import isolated_draws

    original = providers._get_local_constants
    with isolated_draws():
        assert providers._get_local_constants is not original
        assert not providers._get_local_constants().strings
    assert providers._get_local_constants is original
    with pytest.raises(RuntimeError), isolated_draws():
        raise RuntimeError("a failing draw")
    assert providers._get_local_constants is original


@pytest.mark.e2e  # minutes of whole runs on a loaded machine: `make test-e2e` (CI runs it)
def test_verdicts_identical_without_cold_and_warm_cache(tmp_path: Path) -> None:
    """Same seed, a drift on: no cache, a cold cache and a warm cache give the same findings case by case."""
    cache = tmp_path / "cache"
    runs = {}
    for label, mode in (("off", "off"), ("cold", "on"), ("warm", "on")):
        env = dict(os.environ, APICONFORM_CACHE=mode, APICONFORM_CACHE_DIR=str(cache))
        out = tmp_path / label
        proc = subprocess.run(
            [sys.executable, "-m", "apiconform", "run", "tesla-ce", "goodstack", "--drift", "enum-value-changed",
             "--max-examples", "4", "--no-allure", "--reports-dir", str(out)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr  # the drift is found every time
        runs[label] = _verdicts(out)
    assert runs["off"] == runs["cold"] == runs["warm"]
    assert any(findings for *_, findings in runs["off"].values())  # type: ignore[misc]
    assert len(list((cache / "cases").glob("*.json"))) > 10


def test_parsed_contract_documents_are_cached_exactly_and_only_when_json_holds_them(tmp_path: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A contract parses once per content (YAML ~0.3 s for Eduframe, its JSON ~3 ms); the replay is the same
    document; one JSON cannot hold exactly (integer keys) is never cached; a damaged entry is parsed again."""
    from apiconform.contracts import contract_path
    from apiconform.contracts._loader import read_document

    monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "eduframe" / "openapi.yaml"  # outside the bundled folder: no shipped parse (test_lint_stamp)
    source.parent.mkdir()
    source.write_text(contract_path("eduframe").read_text(encoding="utf-8"), encoding="utf-8")
    first = read_document(source)
    stored = list((tmp_path / "cache" / "documents").glob("*.json"))
    assert len(stored) == 1
    assert read_document(source) == first
    stored[0].write_text('{"openapi": "3.1.0", "tampered": true}', encoding="utf-8")
    assert read_document(source)["tampered"] is True  # the replay really comes from the cache ...
    stored[0].write_text("{damaged", encoding="utf-8")
    assert read_document(source) == first  # ... and a damaged entry is parsed again

    odd = tmp_path / "odd.yaml"
    odd.write_text("openapi: 3.1.0\npaths: {}\nx-codes:\n  200: ok\n", encoding="utf-8")
    assert read_document(odd)["x-codes"] == {200: "ok"}
    assert len(list((tmp_path / "cache" / "documents").glob("*.json"))) == 1  # the integer key kept it out
    monkeypatch.setenv("APICONFORM_CACHE", "off")
    other = tmp_path / "other.yaml"
    other.write_text("openapi: 3.1.0\npaths: {}\n", encoding="utf-8")
    read_document(other)
    assert len(list((tmp_path / "cache" / "documents").glob("*.json"))) == 1


def test_a_clean_lint_is_remembered_on_disk_and_a_changed_file_is_linted_again(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from apiconform.contracts import contract_path
    from apiconform.contracts._loader import use_contracts
    from apiconform.gate import _run

    team = tmp_path / "team"
    shutil.copytree(contract_path("goodstack").parent, team / "acme")
    monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[str] = []
    real = _run.check_contract

    def counted(vendor: str) -> object:
        calls.append(vendor)
        return real(vendor)

    monkeypatch.setattr(_run, "check_contract", counted)
    use_contracts(team)
    try:
        first = _run._checked_on_disk("acme", team / "acme")
        again = _run._checked_on_disk("acme", team / "acme")
        assert first.ok and again.ok and calls == ["acme"]  # the second lint came from the cache
        assert (again.operations, again.examples, again.errata) == (first.operations, first.examples, first.errata)
        spec = team / "acme" / "openapi.yaml"
        spec.write_text(spec.read_text(encoding="utf-8").replace("openapi: 3.1.0", "openapi: 9.9.9", 1), encoding="utf-8")
        broken = _run._checked_on_disk("acme", team / "acme")
        assert not broken.ok and calls == ["acme", "acme"]
        assert not _run._checked_on_disk("acme", team / "acme").ok and len(calls) == 3  # problems are never cached
    finally:
        use_contracts(None)


def test_a_kept_cache_replays_with_other_known_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Known path values (ids a live run discovers: new on every run) are placeholders in the cache: a run with other
    values replays the stored cases with its own values filled in, never drawing again, and the cases it replays are
    judged again at send time (they were judged with other values); with the same values they stay judged."""
    monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path))
    contract = load_contract("eduframe")
    op = contract.operation("get_lead")
    calls: list[str] = []
    real = runner._sampled.draw
    monkeypatch.setattr(runner._sampled, "draw", lambda *a, **k: calls.append("drawn") or real(*a, **k))
    first, _ = runner.generated_cases(contract, op, "positive", 6, 11, {"id": "42"})
    second, _ = runner.generated_cases(contract, op, "positive", 6, 11, {"id": "4711"})
    same, _ = runner.generated_cases(contract, op, "positive", 6, 11, {"id": "42"})
    assert calls == ["drawn"]
    assert [c.kwargs for c in same] == [c.kwargs for c in first] and all(c.judged for c in same)
    urls = [c.kwargs["url"] for c in first]
    assert "/leads/42" in urls and [u.replace("/leads/42", "/leads/4711") for u in urls] == [c.kwargs["url"] for c in second]
    assert [c.judged for c in second] == [c.kwargs["url"] != "/leads/4711" for c in second]
    stored = "".join(p.read_text() for p in (tmp_path / "cases").glob("*.json"))
    assert runner._casecache.placeholder("id") in stored and "/leads/4711" not in stored
