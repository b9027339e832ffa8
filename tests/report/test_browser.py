"""matrix.html and the Allure report opened from disk (file://) in a real headless Chromium, as a person opens a
CI artifact: the DOM after the page ran must show what the reports promise (per finding the request and the
response, its code, suite and expectation; Allure's tests and one category per root cause), never
"Failed to fetch". Chromium is Debian's `chromium` (.ci/run installs it); without it these tests skip."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

APICONFORM = Path(sys.executable).with_name("apiconform")


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                       "--no-install-recommends chromium", shell=True, capture_output=True, timeout=900)
        found = shutil.which("chromium")
    return found


def render(url: str, *extra: str, budget_ms: int = 15000) -> str:
    """The DOM of `url` after its scripts ran (headless, sandbox off, no network, a fresh profile)."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed and cannot be (needs apt-get as root)")
    with tempfile.TemporaryDirectory(prefix="apiconform-chromium-") as profile:
        proc = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", "--no-default-browser-check", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             f"--virtual-time-budget={budget_ms}", *extra, "--dump-dom", url],
            capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("browser")
    proc = subprocess.run([str(APICONFORM), "run", "goodstack", "ctrlhub", "--drift", "enum-value-changed",
                           "--max-examples", "2", "--no-progress"], cwd=work, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    return work / "reports"


def test_matrix_html_from_disk_shows_request_response_code_and_expectation(reports: Path) -> None:
    dom = render((reports / "matrix.html").as_uri())
    record = json.loads((reports / "run.json").read_text(encoding="utf-8"))
    finding = next(f for c in record["cases"] for f in c["findings"] if f["code"] == "AC602")
    assert "AC602" in dom and "apiconform explain AC602" in dom
    assert "expectation <strong>positive</strong>" in dom and "suite" in dom
    assert "POST http://" in dom and "HTTP 200" in dom  # the request line and the answer's status line
    assert "content-type: application/json" in dom and "authorization: [REDACTED]" in dom
    assert "pending_v2" in dom and '"status": "pending_v2"' in dom  # the answer body, pretty JSON
    assert "None" not in dom.split("<h2>Coverage")[0].replace("none", "")  # JSON values, never Python's None
    assert finding["exchange"]["request"]["method"] == "POST"
    assert "reproduce the whole run" in dom and "<dl class=\"kv run-meta\">" in dom
    shot = reports / "matrix.png"
    render((reports / "matrix.html").as_uri(), f"--screenshot={shot}", "--window-size=1280,900")
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one


def test_allure_report_from_disk_lists_tests_and_root_causes(reports: Path) -> None:
    index = reports / "allure-report" / "index.html"
    if not index.is_file():
        pytest.skip("the Allure CLI is not installed (`make allure`)")
    assert not (reports / "allure-report" / "data").exists(), "a single-file report has no data/ to fetch"
    categories = render(index.as_uri() + "#categories", budget_ms=30000)
    assert "Failed to fetch" not in categories and "500" not in categories.split("<body")[-1][:200]
    groups = json.loads((reports / "allure-results" / "categories.json").read_text(encoding="utf-8"))
    root_causes = [g["name"] for g in groups if g["name"].startswith("AC")]
    assert root_causes and all(name in categories for name in root_causes), (root_causes, categories[-3000:])
    overview = render(index.as_uri(), budget_ms=30000)
    results = len(list((reports / "allure-results").glob("*-result.json")))
    text = " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", overview, flags=re.S)).split())
    assert "Failed to fetch" not in text and f"{results} test cases" in text, text[:2000]
