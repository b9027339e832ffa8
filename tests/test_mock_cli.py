"""`apiconform mock --port 0` serves on a free port and prints that port (not :0); a port in use is one line."""

from __future__ import annotations

import re
import socket
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


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run([APICONFORM, "mock", "goodstack", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"--port {port}: cannot listen" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
