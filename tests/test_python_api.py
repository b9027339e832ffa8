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
