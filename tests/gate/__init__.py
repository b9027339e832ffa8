"""Tests of apiconform.gate: verdicts, waivers, compare, contract diff, upgrade, export, the reports directory."""
