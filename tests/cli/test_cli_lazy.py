"""`apiconform --help` starts fast: subcommands and the contract lint are imported only when used."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner


def test_help_lists_every_command_with_its_own_help_without_importing_them() -> None:
    code = ("import sys\nfrom click.testing import CliRunner\nfrom apiconform.cli import main\n"
            "out = CliRunner().invoke(main, ['--help']).output\n"
            "heavy = [m for m in ('apiconform.engine', 'apiconform.gate._run', 'openapi_spec_validator', 'schemathesis',"
            " 'hypothesis', 'httpx', 'pytest', 'pydantic') if m in sys.modules]\n"
            "assert not heavy, heavy\nprint(out)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from apiconform.cli import LAZY_COMMANDS, main

    for name in LAZY_COMMANDS:
        assert name in proc.stdout
    ctx = click.Context(main)
    for name, (_, _, short) in LAZY_COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.get_short_help_str(200) == short, name


def test_lazy_commands_still_run() -> None:
    from apiconform.cli import main

    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0 and "--suite" in result.output
    result = CliRunner().invoke(main, ["contracts", "list"])
    assert result.exit_code == 0 and "eduframe" in result.output


_FIRST_REQUEST = """
import os, runpy, socket, sys
HEAVY = sys.argv[1].split(",")
def connect(self, address):
    from apiconform.engine import _deadline
    loaded = sorted(m for m in HEAVY if m in sys.modules)
    print("LOADED", ",".join(loaded), "TLS", _deadline._ssl_context.cache_info().currsize, flush=True)
    os._exit(0)
socket.socket.connect = connect
sys.argv = ["apiconform", *sys.argv[2:]]
runpy.run_module("apiconform", run_name="__main__")
"""


def test_a_run_reaches_its_first_request_without_the_libraries_only_later_steps_need(served_mock, tmp_path) -> None:
    """`apiconform run` against a live target, stopped at its first connection (the preflight): the lint and
    referencing (only a schema compiled by jsonschema or another file's `$ref` needs it), jsonschema, PyYAML (the
    parsed and the loaded document are cached), pydantic (no configuration file), importlib.metadata, rich (the
    summary), the report writers, hypothesis and schemathesis are not imported yet, and no TLS context was built
    for an http:// target. Twice: the first run fills the caches a kept CI cache holds."""
    import os

    url = served_mock("eduframe")
    heavy = ("referencing", "jsonschema", "yaml", "pydantic", "importlib.metadata", "rich", "openapi_spec_validator",
             "hypothesis", "schemathesis", "apiconform.report._junit", "apiconform.report._html", "attrs")
    command = [sys.executable, "-c", _FIRST_REQUEST, ",".join(heavy), "run", "eduframe", "--target",
               f"eduframe={url}", "--suite", "properties", "--workers", "1", "--max-examples", "1", "--operation",
               "list_accounts", "--reports-dir", str(tmp_path / "reports"), "--no-progress", "--no-allure"]
    env = {**os.environ, "APICONFORM_CACHE_DIR": str(tmp_path / "cache"),
           "APICONFORM_EDUFRAME_TOKEN": "mock-eduframe-token"}
    for _ in range(2):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        line = next(line for line in proc.stdout.splitlines() if line.startswith("LOADED"))
        assert line == "LOADED  TLS 0", line
