"""Tests of apiconform.mock: the contract-driven mock, its errors, semantics, drifts and faults, vendor clients against it."""
