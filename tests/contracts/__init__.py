"""Tests of apiconform.contracts: loading, validation, pointers, import, lint stamps, path filling."""
