"""Stateful: resource lifecycles (create → read → update → list → delete) following the contract's links;
what was written must be what is read back."""

from apiconform.suites import functions_of

SUITE = "stateful"
globals().update(functions_of(SUITE, __name__))  # one pytest test per registered suite test (apiconform.engine.suite_test)
