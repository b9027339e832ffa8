"""`apiconform run --export-pytest DIR`: one standalone characterization test per failing case, replaying the
recorded request against the same target (the embedded mock with the run's drifts, faults and seed, or the live
base URL) and failing while the API still answers as it did; it passes once the answer conforms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apiconform.engine import MOCK_BASE_URL
from apiconform.findings import Category, Finding

__all__ = ["export_pytest"]

_SINGLE_REQUEST = {"examples", "properties", "negative"}  # suites whose finding is one request (stateful: a sequence)
_STATUS_IS_THE_FINDING = {Category.STATUS_CODE, Category.SERVER_ERROR, Category.AUTH, Category.TRANSPORT}

_TEMPLATE = '''"""Characterization test exported by `apiconform run --export-pytest` ({code}: {title}).

{vendor} {operation}: {message}
It sends the recorded request again to the same target and fails while the answer shows this finding
({fingerprint}); it passes once the API answers as its contract documents. Run: pytest {filename}
"""

import apiconform

VENDOR = {vendor!r}
OPERATION = {operation!r}
TARGET = {target!r}  # None: the embedded mock with DRIFTS, FAULTS and SEED; else the live base URL (credentials
# from APICONFORM_<VENDOR>_<FIELD>, as `apiconform run --target` reads them)
DRIFTS = {drifts!r}
FAULTS = {faults!r}
SEED = {seed!r}
EXPECTATION = {expectation!r}
REQUEST = {request!r}
CODE = {code!r}
FINGERPRINT = {fingerprint!r}
RECORDED_STATUS = {status!r}
STATUS_IS_THE_FINDING = {status_is_finding!r}


def test_{name}() -> None:
    findings = apiconform.replay(VENDOR, OPERATION, REQUEST, EXPECTATION, target=TARGET, drifts=DRIFTS,
                                 faults=FAULTS, seed=SEED)
    if not STATUS_IS_THE_FINDING:  # the same state must be reached, or the test would pass for the wrong reason
        assert findings.status == RECORDED_STATUS, f"answered {{findings.status}}, recorded {{RECORDED_STATUS}}"
    same = [f for f in findings if f.fingerprint == FINGERPRINT]
    assert not same, "\\n".join(f"{{f.code}} {{f.message}}" for f in same)
'''


def _path(url: str, base: str) -> str:
    """The recorded URL below the target's base URL (path and query)."""
    parts, prefix = urlsplit(url), urlsplit(base).path.rstrip("/")
    path = parts.path[len(prefix):] if prefix and parts.path.startswith(prefix) else parts.path
    return path + (f"?{parts.query}" if parts.query else "")


def export_pytest(record: Any, failing: list[Finding], options: Any, directory: Path) -> tuple[list[Path], int]:
    """Write one test file per distinct failing finding that one request reproduces; (files written, skipped)."""
    from apiconform.codes import explain
    from apiconform.engine import per_vendor

    suite_of = {id(f): case.suite for case in record.cases for f in case.findings}
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    skipped = 0
    seen: set[str] = set()
    for f in failing:
        if f.fingerprint in seen:
            continue
        seen.add(f.fingerprint)
        exchange = f.exchange or {}
        request = exchange.get("request") or {}
        body = str(request.get("body") or "")
        if suite_of.get(id(f)) not in _SINGLE_REQUEST or not request or body.endswith("…"):
            skipped += 1  # a sequence (stateful, idempotency) or a body cut when recorded: not one request to replay
            continue
        live = f.vendor in options.targets or options.live
        target = record.targets.get(f.vendor) if live else None
        base = target if target else MOCK_BASE_URL
        name = re.sub(r"\W+", "_", f"{f.vendor}_{f.operation}_{f.code}_{f.fingerprint}").lower()
        path = directory / f"test_{name}.py"
        path.write_text(_TEMPLATE.format(
            code=f.code, title=explain(f.code).title if f.code.startswith("AC") and f.code != "AC900" else f.check,
            vendor=f.vendor, operation=f.operation, message=f.message.replace('"""', "'''"), fingerprint=f.fingerprint,
            filename=path.name, target=target, drifts=() if live else per_vendor(options.drifts, f.vendor),
            faults=() if live else per_vendor(options.faults, f.vendor), seed=record.seed,
            expectation=str(exchange.get("expectation") or "positive"),
            request={"method": request.get("method"), "path": _path(str(request.get("url")), base),
                     "headers": dict(request.get("headers") or {}), "body": body or None},
            status=(exchange.get("response") or {}).get("status"), status_is_finding=f.category in _STATUS_IS_THE_FINDING,
            name=name), encoding="utf-8")
        written.append(path)
    return written, skipped
