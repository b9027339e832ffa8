"""Tests of apiconform.pytest (the plugin behind `pytest suites`)."""
