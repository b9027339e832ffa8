"""Draws that depend on the contract and the seed only, not on the process that draws them.

Hypothesis (since 6.131) mixes constants into its draws (about 5 % of the time) harvested from every loaded
*local* module, i.e. any module outside the standard library and site-packages: an editable apiconform
checkout, the benchmark script, a team's own package loaded by pytest. So the same seed drew different
cases in the CLI and under pytest, in an editable checkout and an installed wheel, and after any edit of a
string literal anywhere in apiconform (observed: a module defining `{"a": 1}` re-drew TeSLA's negative
cases; our own literals such as `'bearer'` and `'base64url'` turned up in vendor requests). Hypothesis has
no setting for it, so while apiconform draws, its local-constant pool is held empty (its global constants
stay), and the cache of permitted constants is cleared on the way in and out so no pool leaks across.
Scoped, never process-wide: a team's own hypothesis tests in the same pytest process keep the default.
tests/engine/test_casecache.py proves the draws no longer change with the modules a process has loaded.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_LOCK = threading.RLock()


@contextlib.contextmanager
def isolated_draws() -> Iterator[None]:
    """Hold hypothesis' local-constant pool empty while the block draws (a no-op if hypothesis changes)."""
    from hypothesis.internal.conjecture import providers

    harvest = getattr(providers, "_get_local_constants", None)
    cache: Any = getattr(providers, "CONSTANTS_CACHE", None)
    constants: Any = getattr(providers, "Constants", None)
    if harvest is None or cache is None or constants is None:
        yield
        return
    empty = constants()
    with _LOCK:
        cache.cache.clear()
        providers._get_local_constants = lambda: empty
        try:
            yield
        finally:
            providers._get_local_constants = harvest
            cache.cache.clear()


def untracked(test: Any) -> Any:
    """A `@given` test hypothesis keeps no database key for: without a database (apiconform's draws use none) the
    key is never read, but hypothesis computes it per run by hashing the test's source (`function_digest`,
    ~5 ms per operation drawn). Returns the test."""
    test._hypothesis_internal_database_key = None
    return test
