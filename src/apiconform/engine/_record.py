"""The recorder: the outcome of one test (one suite test × one operation) as it happens — findings (one per
fingerprint), the checks that ran and the categories they covered, statuses, response shapes, enum values and
behaviour (what `apiconform upgrade` compares) — and the `CaseResult` it becomes."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from apiconform.contracts import Operation, slots
from apiconform.engine._judge import login_exchange, without_generated
from apiconform.engine._session import NOT_JSON, Exchange, WriteRefused, exchange_summary
from apiconform.engine._targets import Target
from apiconform.engine.checks import POSITIVE, UNAUTHENTICATED, CheckContext, run_checks
from apiconform.findings import CaseResult, Category, Finding
from apiconform.runrecord import RunRecord

#: header names whose presence says nothing about an API's behaviour (transport, caching by proxies, the clock)
VOLATILE_HEADERS = frozenset({"date", "content-length", "connection", "keep-alive", "transfer-encoding", "age", "via",
                              "server", "expires", "content-encoding", "vary", "alt-svc", "x-served-by", "x-cache"})


@dataclass
class Recorder:
    """Collects the outcome of one test (one suite × one operation): findings, coverage, shapes."""

    target: Target
    operation: Operation
    suite: str
    name: str
    findings: dict[str, Finding] = field(default_factory=dict)
    checks: set[str] = field(default_factory=set)
    categories: set[Category] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)
    own_statuses: list[int] = field(default_factory=list)  # those the caller's own credentials got, in order
    requests: int = 0
    reclassified: int = 0  # generated "negative" cases that were in fact valid
    record: RunRecord = field(default_factory=RunRecord)
    started: float = field(default_factory=time.perf_counter)
    skipped: str = ""
    notes: list[str] = field(default_factory=list)
    sample: dict[str, Any] | None = None  # one redacted request/response, for Allure
    refused: list[str] = field(default_factory=list)  # writes the target's write policy kept from being sent

    def refuse(self, exc: WriteRefused) -> None:
        """A write the policy refused: never silent (the case is skipped with the reason when nothing else ran)."""
        if not self.refused:
            self.notes.append(str(exc))
        self.refused.append(str(exc))

    @functools.cached_property
    def redactor(self) -> Any:
        return self.target.redactor()

    @functools.cached_property
    def reproduce(self) -> Callable[[str], str] | None:
        """The form of every finding's curl in this test (`_reproduce.reproducer`), given to each CheckContext."""
        from apiconform.engine._reproduce import reproducer

        return reproducer(self.target)

    def observe(self, exchange: Exchange, expectation: str, op: Operation | None = None,
                checks: Iterable[str] | None = None, *, known_records: bool = True) -> list[Finding]:
        """Judge one exchange; `known_records`: every path value names a record the run knows exists (False for
        generated ids: a documented 403 is then the vendor's answer about that record, not about the credentials)."""
        op = op or self.operation
        ctx = CheckContext(self.target.contract, op, exchange, expectation, self.redactor, known_records=known_records,
                           reproduce=self.reproduce)
        findings, ran, covered = run_checks(ctx, checks)
        login = login_exchange(self.target.contract, exchange)
        if login is not None:
            login_ctx = CheckContext(self.target.contract, login.operation, login, POSITIVE, self.redactor,
                                     reproduce=self.reproduce)
            login_findings, login_ran, login_covered = run_checks(login_ctx)
            findings, covered = findings + login_findings, covered | login_covered
            ran = ran + [n for n in login_ran if n not in ran]
        if self.sample is None or (findings and not self.findings):
            self.sample = exchange_summary(exchange, ctx.redactor)  # the first failing exchange, else the first
        self.requests += exchange.attempts
        self.checks.update(ran)
        self.categories.update(covered)
        for finding in findings:
            self.findings.setdefault(finding.fingerprint, finding)
        if exchange.status is not None:
            self.statuses.append(exchange.status)
            self._observe_behaviour(op, exchange, expectation)
            body = exchange.json()
            if body is not NOT_JSON:
                shape_body = without_generated(self.target.contract, op, exchange.request, exchange.status, body)
                self.record.observe_response(self.target.vendor, op.label, exchange.status, self.redactor.json(shape_body))
                self._observe_enums(op, exchange.status, body)
            else:
                self.record.observe_response(self.target.vendor, op.label, exchange.status)
        return findings

    def _observe_behaviour(self, op: Operation, exchange: Exchange, expectation: str) -> None:
        """The statuses the caller's own credentials got, content type and header names per status (what
        `apiconform upgrade` compares; never header values). Auth probes record their statuses themselves."""
        vendor, status = self.target.vendor, exchange.status
        if expectation != UNAUTHENTICATED:
            self.record.observe_behaviour(vendor, op.label, "status", status)
            if status is not None:
                self.own_statuses.append(status)
        if exchange.media_type:
            self.record.observe_behaviour(vendor, op.label, f"media {status}", exchange.media_type)
        if exchange.response is not None:
            for name in sorted({n.lower() for n in exchange.response.headers} - VOLATILE_HEADERS):
                self.record.observe_behaviour(vendor, op.label, f"headers {status}", name)

    def add(self, finding: Finding, *categories: Category) -> None:
        self.findings.setdefault(finding.fingerprint, finding)
        self.categories.update(categories or (finding.category,))

    def _observe_enums(self, op: Operation, status: int, body: Any) -> None:
        response = op.response_for(status)
        if response is None or not response.content or status >= 400:
            return
        media = next(iter(response.content.values()))
        if media.schema_pointer is None:
            return
        contract = self.target.contract
        try:
            for slot in slots(contract, body, contract.at(media.schema_pointer)):
                if "enum" in slot.schema and not isinstance(slot.value, (dict, list)):
                    location = f"{status} " + "/".join(str(p) for p in slot.path if not isinstance(p, int))
                    self.record.observe_enum(self.target.vendor, op.label, self.redactor.text(location),
                                             self.redactor.value(slot.value))
        except Exception:  # observation must never break a run
            return

    def result(self) -> CaseResult:
        findings = list(self.findings.values())  # as judged: their curls were made in their final form (reproduce)
        return CaseResult(
            vendor=self.target.vendor,
            operation=self.operation.label,
            suite=self.suite,
            name=self.name,
            findings=findings,
            checks=sorted(self.checks),
            categories=sorted(self.categories, key=lambda c: c.value),
            status=self.statuses[-1] if self.statuses else None,
            duration=time.perf_counter() - self.started,
            skipped=self.skipped or (self.refused[0] if self.refused and not self.requests else ""),
            requests=self.requests,
            statuses=list(self.own_statuses),
        )
