"""Report consumers of the engine's event stream (`Engine.events()`): each is called with every event as it
happens, in the order the engine yields them, and never changes what the engine judged.

- `EventLog`: `--events FILE`, the stream as JSON lines (for dashboards and the benchmark's time to first finding).
- `AllureResults`: one Allure result per finished case, written as the case finishes (the CLI runs without pytest,
  so without allure-pytest), with the commands that reproduce its work item; the run's context once the record is
  complete. The commands come from the caller (`commands(item) -> (apiconform run line, pytest line)`): only it
  knows the switches the run was given.

The events are told apart by what they carry (`items`: RunStarted, `outcome`: CaseFinished, else RunFinished): the
engine imports the report's run record, so the report names the engine's types for the type checker only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from apiconform.report._allure import AllureWriter

if TYPE_CHECKING:
    from apiconform.engine import CaseFinished, Event, RunStarted, WorkItem


def _kind(event: Event) -> str:
    """"started" (RunStarted: the plan's items), "case" (CaseFinished: an outcome) or "finished" (RunFinished)."""
    return "started" if hasattr(event, "items") else "case" if hasattr(event, "outcome") else "finished"


class EventLog:
    """`--events FILE`: one line at the start, one per finished case, one at the end (nothing without a path)."""

    def __init__(self, path: Path | None) -> None:
        self.handle = open(path, "w", encoding="utf-8") if path is not None else None  # noqa: SIM115

    def __call__(self, event: Event) -> None:
        if self.handle is None:
            return
        line: dict[str, Any] = {"t": time.time()}
        kind = _kind(event)
        if kind == "started":
            line.update(event="started", items=len(cast("RunStarted", event).items))
        elif kind == "case":
            finished = cast("CaseFinished", event)
            case = finished.outcome.case
            line.update(event="case", vendor=case.vendor, operation=case.operation, suite=case.suite, name=case.name,
                        findings=len(case.findings), requests=case.requests, skipped=bool(case.skipped),
                        done=finished.done, total=finished.total)
        else:
            line.update(event="finished")
        self.handle.write(json.dumps(line) + "\n")
        self.handle.flush()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


class AllureResults:
    """Allure results from the events: a result per `CaseFinished` (its reproduce lines from `commands`), the
    environment and executor at `finish` (a failed write surfaces there, not in the middle of the run)."""

    def __init__(self, results_dir: Path, seed: int, commands: Callable[[WorkItem], tuple[str, str]]) -> None:
        self.writer = AllureWriter(results_dir)
        self.seed = seed
        self.commands = commands

    def __call__(self, event: Event) -> None:
        if _kind(event) == "case":
            outcome = cast("CaseFinished", event).outcome
            run_line, pytest_line = self.commands(outcome.item)
            self.writer.case(outcome.case, outcome.item.key, outcome.sample, run_line, self.seed, pytest_line)

    def finish(self, context: dict[str, str]) -> None:
        self.writer.finish(context)


__all__ = ["AllureResults", "EventLog"]
