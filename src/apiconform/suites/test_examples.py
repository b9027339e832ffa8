"""Example-based: every documented request example is sent and its answer checked against the contract."""

from apiconform.suites import functions_of

SUITE = "examples"
globals().update(functions_of(SUITE, __name__))  # one pytest test per registered suite test (apiconform.engine.suite_test)
