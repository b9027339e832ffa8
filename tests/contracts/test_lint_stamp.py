"""Shipped clean lints of the bundled contracts (contracts._stamp): used only for exactly the stamped files and
library versions, and equal to what the lint itself reports."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from apiconform.contracts import _stamp
from apiconform.contracts._check import check_contract
from tests.support.lint import LINT_GROUP, checked


def test_a_stamp_is_taken_only_for_the_same_files_and_libraries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = tmp_path / "bundled"
    shutil.copytree(_stamp.BUNDLED / "goodstack", bundled / "goodstack")
    monkeypatch.setattr(_stamp, "BUNDLED", bundled)
    monkeypatch.setattr(_stamp, "STAMPS", bundled / "lint-clean.json")
    written = _stamp.write_stamps()
    result = check_contract(bundled / "goodstack" / "openapi.yaml")
    assert _stamp.shipped_clean(bundled / "goodstack") == {"operations": result.operations, "examples": result.examples,
                                                           "errata": result.errata}
    assert written["vendors"]["goodstack"]["operations"] == result.operations
    monkeypatch.setattr(_stamp, "library_versions", lambda: {**written["libraries"], "jsonschema": "0.0.1"})
    assert _stamp.shipped_clean(bundled / "goodstack") is None  # another library version: lint again
    monkeypatch.undo()
    monkeypatch.setattr(_stamp, "BUNDLED", bundled)
    monkeypatch.setattr(_stamp, "STAMPS", bundled / "lint-clean.json")
    spec = bundled / "goodstack" / "openapi.yaml"
    spec.write_text(spec.read_text() + "\n# edited\n")
    assert _stamp.shipped_clean(bundled / "goodstack") is None  # an edited contract: lint again
    assert _stamp.shipped_clean(tmp_path) is None  # not a bundled folder


@LINT_GROUP
def test_shipped_stamps_agree_with_the_lint_where_they_apply() -> None:
    """Every stamp that applies to the installed libraries and the current files reports what the lint reports
    (a stale stamp only costs a lint; `python -m apiconform.contracts._stamp` renews them)."""
    stamps = json.loads(_stamp.STAMPS.read_text())
    assert set(stamps["vendors"]) <= {p.name for p in _stamp.BUNDLED.iterdir() if p.is_dir()}
    for vendor in stamps["vendors"]:
        shipped = _stamp.shipped_clean(_stamp.BUNDLED / vendor)
        if shipped is None:
            continue
        result = checked(vendor)  # the bundled contract's own lint (the folder the stamp names)
        assert result.ok and shipped == {"operations": result.operations, "examples": result.examples,
                                         "errata": result.errata}, vendor


def test_a_shipped_parse_is_read_only_for_the_same_text_and_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bundled/VENDOR.parsed.json` replaces the YAML parse of a fresh runner only for exactly the text and the PyYAML it
    was written from, and is then the parse itself; an edited contract, another parser or a damaged file parse the
    YAML as before."""
    import yaml

    from apiconform import _cache
    from apiconform.contracts import _loader

    monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path / "cache"))  # no document cache: the shipped file or YAML
    for vendor in sorted(p.name for p in _loader.BUNDLED_DIR.iterdir() if (p / "openapi.yaml").is_file()):
        spec = _loader.BUNDLED_DIR / vendor / "openapi.yaml"
        text = spec.read_text(encoding="utf-8")
        shipped = _loader.shipped_parse(spec, text)
        assert shipped is not None, f"{vendor}.parsed.json is stale: python -m apiconform.contracts._stamp"
        assert json.loads(shipped) == yaml.load(text, Loader=yaml.CSafeLoader)
        assert _loader.read_document(spec) == json.loads(shipped)
        assert _loader.shipped_parse(spec, text + "\n# edited\n") is None
    bundled = tmp_path / "bundled"
    shutil.copytree(_loader.BUNDLED_DIR / "goodstack", bundled / "goodstack")
    spec = bundled / "goodstack" / "openapi.yaml"
    text = spec.read_text(encoding="utf-8")
    monkeypatch.setattr(_loader, "BUNDLED_DIR", bundled)
    assert _loader.shipped_parse(spec, text) is None  # none shipped there
    (bundled / "goodstack.parsed.json").write_text(_loader.shipped_parse_text(text), encoding="utf-8")
    assert _loader.shipped_parse(spec, text) is not None
    lying = _loader.shipped_parse_text(text).replace('"openapi":"3.1.0"', '"openapi":"3.0.0"')
    (bundled / "goodstack.parsed.json").write_text(lying.replace(json.loads(lying.split("\n")[0])["sha256"], "0" * 64))
    assert _loader.shipped_parse(spec, text) is None  # another text's parse: never taken
    (bundled / "goodstack.parsed.json").write_text(_loader.shipped_parse_text(text))
    monkeypatch.setattr(_loader, "_parser_version", lambda: _cache.code_version([], []) + ";PyYAML=0.0")
    assert _loader.shipped_parse(spec, text) is None  # another PyYAML: parse again
    (bundled / "goodstack.parsed.json").write_text("{damaged")
    assert _loader.shipped_parse(spec, text) is None


def test_a_team_contracts_committed_stamp_skips_its_lint_for_exactly_that_contract_and_lint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`contracts check --stamp` writes lint-clean.json into a team contract's folder; a cold run (empty cache
    directory, a fresh process's memory: a fresh CI runner) then skips the lint, until the contract, an example
    file or the validator's version changes (the stamp then changes too) or --no-cache asks for a fresh lint."""
    from click.testing import CliRunner

    from apiconform import _cache
    from apiconform.cli import main
    from apiconform.contracts import BUNDLED_DIR
    from apiconform.gate import _run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APICONFORM_CONTRACTS", raising=False)
    monkeypatch.delenv("APICONFORM_CACHE", raising=False)
    folder = tmp_path / "team-contracts" / "acme"
    shutil.copytree(BUNDLED_DIR / "ctrlhub", folder)
    spec = folder / "openapi.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("vendor: ctrlhub", "vendor: acme", 1), encoding="utf-8")
    (tmp_path / "apiconform.toml").write_text('contracts = "team-contracts"\n', encoding="utf-8")

    def stamp() -> dict[str, object]:
        result = CliRunner().invoke(main, ["contracts", "check", "acme", "--stamp"])
        assert result.exit_code == 0 and f"stamped {folder / _stamp.TEAM_STAMP}" in result.output, result.output
        return dict(json.loads((folder / _stamp.TEAM_STAMP).read_text(encoding="utf-8")))

    lints: list[str] = []
    real = _run.check_contract
    monkeypatch.setattr(_run, "check_contract", lambda vendor: lints.append(vendor) or real(vendor))

    def lints_of_a_cold_run(*extra: str) -> int:
        lints.clear()
        monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path / f"cache-{time.monotonic_ns()}"))
        _run._CHECKED.clear()
        result = CliRunner().invoke(main, ["run", "acme", "--suite", "examples", "--no-allure", "--no-progress", *extra])
        assert result.exit_code == 0, result.output
        return len(lints)

    assert lints_of_a_cold_run() == 1  # no stamp: linted
    first = stamp()
    assert first["operations"] == real(str(spec)).operations > 0
    assert lints_of_a_cold_run() == 0  # the committed stamp holds
    assert lints_of_a_cold_run("--no-cache") == 1  # --no-cache lints afresh

    spec.write_text(spec.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert lints_of_a_cold_run() == 1  # an edited contract: linted, the stamp no longer applies
    second = stamp()
    assert second["key"] != first["key"] and lints_of_a_cold_run() == 0
    example = next(p for p in (folder / "examples").rglob("*") if p.is_file())
    example.write_text(example.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert lints_of_a_cold_run() == 1  # an edited example file, too
    third = stamp()

    version = _cache.dist_version
    monkeypatch.setattr(_cache, "dist_version",
                        lambda dist: "999.0" if dist == "openapi-spec-validator" else version(dist))
    assert lints_of_a_cold_run() == 1  # another validator version: linted
    assert stamp()["key"] != third["key"]
    assert lints_of_a_cold_run() == 0
