"""Tests of apiconform.engine: checks, suites, generation, the case cache, the session's safety, budgets, writes, interruption."""
