"""Judging a client's own traffic: every exchange any client had with a vendor, checked against its contract.

`TrafficJudge` is fed finished exchanges (an httpx request and the answer the client got), from the proxy, the
httpx transport or the pytest fixture. Each is matched to the contract's operation by method and path (a
base path in front of the contract's paths is allowed), judged by the engine's own checks as a run would judge
it (`engine._record.Recorder`: findings with their categories, statuses, shapes, enum coverage), and kept as a
redacted HAR entry. `record()` is a run record, so every report writer renders it as it renders a run.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from apiconform.contracts import Contract, Operation, load_contract
from apiconform.engine import Exchange, Recorder, Safety, Target, judge
from apiconform.engine.checks import UNAUTHENTICATED
from apiconform.findings import Finding
from apiconform.redact import MASK
from apiconform.runrecord import RunRecord, now_iso
from apiconform.traffic._har import har_entry, write_cassette

SUITE = "traffic"


def find_operation(contract: Contract, method: str, raw_path: str) -> Operation | None:
    """The contract's operation for a request: method and path, the path matched whole or after a base path
    (`/v1` + `/users/{id}`); of several matches the most literal (fewest parameters) wins."""
    method = method.lower()
    path = raw_path.split("?", 1)[0] or "/"
    tails = [path[i:] for i in range(len(path)) if path[i] == "/"]
    for tail in tails:  # the longest tail first: a base path is only cut when the whole path does not match
        found = [op for op in contract if op.method == method and op.match_path(tail) is not None]
        if not found and tail.endswith("/") and len(tail) > 1:
            found = [op for op in contract if op.method == method and op.match_path(tail.rstrip("/")) is not None]
        if found:
            return min(found, key=lambda op: len(op.path_params()))
    return None


class TrafficJudge:
    """Judges and records every exchange of one vendor's traffic (thread-safe: a proxy serves many clients)."""

    def __init__(self, vendor: str, base_url: str = "", contract: Contract | None = None) -> None:
        self.contract = contract or load_contract(vendor)
        self.target = Target(vendor, self.contract, base_url or "http://client.invalid", "http", {}, Safety())
        self.redactor = self.target.redactor()
        self.record = RunRecord()
        self.record.targets = {vendor: self.redactor.url(base_url) if base_url else "client traffic"}
        self.record.suites = [SUITE]
        self.entries: list[dict[str, Any]] = []
        self.unmatched: list[str] = []  # "METHOD path" of requests the contract has no operation for
        self._recorders: dict[str, Recorder] = {}
        self._clear: dict[str, dict[str, Any]] = {}  # a value seen in clear -> where first (entry, side, pointer)
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self.record.started = now_iso()

    @property
    def vendor(self) -> str:
        return self.target.vendor

    def observe(self, request: httpx.Request, response: httpx.Response | None, body: bytes | None = None,
                elapsed: float = 0.0, error: str = "") -> list[Finding]:
        """Judge one finished exchange and record it; returns the findings it raised (none for an unknown
        operation, which is listed in `unmatched`). `body`: the answer's bytes (default: `response.content`)."""
        raw = body if body is not None else (response.content if response is not None else b"")
        with self._lock:
            self.redactor.learn_request(request)
            op = find_operation(self.contract, request.method, request.url.raw_path.decode("latin-1"))
            exchange = Exchange(op, request, response, body=raw, elapsed=elapsed) if op is not None else None
            if exchange is not None and error:
                exchange.error = error
            answer = exchange.json() if exchange is not None else None
            if isinstance(answer, (dict, list)):
                self.redactor.learn_json(answer)  # tokens a login hands out, before anything is written
            findings: list[Finding] = []
            if op is None or exchange is None:
                self.unmatched.append(f"{request.method} {self.redactor.url(str(request.url.copy_with(query=None)))}")
            else:
                recorder = self._recorders.get(op.label)
                if recorder is None:
                    recorder = Recorder(self.target, op, SUITE, f"{SUITE}[{op.label}]", record=self.record)
                    self._recorders[op.label] = recorder
                findings = recorder.observe(exchange, self.expectation(op, request, exchange.status))
            entry = har_entry(request, response, raw, self.redactor, elapsed,
                              op.operation_id if op is not None else None, error)
            self._note_carried(entry, request, answer)
            self.entries.append(entry)
            return findings

    def _note_carried(self, entry: dict[str, Any], request: httpx.Request, answer: Any) -> None:
        """A request body member the recording masks (a sensitive name, e.g. a lock `token`) whose value the
        traffic showed in clear before (an earlier request's `task_id`, an answer's member): the entry names
        that place (`_carried`: pointer -> {entry, side, pointer}), never the value, so a replay can carry it."""
        from apiconform.contracts import walk

        try:
            sent = json.loads(request.content) if request.content else None
        except (ValueError, UnicodeDecodeError):
            sent = None
        index = len(self.entries)
        carried: dict[str, dict[str, Any]] = {}
        if isinstance(sent, (dict, list)):
            from apiconform.contracts import resolve

            masked = json.loads(entry["request"].get("postData", {}).get("text") or "null")
            for ptr, value in walk(sent):
                if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) in self._clear \
                        and resolve(masked, ptr) == MASK:
                    carried[ptr] = self._clear[str(value)]
        if carried:
            entry["_carried"] = carried
        from apiconform.contracts import resolve

        recorded = {"request": (entry["request"].get("postData") or {}).get("text"),
                    "response": entry["response"]["content"].get("text")}
        for side, body in (("request", sent), ("response", answer)):
            if not isinstance(body, (dict, list)):
                continue
            try:
                kept = json.loads(recorded[side] or "null")
            except ValueError:
                continue
            for ptr, value in walk(body):
                if isinstance(value, (str, int)) and not isinstance(value, bool) and len(str(value)) >= 8 \
                        and str(value) not in self._clear and resolve(kept, ptr) == value:  # in clear in the recording
                    self._clear[str(value)] = {"entry": index, "side": side, "pointer": ptr}

    def expectation(self, op: Operation, request: httpx.Request, status: int | None = None) -> str:
        """What a conformant vendor must do with this request: a secured operation called without any of the
        credentials its auth flow puts on the wire must be refused; otherwise as the contract judges it.
        A client's credentials are not known to be valid (a token expires, a lock token is not the holder's):
        a 401/403 the operation documents is the vendor refusing them, not a finding."""
        from apiconform.auth import owned_parameters

        owned = owned_parameters(self.contract)
        secured = bool(op.security) and not any(not r for r in op.security)
        carried = any(h.lower() in owned.headers for h in request.headers) or any(
            q in owned.query for q in request.url.params)
        if secured and (owned.headers or owned.query) and not carried:
            return UNAUTHENTICATED
        if secured and status in (401, 403) and str(status) in op.responses:
            return UNAUTHENTICATED
        return judge(self.contract, op, request)

    @property
    def findings(self) -> list[Finding]:
        with self._lock:
            return [f for r in self._recorders.values() for f in r.findings.values()]

    def run_record(self) -> RunRecord:
        """The traffic as a run record: one case per operation the traffic used, coverage of the rest."""
        from apiconform.engine import documented_enums

        with self._lock:
            record = self.record
            record.cases = []
            for recorder in self._recorders.values():
                record.add_case(recorder.result())
            record.vendors = [self.vendor]
            for op in self.contract:
                record.document_operation(self.vendor, op.label, list(op.responses), documented_enums(self.contract, op))
            record.finished = now_iso()
            record.duration = round(time.monotonic() - self._started, 3)
            if self.unmatched:
                record.context["unmatched requests"] = str(len(self.unmatched))
            return record

    def write(self, har: Path | None = None, reports_dir: Path | None = None) -> list[Path]:
        """Write the recording (HAR) and/or the reports (run.json, JUnit, matrix, coverage); returns the paths."""
        written: list[Path] = []
        if har is not None:
            with self._lock:
                entries = list(self.entries)
            write_cassette(har, self.vendor, entries)
            written.append(har)
        if reports_dir is not None:
            from apiconform.report import write_reports

            record = self.run_record()
            reports_dir.mkdir(parents=True, exist_ok=True)
            written.append(record.write(reports_dir / "run.json"))
            written += write_reports(record, reports_dir)
        return written

    def summary(self) -> str:
        """One line: exchanges, operations, findings, unmatched requests."""
        with self._lock:
            ops = len(self._recorders)
            count = sum(len(r.findings) for r in self._recorders.values())
            exchanges = len(self.entries)
        tail = f", {len(self.unmatched)} not in the contract" if self.unmatched else ""
        return f"{self.vendor}: {exchanges} exchanges, {ops} operations, {count} findings{tail}"


__all__ = ["SUITE", "TrafficJudge", "find_operation"]
