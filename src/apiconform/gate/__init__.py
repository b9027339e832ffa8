"""The gate: the verdict (exit code, `--fail-on`, waivers that expire), run-vs-run `compare`, contract `diff`,
and `apiconform run` itself (validate every local input, preflight live targets, run the engine, write each
report once)."""

from apiconform.gate._verdict import (
    BASELINE_FILE,
    Baseline,
    GateResult,
    Waiver,
    evaluate,
    load_baseline,
    write_baseline,
)

__all__ = ["BASELINE_FILE", "Baseline", "GateResult", "Waiver", "evaluate", "load_baseline", "write_baseline"]
