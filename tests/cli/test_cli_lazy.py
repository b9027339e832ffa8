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
