"""Allure results written from the engine's event stream (the CLI runs without pytest, so without allure-pytest).

The files follow the Allure 2 results format (`<uuid>-result.json`, `<uuid>-attachment.<ext>`,
`environment.properties`, `categories.json`, `executor.json`), so `allure generate` renders them as it
renders allure-pytest's. Labels: epic = vendor, feature = operation, story = category, suite, severity.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from apiconform.findings import CaseResult

_SEVERITY_ORDER = ["blocker", "critical", "normal", "minor"]


def _id(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class AllureWriter:
    """Writes one Allure result per finished case, as the case finishes."""

    def __init__(self, results_dir: Path) -> None:
        self.dir = results_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.error: OSError | None = None  # the first write that failed (full disk): later cases are not written

    def _write(self, name: str, text: str) -> None:
        """Under a temporary name, then renamed: Allure never reads half a file."""
        from apiconform.runrecord import write_text_atomic

        write_text_atomic(self.dir / name, text)

    def _attach(self, name: str, body: str, mime: str, ext: str) -> dict[str, str]:
        source = f"{uuid.uuid4()}-attachment.{ext}"
        self._write(source, body)
        return {"name": name, "source": source, "type": mime}

    def case(self, case: CaseResult, key: str, sample: dict[str, Any] | None, reproduce: str, seed: int,
             reproduce_pytest: str = "") -> None:
        """One result; a write that fails stops the Allure results (the run goes on; run.json says what it judged)."""
        if self.error is not None:
            return
        try:
            self._case(case, key, sample, reproduce, seed, reproduce_pytest)
        except OSError as exc:
            self.error = exc

    def _case(self, case: CaseResult, key: str, sample: dict[str, Any] | None, reproduce: str, seed: int,
              reproduce_pytest: str = "") -> None:
        status = "failed" if case.findings else "skipped" if case.skipped else "passed"
        stories = sorted({f.category.value for f in case.findings} or {c.value for c in case.categories})
        severity = min((f.severity.value for f in case.findings), default="normal", key=_SEVERITY_ORDER.index)
        labels = [{"name": "epic", "value": case.vendor}, {"name": "feature", "value": case.operation},
                  {"name": "suite", "value": case.suite}, {"name": "severity", "value": severity},
                  {"name": "framework", "value": "apiconform"}]
        labels += [{"name": "story", "value": s} for s in stories]
        attachments = []
        for finding in case.findings[:10]:
            attachments.append(self._attach(f"{finding.code} {finding.category.value}: {finding.check}",
                                            json.dumps(finding.to_dict(), indent=2, default=str), "application/json", "json"))
            if finding.curl:
                attachments.append(self._attach("reproduce (curl)", finding.curl, "text/plain", "txt"))
        if sample is not None:
            attachments.append(self._attach("request / response (redacted)", json.dumps(sample, indent=2, default=str),
                                            "application/json", "json"))
        attachments.append(self._attach("reproduce", reproduce, "text/plain", "txt"))
        if reproduce_pytest:
            attachments.append(self._attach("reproduce (pytest)", reproduce_pytest, "text/plain", "txt"))
        stop = int(time.time() * 1000)
        result: dict[str, Any] = {
            "uuid": str(uuid.uuid4()), "name": key, "fullName": f"{case.vendor}.{case.suite}#{key}",
            "historyId": _id(f"{case.vendor}:{key}"), "testCaseId": _id(key), "status": status,
            "stage": "finished", "start": stop - int(case.duration * 1000), "stop": stop,
            "labels": labels, "attachments": attachments,
            "parameters": [{"name": "vendor", "value": case.vendor}, {"name": "subject", "value": case.operation},
                           {"name": "seed", "value": str(seed)}],
        }
        if case.findings:
            from apiconform.report._groups import root_cause

            # the same lines as a failing pytest test: categories.json matches the `root cause:` lines
            lines = [f"{len(case.findings)} finding(s) for {case.vendor} {case.operation} ({case.suite}):"]
            for f in case.findings[:20]:
                lines += [f"  [{f.category.value}] {f.code} {f.check}: {f.message}", f"      root cause: {root_cause(f)}"]
            result["statusDetails"] = {"message": "\n".join(lines), "trace": "\n".join(lines)}
        elif case.skipped:
            result["statusDetails"] = {"message": case.skipped}
        self._write(f"{result['uuid']}-result.json", json.dumps(result))

    def finish(self, environment: dict[str, str]) -> None:
        """Environment (the run's context) and the executor; `categories.json` (one category per root cause) is
        written with the other reports, from the record (report.write_allure_categories)."""
        lines = [f"{k.replace(' ', '.')}={str(v).replace(chr(10), ' ')}" for k, v in environment.items()]
        if self.error is not None:
            raise self.error
        self._write("environment.properties", "\n".join(lines) + "\n")
        self._write("executor.json", json.dumps({"name": "apiconform", "type": "apiconform"}))


__all__ = ["AllureWriter"]
