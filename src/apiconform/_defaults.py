"""The defaults of a run and of every live target, defined once, as plain frozen dataclasses.

The configuration models (`apiconform.config`, pydantic) take their field defaults from here and add the
types, ranges and one-line errors; the engine, the gate and the pytest plugin read these directly, so a
process that reads no configuration file never imports pydantic (~0.1 s of every worker's start-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RunDefaults:
    """How much a run generates when the command line does not say (not configuration keys)."""

    max_examples: int = 10  # generated cases per operation (the negative suite uses half, at least 3)
    seed: int = 20261123  # the generation seed: the same seed gives the same verdicts
    workers: int = 1  # worker processes of `apiconform run`
    max_workers: int = 32  # the most `--workers` accepts (each is a process with its own copy of the contracts)


@dataclass(frozen=True)
class LiveDefaults:
    """Every live target's limits, configured or not (`--target VENDOR=URL`): `TargetSettings`' defaults and
    the engine's `Safety.for_live()`. The names are the configuration keys."""

    max_requests: int = 200  # per run
    rate: float = 5.0  # requests per second
    allow_writes: bool = False
    allowed_writes: tuple[str, ...] = ()
    writes: Literal["own", "sandbox"] = "own"  # with writes allowed: "own" (only records the run created) or "sandbox" (any record)
    expendable: tuple[str, ...] = ()  # records that may be written whoever created them: ids or "/path/*" patterns
    connect_timeout: float = 5.0  # seconds
    read_timeout: float = 20.0  # seconds
    request_deadline: float | None = None  # seconds; None: connect_timeout + read_timeout
    max_retry_after: float = 5.0  # seconds
    max_body_mb: float = 10.0  # MiB


RUN_DEFAULTS = RunDefaults()
LIVE_DEFAULTS = LiveDefaults()
