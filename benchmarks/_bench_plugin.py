"""pytest plugin used by benchmarks/run.py (loaded with PYTEST_ADDOPTS="-p _bench_plugin", PYTHONPATH=benchmarks).

It never changes a verdict. It records, into $APICONFORM_BENCH_DIR/<role>-<pid>.json:
- `wire`: HTTP requests this process put through httpx (every Client._send_single_request: generated cases,
  discovery lists, auth logins/refreshes, retries), counted per process (xdist workers included when they
  load this plugin);
- on the controller: `first_failure` (epoch seconds when the first failing test report arrived),
  `recorded_requests` (the per-test request counts apiconform puts in user_properties) and test counts.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

_state: dict[str, Any] = {"wire": 0, "first_failure": None, "recorded_requests": 0, "reports": 0, "failed": 0,
                          "loaded": time.time()}


def _patch_httpx() -> None:
    import httpx

    if getattr(httpx.Client._send_single_request, "_bench_counted", False):
        return
    original = httpx.Client._send_single_request

    def counted(self: Any, request: Any) -> Any:
        _state["wire"] += 1
        return original(self, request)

    counted._bench_counted = True  # type: ignore[attr-defined]
    httpx.Client._send_single_request = counted  # type: ignore[method-assign]


_patch_httpx()


def pytest_runtest_logreport(report: Any) -> None:
    if report.when != "call" and not (report.when == "setup" and not report.passed):
        return
    _state["reports"] += 1
    if report.failed:
        _state["failed"] += 1
        if _state["first_failure"] is None:
            _state["first_failure"] = time.time()
    for key, value in getattr(report, "user_properties", ()):
        if key == "apiconform_obs":
            try:
                _state["recorded_requests"] += int(json.loads(value).get("requests", 0))
            except (ValueError, TypeError, AttributeError):
                pass


def pytest_unconfigure(config: Any) -> None:
    out = os.environ.get("APICONFORM_BENCH_DIR")
    if not out:
        return
    role = "worker" if hasattr(config, "workerinput") else "controller"
    with open(os.path.join(out, f"{role}-{os.getpid()}.json"), "w", encoding="utf-8") as fh:
        json.dump(dict(_state, role=role, pid=os.getpid()), fh)
