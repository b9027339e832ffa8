"""`apiconform.sarif`: the findings as SARIF 2.1.0 for code-scanning UIs (GitHub code scanning, IDEs).

Each distinct finding is one result located in the contract: the line of the documented response the answer
was judged against (`paths./x.get.responses.200`), else the operation's line, so a code-scanning alert opens
on the contract a team can fix or annotate. The rule is the failure code (apiconform.codes). Waived findings
are results with an external suppression (their reason); findings outside `--fail-on` are warnings.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from apiconform.codes import CODES, explain
from apiconform.errors import ApiconformError
from apiconform.findings import Category, Finding
from apiconform.report._matrix import Waived, waived_map
from apiconform.runrecord import RunRecord, write_text_atomic

__all__ = ["SARIF_SCHEMA", "render_sarif", "write_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_INFO_URI = "https://github.com/apiconform/apiconform/blob/main/docs/codes.md"


class _Lines:
    """Lines of places in each vendor's contract file, read from the YAML node tree (PyYAML marks)."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[str, Any] | None] = {}

    def _load(self, vendor: str) -> tuple[str, Any] | None:
        if vendor not in self._files:
            import yaml

            from apiconform.contracts import contract_path

            try:
                path = contract_path(vendor)
                # libyaml where installed (marks alike, ~13x faster: 2 s of CPU for a 190-operation contract in Python)
                node = yaml.compose(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
                self._files[vendor] = (_uri(path), node)
            except (ApiconformError, OSError, UnicodeDecodeError, yaml.YAMLError):
                self._files[vendor] = None  # an unlocatable finding is still reported, without a place
        return self._files[vendor]

    def locate(self, f: Finding) -> tuple[str, int] | None:
        """(artifact URI, 1-based line) of the response f concerns, else of its operation, else None."""
        loaded = self._load(f.vendor)
        if loaded is None:
            return None
        uri, root = loaded
        try:
            from apiconform.contracts import load_contract, split

            op = load_contract(f.vendor).operations.get(f.operation)
        except ApiconformError:
            op = None
        if op is None:
            return uri, 1
        node = root
        for token in split(op.pointer):
            node = _child(node, token)
            if node is None:
                return uri, 1
        line = node.start_mark.line + 1
        if f.status is not None:
            responses = _child(node, "responses")
            for key in (str(f.status), f"{str(f.status)[0]}XX", "default"):
                found = _child(responses, key) if responses is not None else None
                if found is not None:
                    return uri, _key_line(responses, key) or found.start_mark.line + 1
        return uri, _key_line_of_node(root, op.pointer) or line


def _child(node: Any, key: str) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(getattr(k, "value", "")) == key:
                return v
    return None


def _key_line(mapping: Any, key: str) -> int:
    import yaml

    if isinstance(mapping, yaml.MappingNode):
        for k, _ in mapping.value:
            if str(getattr(k, "value", "")) == key:
                return int(k.start_mark.line) + 1
    return 0


def _key_line_of_node(root: Any, ptr: str) -> int:
    """The line of the key that names the node at `ptr` (the `get:` line of an operation)."""
    from apiconform.contracts import split

    tokens = split(ptr)
    parent = root
    for token in tokens[:-1]:
        parent = _child(parent, token)
        if parent is None:
            return 0
    return _key_line(parent, tokens[-1]) if tokens else 0


def _uri(path: Path) -> str:
    """The contract relative to the working directory (the repository, in CI), else a file URI."""
    try:
        relative = os.path.relpath(path, Path.cwd())
    except ValueError:
        relative = ""
    if relative and not relative.startswith(".."):
        return Path(relative).as_posix()
    return path.resolve().as_uri()


def _rule(code: str) -> dict[str, Any]:
    c = explain(code)
    return {
        "id": c.code,
        "name": "".join(w.capitalize() for w in c.check.split("_")) + c.code,
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": c.meaning},
        "help": {"text": f"{c.meaning}. Typical cause: {c.cause}. {c.waive}.",
                 "markdown": f"**{c.title}**: {c.meaning}.\n\nTypical cause: {c.cause}.\n\n{c.waive}."},
        "helpUri": f"{_INFO_URI}#{c.code.lower()}",
        "properties": {"category": c.category.value, "check": c.check, "tags": ["api-conformance", c.category.value]},
    }


def render_sarif(record: RunRecord, waived: Waived | None = None,
                 fail_on: Collection[Category] | None = None) -> dict[str, Any]:
    from apiconform import __version__

    wmap = waived_map(waived)
    known = {c.code for c in CODES}
    lines = _Lines()
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for f in record.findings:
        if f.fingerprint in seen:
            continue
        seen.add(f.fingerprint)
        result: dict[str, Any] = {
            "ruleId": f.code,
            "level": "error" if not fail_on or f.category in fail_on else "warning",
            "message": {"text": f"{f.vendor} {f.operation}: {f.message}"
                                + (f" (HTTP {f.status})" if f.status is not None else "")},
            "partialFingerprints": {"apiconform/v1": f.fingerprint},
            "properties": {"vendor": f.vendor, "operation": f.operation, "category": f.category.value,
                           "check": f.check, "pointer": f.pointer, "status": f.status, "reproduce": f.curl},
        }
        place = lines.locate(f)
        location: dict[str, Any] = {"logicalLocations": [{"name": f.operation, "fullyQualifiedName":
                                                          f"{f.vendor}/{f.operation}", "kind": "function"}]}
        if place is not None:
            location["physicalLocation"] = {"artifactLocation": {"uri": place[0]}, "region": {"startLine": place[1]}}
        result["locations"] = [location]
        if f.fingerprint in wmap:
            result["suppressions"] = [{"kind": "external", "justification": wmap[f.fingerprint] or "waived by baseline"}]
        results.append(result)
    rules = [_rule(code) for code in sorted({r["ruleId"] for r in results} & known)]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "apiconform", "version": __version__, "semanticVersion": __version__,
                                "informationUri": _INFO_URI, "rules": rules}},
            "invocations": [{"executionSuccessful": True, "commandLine": " ".join(record.argv) or "apiconform run",
                             "startTimeUtc": record.started or None, "endTimeUtc": record.finished or None}],
            "results": results,
        }],
    }


def write_sarif(record: RunRecord, out_dir: str | os.PathLike[str], waived: Waived | None = None,
                fail_on: Collection[Category] | None = None) -> Path:
    import json

    sarif = render_sarif(record, waived, fail_on)
    invocation = sarif["runs"][0]["invocations"][0]
    for key in ("startTimeUtc", "endTimeUtc"):
        if invocation[key] is None:
            del invocation[key]
    return write_text_atomic(Path(out_dir) / "apiconform.sarif", json.dumps(sarif, indent=2, ensure_ascii=False) + "\n")
