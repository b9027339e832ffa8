"""Embedded mock servers that behave like each vendor, with drift and fault injection.

Public surface: `build_app` (ASGI app for a contract), `serve` (uvicorn in a thread),
`Behaviour`/`Reply` (the vendor extension point), and the drift/fault registries.
"""

from apiconform.mock._app import MockApp, MockContext, build_app
from apiconform.mock._server import MockServer, free_port, mock_app, serve
from apiconform.mock._synth import Synthesizer
from apiconform.mock.behaviour import Behaviour, Reply, load_behaviour
from apiconform.mock.drifts import DRIFTS, list_drifts, resolve_drifts
from apiconform.mock.faults import FAULTS, list_faults, wrap_faults

__all__ = [
    "DRIFTS",
    "FAULTS",
    "Behaviour",
    "MockApp",
    "MockContext",
    "MockServer",
    "Reply",
    "Synthesizer",
    "build_app",
    "free_port",
    "list_drifts",
    "list_faults",
    "load_behaviour",
    "mock_app",
    "resolve_drifts",
    "serve",
    "wrap_faults",
]
