"""Negative: invalid requests, missing or wrong credentials and reused idempotency keys are refused
with the documented 4xx and error shape. Generated cases that are in fact valid are checked as valid."""

from apiconform.suites import functions_of

SUITE = "negative"
globals().update(functions_of(SUITE, __name__))  # one pytest test per registered suite test (apiconform.engine.suite_test)
