"""Shipped clean lints of the bundled contracts (contracts._stamp): used only for exactly the stamped files and
library versions, and equal to what the lint itself reports."""

from __future__ import annotations

import json
import shutil
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
    for vendor in ("eduframe", "goodstack"):
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
