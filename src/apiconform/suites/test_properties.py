"""Property-based: schemathesis generates valid requests for every operation; every answer must conform."""

from apiconform.suites import functions_of

SUITE = "properties"
globals().update(functions_of(SUITE, __name__))  # one pytest test per registered suite test (apiconform.engine.suite_test)
