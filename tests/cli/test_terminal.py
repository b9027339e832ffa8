"""`apiconform run` typed on a terminal: default options, a real pseudo-terminal, the progress line.

`make gate` and CI have no TTY, so only this test drives the code path a new user hits first
(progress display on, default `--workers 1`). A crash there once showed as INTERNALERROR / exit 2.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

APICONFORM = Path(sys.executable).with_name("apiconform")

pytestmark = pytest.mark.e2e  # whole runs on a pseudo-terminal: `make test-e2e` (CI runs it)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_tty(cwd: Path, *args: str, timeout: float = 240, columns: int = 160) -> tuple[int, str]:
    """Run `apiconform ARGS` with stdin/stdout/stderr on a pseudo-terminal; (exit code, text without ANSI)."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the terminal is its controlling tty
        try:
            os.chdir(cwd)
            os.execv(str(APICONFORM), [str(APICONFORM), *args])
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), ANSI.sub("", b"".join(chunks).decode(errors="replace"))


@pytest.mark.skipif(not APICONFORM.is_file(), reason="apiconform console script not installed beside the interpreter")
@pytest.mark.parametrize(("args", "expected"), [
    ((), 0),
    (("--drift", "field-type-changed"), 1),
])
def test_run_on_a_terminal_shows_progress_and_exits_with_the_gate(tmp_path: Path, args: tuple[str, ...],
                                                                   expected: int) -> None:
    code, text = run_on_tty(tmp_path, "run", "goodstack", *args)
    assert "INTERNALERROR" not in text and "Traceback" not in text and "internal error" not in text, text[-2000:]
    assert code == expected, text[-2000:]
    assert re.search(r"conformance .*\d+/\d+", text), "no progress line on the terminal:\n" + text[-2000:]
    assert ("gate: PASS" if expected == 0 else "gate: FAIL") in text, text[-2000:]
    assert (tmp_path / "reports" / "run.json").is_file()


@pytest.mark.skipif(not APICONFORM.is_file(), reason="apiconform console script not installed beside the interpreter")
def test_summary_fits_80_columns(tmp_path: Path) -> None:
    """On an 80-column terminal the summary grid keeps every header and category whole (no "sta…", "ven…")."""
    code, text = run_on_tty(tmp_path, "run", "goodstack", "ctrlhub", "cofe-cms", "--max-examples", "2", columns=80)
    assert code == 0, text[-2000:]
    grid = [line for line in text.splitlines() if re.match(r"^\s*(category|status-code|field-type|server-error)\b", line)]
    assert len(grid) == 4, text[-3000:]
    assert all(len(line.rstrip()) <= 80 and "…" not in line for line in grid), grid
    assert re.search(r"^\s*cofe-cms\s+ctrlhub\s+goodstack\s*$", text, re.M), text[-3000:]
