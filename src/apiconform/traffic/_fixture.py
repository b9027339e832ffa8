"""What the pytest fixture `apiconform_traffic` hands a test: transports that judge its own client's traffic."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from apiconform.findings import Finding
from apiconform.traffic._judge import TrafficJudge
from apiconform.traffic._transport import AsyncRecordingTransport, RecordingTransport


class ClientTraffic:
    """Transports for one test: every exchange through them is judged against the vendor's contract and
    recorded. `failures()` lists the findings; the fixture fails the test with them when it ends."""

    def __init__(self, name: str, record_dir: Path | None = None) -> None:
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "test"
        self.record_dir = record_dir
        self.judges: dict[str, TrafficJudge] = {}

    def judge(self, vendor: str, base_url: str = "") -> TrafficJudge:
        if vendor not in self.judges:
            self.judges[vendor] = TrafficJudge(vendor, base_url)
        return self.judges[vendor]

    def transport(self, vendor: str, inner: httpx.BaseTransport | None = None) -> RecordingTransport:
        """An httpx transport for `httpx.Client(transport=...)` (`inner`: the one that really sends; default
        httpx's own, or e.g. `httpx.ASGITransport`/`httpx.MockTransport`)."""
        return RecordingTransport(self.judge(vendor), inner)

    def async_transport(self, vendor: str, inner: httpx.AsyncBaseTransport | None = None) -> AsyncRecordingTransport:
        return AsyncRecordingTransport(self.judge(vendor), inner)

    @property
    def findings(self) -> list[Finding]:
        return [f for judge in self.judges.values() for f in judge.findings]

    def failures(self) -> list[str]:
        """One line per finding, then the requests no operation of the contract matches."""
        lines = [f"[{f.category.value}] {f.operation}: {f.message}" for f in self.findings]
        lines += [f"[not in the contract] {judge.vendor}: {u}" for judge in self.judges.values() for u in judge.unmatched]
        return lines

    def save(self) -> list[Path]:
        """Each vendor's recording as `<record_dir>/<test>-<vendor>.har` (when a directory was given)."""
        if self.record_dir is None:
            return []
        return [p for vendor, judge in self.judges.items()
                for p in judge.write(har=self.record_dir / f"{self.name}-{vendor}.har")]


__all__ = ["ClientTraffic"]
