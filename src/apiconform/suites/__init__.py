"""The conformance suites, generated from the contracts by the apiconform pytest plugin.

Run them with `pytest --pyargs apiconform.suites` (installed) or `pytest suites` (checkout).
"""
