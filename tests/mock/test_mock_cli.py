"""`apiconform mock --port 0` serves on a free port and prints that port (not :0)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

APICONFORM = str(Path(sys.executable).parent / "apiconform")


def test_port_zero_prints_the_port_it_really_listens_on() -> None:
    proc = subprocess.Popen([APICONFORM, "mock", "goodstack", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        match = re.search(r"on http://127\.0\.0\.1:(\d+)", banner)
        assert match and int(match.group(1)) > 0, banner
        url = f"http://127.0.0.1:{match.group(1)}"
        for _ in range(100):
            try:
                answer = httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError(f"nothing answers on {url}")
        assert answer.status_code in (401, 403, 404)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

