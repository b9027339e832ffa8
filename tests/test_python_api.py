"""The README's Python example, as written: the public API runs the engine and the gate without pytest."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys) -> None:  # type: ignore[no-untyped-def]
    block = re.search(r"### As a Python library.*?```python\n(.*?)```", README.read_text(), re.S)
    assert block is not None
    exec(compile(block.group(1), "README.md", "exec"), {})  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert "goodstack" in out and "enum" in out  # the drift was found and printed
    assert "RunStarted" in out and "CaseFinished" in out and "RunFinished" in out


def test_public_names_resolve() -> None:
    import apiconform

    for name in apiconform.__all__:
        assert getattr(apiconform, name) is not None, name
    record = apiconform.run(["ctrlhub"], max_examples=2)
    assert record.cases and apiconform.evaluate(record).exit_code == 0


def test_dir_shows_the_public_surface() -> None:
    import apiconform

    shown = dir(apiconform)
    assert set(apiconform.__all__) <= set(shown) and "lazy_attributes" not in shown and "TYPE_CHECKING" not in shown


def test_wrong_input_is_one_error_before_anything_runs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A wrong name or a target that cannot be built raises one ApiconformError with a one-line message;
    it never becomes a crashed case per work item or a verdict."""
    import pytest

    import apiconform

    monkeypatch.delenv("APICONFORM_EDUFRAME_TOKEN", raising=False)
    cases = [
        (dict(vendors=["nope"]), apiconform.UsageError, "unknown vendor 'nope'"),
        (dict(vendors=["goodstack"], drifts=["nah"]), apiconform.UsageError, "unknown drift 'nah'"),
        (dict(vendors=["goodstack"], suites=["nah"]), apiconform.UsageError, "unknown suite 'nah'"),
        (dict(vendors=["goodstack"], operations=["nah"]), apiconform.UsageError, "--operation 'nah'"),
        (dict(vendors=["eduframe"], targets={"eduframe": "http://127.0.0.1:9"}, workers=2), apiconform.ConfigError,
         "APICONFORM_EDUFRAME_TOKEN, which is not set"),
        (dict(vendors=["goodstack"], contracts="/nonexistent/folder"), apiconform.UsageError, "not a directory"),
    ]
    for kwargs, error, text in cases:
        with pytest.raises(error, match=re.escape(text)) as caught:
            apiconform.run(max_examples=2, **kwargs)  # type: ignore[arg-type]
        assert "\n" not in str(caught.value)


def test_run_takes_a_team_contracts_folder(tmp_path: Path) -> None:
    import shutil

    import apiconform
    from apiconform.contracts import list_vendors

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "contracts" / "ctrlhub", tmp_path / "acme")
    contract = tmp_path / "acme" / "openapi.yaml"
    contract.write_text(contract.read_text(encoding="utf-8").replace("vendor: ctrlhub", "vendor: acme", 1), encoding="utf-8")
    record = apiconform.run(["acme"], contracts=tmp_path, max_examples=2, drifts=["field-type-changed"])
    assert record.vendors == ["acme"] and record.findings
    assert all(f.curl.startswith(f"apiconform mock acme --contracts={tmp_path} --port 8100") for f in record.findings)
    assert "acme" not in list_vendors()  # the folder was used for this run only
