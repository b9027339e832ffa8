"""The REAL TeSLA CE server (PyPI tesla-ce 1.0.10, unmodified) as a test target.

Reusable outside this folder: `from tests.real.tesla_server import start_server` (or the
`tesla_real` fixture in tests/real/conftest.py). It drives the scripts in
`<repo>/../shared/real-vendors/tesla-ce/` (setup.sh once into a cached venv, start.sh PORT,
stop.sh PORT), runs each session on a fresh SQLite/Vault state in a temporary TESLA_WORK (the venv
is linked from the cache), seeds realistic data with the vendor's own models (seed_tesla.py) and
hands out the provider's AppRole credentials under apiconform's default env var names.

Environment: TESLA_REAL_CACHE (venv cache, default ~/.cache/tesla-ce-real), TESLA_REAL_PORTS
(port range to pick a free one from, default 18000-18049; PORT+200 is the Vault stand-in's).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENDOR = "tesla-ce"
ENV_PREFIX = "APICONFORM_TESLA_CE_"  # apiconform's default credential env var names for this vendor


def vendor_dir() -> Path:
    """Where the real-vendor scripts are: beside the repository, as CI clones it."""
    return (REPO / ".." / "shared" / "real-vendors" / "tesla-ce").resolve()


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tesla-ce-real"
    return Path(os.environ.get("TESLA_REAL_CACHE", default))


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is free
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_HELD: dict[int, Any] = {}  # port -> its lock file, held while this process runs a server there


def pick_port() -> int:
    """A port in TESLA_REAL_PORTS whose Vault companion (PORT+200) is free as well, reserved with a lock file
    so that parallel pytest workers (or sessions) never pick the same one before either server has bound it."""
    import fcntl
    import tempfile

    low, _, high = os.environ.get("TESLA_REAL_PORTS", "18000-18049").partition("-")
    for port in range(int(low), int(high or low) + 1):
        if port in _HELD or not (_free(port) and _free(port + 200)):
            continue
        handle = open(Path(tempfile.gettempdir()) / f"apiconform-tesla-port-{port}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _HELD[port] = handle
        return port
    raise RuntimeError(f"no free port pair in TESLA_REAL_PORTS={low}-{high}")


def release_port(port: int) -> None:
    handle = _HELD.pop(port, None)
    if handle is not None:
        handle.close()


@dataclass
class TeslaServer:
    port: int
    work: Path
    credentials: dict[str, Any]
    seeded: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def run_dir(self) -> Path:
        return self.work / f"run-{self.port}"

    @property
    def target(self) -> str:
        """The `--target` value for `apiconform run`."""
        return f"{VENDOR}={self.base_url}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment carrying the provider's credentials under the default names (no config file)."""
        env = dict(os.environ if base is None else base)
        env[ENV_PREFIX + "ROLE_ID"] = str(self.credentials["role_id"])
        env[ENV_PREFIX + "SECRET_ID"] = str(self.credentials["secret_id"])
        return env

    def login(self) -> str:
        """A provider access token, for tests that talk to the server directly."""
        answer = httpx.post(f"{self.base_url}/api/v2/auth/approle", timeout=20,
                            json={"role_id": self.credentials["role_id"], "secret_id": self.credentials["secret_id"]})
        answer.raise_for_status()
        return str(answer.json()["token"]["access_token"])

    def stop(self) -> None:
        subprocess.run(["bash", str(vendor_dir() / "stop.sh"), str(self.port)], env=self._script_env(),
                       capture_output=True, text=True, timeout=60, check=False)
        release_port(self.port)

    def log(self, lines: int = 40) -> str:
        return self.log_of("server.log", lines)

    def log_of(self, name: str, lines: int = 15) -> str:
        path = self.run_dir / name
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else "(none)"

    def _script_env(self) -> dict[str, str]:
        return {**os.environ, "TESLA_WORK": str(self.work)}


def setup_venv() -> Path:
    """setup.sh into the cache (a no-op when the cached venv already has tesla-ce)."""
    cache = cache_dir()
    done = subprocess.run(["bash", str(vendor_dir() / "setup.sh")], env={**os.environ, "TESLA_WORK": str(cache)},
                          capture_output=True, text=True, timeout=1200, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"setup.sh failed ({done.returncode}): {done.stderr[-2000:]}")
    return cache / "venv"


S3_KEY, S3_SECRET = "apiconform-local", "apiconform-local-secret"


def storage_template(run_dir: Path, s3_url: str) -> None:
    """The kit's configuration template with its [storage] section pointing at an S3 stand-in (start.sh keeps a
    template already in the run directory)."""
    text = (vendor_dir() / "run" / "tesla-ce.cfg.template").read_text()
    storage = (f"[storage]\nurl = {s3_url}\nbucket_name = tesla\npublic_bucket_name = tesla-public\n"
               f"region = eu-west-1\naccess_key = {S3_KEY}\nsecret_key = {S3_SECRET}\nssl_verify = False\n")
    head, _, tail = text.partition("[storage]\n")
    rest = tail.split("\n[", 1)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "tesla-ce.cfg.template").write_text(head + storage + ("\n[" + rest[1] if len(rest) > 1 else ""))


@contextlib.contextmanager
def s3_stand_in(port: int) -> Iterator[str]:
    """An S3 stand-in (moto, the vendor-clients extra) on `port` with the server's two buckets: its URL. The vendor
    keeps its files on S3 in production (a model's upload form is a presigned S3 POST: with the kit's local
    filesystem storage, creating an enrolment answers 500, AttributeError 'FileSystemStorage' has no 'bucket')."""
    import boto3
    from moto.server import ThreadedMotoServer

    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    s3.start()
    try:
        url = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=url, region_name="eu-west-1", aws_access_key_id=S3_KEY,
                              aws_secret_access_key=S3_SECRET)
        for bucket in ("tesla", "tesla-public"):
            try:
                client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
            except client.exceptions.BucketAlreadyOwnedByYou:
                # moto keeps its buckets in one backend per process: a second stand-in in the same pytest process
                # (the gate's server and a fidelity server of its own) finds them made (seen: every fidelity fixture
                # errored at setup in a combined run)
                pass
        yield url
    finally:
        s3.stop()


def start_server(work: Path, port: int | None = None, seed: bool = True, s3_url: str | None = None) -> TeslaServer:
    """Start a fresh real server under `work` (its own SQLite and Vault state, its files on the S3 stand-in at
    `s3_url` when given, else on the local filesystem) and seed it."""
    timings: dict[str, float] = {}
    began = time.monotonic()
    venv = setup_venv()
    timings["setup"] = time.monotonic() - began
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "venv").exists():
        (work / "venv").symlink_to(venv, target_is_directory=True)
    port = port or pick_port()
    if s3_url is not None:
        storage_template(work / f"run-{port}", s3_url)
    server = TeslaServer(port=port, work=work, credentials={}, timings=timings)
    began = time.monotonic()
    for _attempt in range(3):  # start.sh waits 90 s for the server; on a loaded machine it may need longer:
        done = subprocess.run(["bash", str(vendor_dir() / "start.sh"), str(port)], env=server._script_env(),
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode == 0:  # ... running it again only waits again (it is idempotent)
            break
    timings["start"] = time.monotonic() - began
    if done.returncode != 0:
        logs = "\n".join(f"{name}: {server.log_of(name)}" for name in ("bootstrap.log", "migrate.log", "seed.log",
                                                                       "fakevault.log", "server.log"))
        server.stop()
        raise RuntimeError(f"start.sh {port} failed ({done.returncode}): {done.stderr[-2000:]}\n{logs}")
    server.credentials = json.loads((server.run_dir / "provider_credentials.json").read_text())
    if seed:
        began = time.monotonic()
        try:
            server.seeded = seed_server(server)
        except Exception:
            server.stop()
            raise
        timings["seed"] = time.monotonic() - began
    return server


def seed_server(server: TeslaServer, script_name: str = "seed_tesla.py") -> dict[str, Any]:
    """Run a seed script of this folder (default seed_tesla.py) with the server's interpreter in its run directory."""
    shutil.copy(HERE / script_name, server.run_dir / script_name)
    shutil.copy(HERE / "seed_common.py", server.run_dir / "seed_common.py")  # what the seed scripts share
    script = f"set -e; source module_env.sh; exec ../venv/bin/python {script_name}"
    env = {**server._script_env(), "RABBITMQ_ADMIN_USER": "guest", "RABBITMQ_ADMIN_PASSWORD": "guest"}
    done = subprocess.run(["bash", "-c", script], cwd=server.run_dir, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed ({done.returncode}): {done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
