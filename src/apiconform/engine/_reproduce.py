"""A finding against an embedded mock, made reproducible by hand: the `apiconform mock` line that starts an
equivalent mock (same vendor, drifts, faults and seed) on loopback, then the curl against it. Every consumer
(`apiconform run`, the pytest plugin, `apiconform.run()`) gets the same line, made where the case ends."""

from __future__ import annotations

import shlex
from collections.abc import Callable

from apiconform.engine._targets import MOCK_BASE_URL, Target

__all__ = ["MOCK_PORT", "mock_reproduction", "reproducer"]

MOCK_PORT = 8100  # `apiconform mock`'s default port: the reproduction is copy-pasteable as it is
_NOISE_HEADERS = {"user-agent", "accept-encoding", "accept", "connection"}


def mock_reproduction(curl: str, vendor: str, drifts: tuple[str, ...], faults: tuple[str, ...], seed: int) -> str:
    """A finding's curl against the in-process mock, made standalone: the `apiconform mock` line, then the curl
    on 127.0.0.1, without the client's default and fuzzing headers (X-Schemathesis-*) and binary bodies inline.
    `drifts`/`faults` are this vendor's (`VENDOR:` prefixes already taken off)."""
    from apiconform.contracts import team_contracts_args

    if curl.startswith("apiconform mock") or MOCK_BASE_URL not in curl:
        return curl
    try:
        argv = shlex.split(curl)
    except ValueError:
        return curl
    mock = ["apiconform", "mock", vendor, *team_contracts_args(), "--port", str(MOCK_PORT)]
    mock += [f"--drift={d}" for d in drifts]
    mock += [f"--fault={f}" for f in faults]
    mock.append(f"--seed={seed}")
    out: list[str] = []
    note = ""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-H" and i + 1 < len(argv):
            name = argv[i + 1].split(":", 1)[0].strip().lower()
            if name not in _NOISE_HEADERS and not name.startswith("x-schemathesis"):
                out += [arg, argv[i + 1]]
            i += 2
            continue
        if arg in ("--data-raw", "--data-binary", "-d") and i + 1 < len(argv):
            body = argv[i + 1]
            if len(body) > 2000 or any(ord(c) < 32 and c not in "\t\n\r" for c in body) or "\ufffd" in body:
                out += ["--data-binary", "@body.bin"]
                note = "  # body.bin: the request body, not shown (binary or large; see the sample in Allure/run.json)"
            else:
                out += [arg, body]
            i += 2
            continue
        out.append(arg.replace(MOCK_BASE_URL, f"http://127.0.0.1:{MOCK_PORT}"))
        i += 1
    return " ".join(shlex.quote(a) for a in mock) + " &\n" + " ".join(shlex.quote(a) for a in out) + note


def reproducer(target: Target) -> Callable[[str], str] | None:
    """How a finding's curl reads for `target`, given to the checks (`CheckContext.reproduce`) so the curl is made
    once, in its final form, when the finding is: an embedded mock's made standalone; None (as sent) for the rest."""
    if target.mock_spec is None:
        return None
    drifts, faults, seed = target.mock_spec
    vendor = target.vendor
    return lambda curl: mock_reproduction(curl, vendor, drifts, faults, seed)
