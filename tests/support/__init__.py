"""Helpers shared by tests in several folders: hostile vendors, the TeSLA client flows, the demo report."""
