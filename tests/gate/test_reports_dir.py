"""The reports directory of `apiconform run`: one run at a time, no earlier run's files beside this run's, and a
directory that cannot be written is one line (issue 23)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from apiconform.errors import ConfigError, UsageError
from apiconform.report import clear_previous_reports, reports_lock


def test_a_second_run_cannot_take_a_locked_reports_directory(tmp_path: Path) -> None:
    with reports_lock(tmp_path):
        with pytest.raises(UsageError, match=rf"another apiconform run \(pid {os.getpid()}\) is writing there"):
            with reports_lock(tmp_path):
                pass
    with reports_lock(tmp_path):  # released when the run ends
        pass


def test_clearing_removes_only_an_earlier_runs_reports(tmp_path: Path) -> None:
    for name in ("run.json", "junit.xml", "matrix.json", "matrix.md", "matrix.html", "coverage.json", ".run.json.x1y2",
                 "notes.txt"):
        (tmp_path / name).write_text("earlier")
    for folder in ("allure-results", "allure-report/history", "shard-1"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "allure-results" / "old-result.json").write_text("{}")
    (tmp_path / "allure-report" / "history" / "history-trend.json").write_text("[]")
    clear_previous_reports(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["allure-results", "notes.txt", "shard-1"]
    # Allure's Trend survives: the last report's history is carried into the new results
    assert [p.name for p in (tmp_path / "allure-results").rglob("*") if p.is_file()] == ["history-trend.json"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_read_only_reports_directory_is_one_line(tmp_path: Path) -> None:
    from apiconform.report import check_reports_dir

    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="not writable"):
            check_reports_dir(tmp_path / "reports")
    finally:
        tmp_path.chmod(0o700)


def test_a_full_disk_while_writing_reports_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC from the report writers (write_text_atomic): a ConfigError naming the directory, never a traceback."""
    import apiconform.runrecord as run_module
    from apiconform.gate._run import RunOptions, execute

    def full(path: Path, text: str) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_module, "write_text_atomic", full)
    options = RunOptions(vendors=["goodstack"], suites=["examples"], reports_dir=tmp_path / "reports", allure=False,
                         progress=False)
    with pytest.raises(ConfigError) as caught:
        execute(options)
    message = str(caught.value)
    assert message.startswith(f"--reports-dir {tmp_path / 'reports'}: cannot write the reports: No space left on device")
    assert "\n" not in message


def _mount_tmpfs(where: Path, options: str) -> bool:
    """A real small or read-only filesystem (root only; False where mounting is not allowed)."""
    import shutil
    import subprocess

    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True).returncode == 0


@pytest.mark.e2e
@pytest.mark.parametrize(("options", "expected"), [("size=16k", "cannot write the reports: No space left on device"),
                                                   ("ro,size=16k", "not writable (Read-only file system)")],
                         ids=["full-disk", "read-only"])
def test_a_real_full_or_read_only_filesystem_is_one_line(tmp_path: Path, options: str, expected: str) -> None:
    import subprocess
    import sys

    mount = tmp_path / "fs"
    if not _mount_tmpfs(mount, options):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        proc = subprocess.run([str(Path(sys.executable).parent / "apiconform"), "run", "goodstack",
                               "--no-allure", "--reports-dir", str(mount / "reports")], cwd=tmp_path,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.splitlines() == [f"apiconform: error: --reports-dir {mount / 'reports'}: {expected}"], proc.stderr
