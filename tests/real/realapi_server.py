"""Real third-party API servers from `../shared/real-apis/<kit>/` as test targets, parameterised by kit.

Reusable outside this folder: `from tests.real.realapi_server import RealApi, start` (or the `realapi`
fixture in tests/real/conftest.py). Every kit has the same interface (its README): `setup.sh` (idempotent,
a cached venv under `~/.cache/realapi-<kit>`), `start.sh PORT` (writes `run-PORT/credentials.json`),
`seed.py PORT` (realistic data through the server's own API, idempotent), `stop.sh PORT`. This module knows
the kit names and their port ranges only; what it hands a test is generic: the base URL, the URL of the
description the server serves, and HTTP Basic credentials as apiconform's default env variables
(`APICONFORM_<VENDOR>_USERNAME` / `_PASSWORD`).

Ports: a free one from the kit's range (`REALAPI_PORTS_<KIT>` overrides, e.g. `19400-19449`), reserved with a
lock file so that parallel pytest workers never pick the same one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
KITS_DIR = (REPO / ".." / "shared" / "real-apis").resolve()
PORTS = {"kinto": (19400, 19449), "prefect": (19450, 19499)}  # the ranges this project's tests may use
_HELD: dict[int, Any] = {}


def kit_dir(kit: str) -> Path:
    return KITS_DIR / kit


def available(kit: str) -> bool:
    return (kit_dir(kit) / "start.sh").is_file()


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(kit: str) -> int:
    import fcntl

    low, high = PORTS[kit]
    spec = os.environ.get(f"REALAPI_PORTS_{kit.upper()}")
    if spec:
        low, high = (int(x) for x in spec.split("-"))
    locks = Path(os.environ.get("TMPDIR", "/tmp")) / "apiconform-realapi-ports"
    locks.mkdir(exist_ok=True)
    for port in range(low, high + 1):
        handle = open(locks / f"{port}.lock", "w")  # noqa: SIM115 - held while the server runs
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        if _free(port):
            _HELD[port] = handle
            return port
        handle.close()
    raise RuntimeError(f"no free port for {kit} in {low}-{high}")


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


@dataclass
class RealApi:
    """One running kit server."""

    kit: str
    port: int
    credentials: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return str(self.credentials["base_url"])

    @property
    def spec_url(self) -> str:
        return str(self.credentials["spec_url"])

    @property
    def user(self) -> tuple[str, str]:
        """The (first) HTTP Basic user of the kit: the one that may do everything."""
        auth = self.credentials["auth"]
        if "users" in auth:
            first = auth["users"][0]
            return str(first["user"]), str(first["password"])
        return str(auth["user"]), str(auth["password"])

    @property
    def users(self) -> list[tuple[str, str]]:
        """Every HTTP Basic user the kit signed up."""
        auth = self.credentials["auth"]
        return [(str(u["user"]), str(u["password"])) for u in auth.get("users", [auth])]

    def log(self) -> Path:
        return work_dir(self.kit) / f"run-{self.port}" / "server.log"

    def env(self, vendor: str | None = None) -> dict[str, str]:
        """The environment a gate run needs: apiconform's default credential variables for `vendor`."""
        name = (vendor or self.kit).upper().replace("-", "_")
        user, password = self.user
        return {**os.environ, f"APICONFORM_{name}_USERNAME": user, f"APICONFORM_{name}_PASSWORD": password}

    def seed(self, attempts: int = 3) -> None:
        """The kit's seed (idempotent), tried again when it fails: Prefect's SQLite answers 503 'database is locked'
        while its own services write, more often than the seed's own retries absorb on a loaded machine."""
        began = time.monotonic()
        for attempt in range(attempts):
            try:
                _run(["python3", str(kit_dir(self.kit) / "seed.py"), str(self.port)], timeout=300)
                break
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                time.sleep(5.0)
        self.timings["seed"] = time.monotonic() - began

    def stop(self) -> None:
        try:
            _run(["bash", str(kit_dir(self.kit) / "stop.sh"), str(self.port)], timeout=120)
        finally:
            handle = _HELD.pop(self.port, None)
            if handle is not None:
                handle.close()


def _version_env(kit: str, version: str | None, pip_constraint: str | None = None) -> dict[str, str] | None:
    """The environment that picks another release of the kit's server (`PREFECT_VERSION=3.4.19`), None: the pinned one.
    `pip_constraint`: a pip constraints file its setup installs under (`PIP_CONSTRAINT`: the dependencies as they were
    when an old release came out)."""
    env = {**os.environ, f"{kit.upper()}_VERSION": version} if version else None
    if pip_constraint:
        env = {**(env or os.environ), "PIP_CONSTRAINT": pip_constraint}
    return env


def work_dir(kit: str) -> Path:
    """The kit's cache dir: venvs, and one `run-PORT` dir (state, logs, credentials) per port."""
    env = {"kinto": "KINTO_WORK", "prefect": "PREFECT_KIT_WORK"}[kit]
    return Path(os.environ.get(env) or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / f"realapi-{kit}")


def setup(kit: str, version: str | None = None, pip_constraint: str | None = None) -> float:
    """The kit's idempotent setup (a cached venv per release); seconds it took."""
    began = time.monotonic()
    _run(["bash", str(kit_dir(kit) / "setup.sh")], timeout=900, env=_version_env(kit, version, pip_constraint))
    return time.monotonic() - began


def start(kit: str, *, seed: bool = True, version: str | None = None, fresh: bool = False,
          pip_constraint: str | None = None) -> RealApi:
    """Set the kit up (cached), start its server (`version`: another release the kit runs) on a free port of its
    range, seed it. `fresh`: on an empty database (the port's state from earlier runs removed first), so two
    servers hold the same seeded data and nothing an earlier run left."""
    timings = {"setup": setup(kit, version, pip_constraint)}
    port = pick_port(kit)
    if fresh:
        import shutil

        shutil.rmtree(work_dir(kit) / f"run-{port}", ignore_errors=True)  # our port (locked), no server on it
    began = time.monotonic()
    try:
        out = _run(["bash", str(kit_dir(kit) / "start.sh"), str(port)], timeout=300, env=_version_env(kit, version))
    except Exception:
        handle = _HELD.pop(port, None)
        if handle is not None:
            handle.close()
        raise
    timings["start"] = time.monotonic() - began
    marker = next((line for line in out.splitlines() if "credentials:" in line), "")
    path = Path(marker.rsplit("credentials:", 1)[1].strip()) if marker else None
    if path is None or not path.is_file():
        raise RuntimeError(f"{kit} start.sh printed no credentials file: {out[-1000:]}")
    server = RealApi(kit, port, json.loads(path.read_text()), timings)
    if seed:
        try:
            server.seed()
        except Exception:
            server.stop()
            raise
    return server
