"""Vendor behaviour modules: one small module per vendor, named after its contract folder."""
