"""The reports directory of a run: checked before any request, one run at a time (`reports_lock`), an earlier run's
reports removed before this run writes its first (Allure's history carried over: it draws the Trend), and a report
that cannot be written is one line naming the directory (`writing_reports`)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from apiconform.errors import ConfigError, UsageError

#: what a run writes into its reports directory; an earlier run's copies are removed when a run starts there
REPORT_FILES = ("run.json", "junit.xml", "matrix.json", "matrix.md", "matrix.html", "coverage.json")
LOCK_FILE = ".apiconform.lock"


def clear_previous_reports(reports_dir: Path) -> None:
    """An earlier run's reports never stand beside this run's: they are removed before this run writes anything
    (Allure's history is carried over, it is what draws the Trend). Other files and folders (shards) stay."""
    from apiconform.report._allure_html import keep_allure_history

    history = reports_dir / "allure-results" / "history"
    with writing_reports(reports_dir):
        keep_allure_history(reports_dir)  # Allure's Trend: the last report's history feeds the next one
        for name in REPORT_FILES:
            (reports_dir / name).unlink(missing_ok=True)
        for leftover in reports_dir.glob(".*"):  # a temporary file an earlier, killed run left half-written
            if leftover.name.startswith(tuple(f".{name}." for name in REPORT_FILES)) and leftover.is_file():
                leftover.unlink(missing_ok=True)
        shutil.rmtree(reports_dir / "allure-report", ignore_errors=True)
        results = reports_dir / "allure-results"
        if results.is_dir():
            for entry in results.iterdir():
                if entry != history:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)


@contextlib.contextmanager
def reports_lock(reports_dir: Path) -> Iterator[None]:
    """One run at a time per reports directory: a second run refuses (exit 2) rather than mixing its reports with
    the first's. An advisory lock (`flock`) on `.apiconform.lock` there, released when the run ends or dies."""
    import os

    try:
        import fcntl
    except ImportError:  # no flock (Windows): runs are not serialised there
        yield
        return
    with writing_reports(reports_dir):
        handle = open(reports_dir / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise UsageError(f"--reports-dir {reports_dir}: another apiconform run (pid {holder}) is writing there; "
                             f"wait for it or give this run its own --reports-dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


@contextlib.contextmanager
def writing_reports(reports_dir: Path) -> Iterator[None]:
    """A report that cannot be written (read-only directory, full disk) is one line naming the directory, exit 2."""
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise ConfigError(f"--reports-dir {reports_dir}: cannot write the reports: {exc.strerror or exc}{where}") from None


def check_reports_dir(path: Path) -> None:
    """The reports directory exists (or can be created) and is writable - checked before any request."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".apiconform-write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"--reports-dir {path}: not writable ({exc.strerror or exc})") from None


__all__ = ["LOCK_FILE", "REPORT_FILES", "check_reports_dir", "clear_previous_reports", "reports_lock", "writing_reports"]
