"""Tests of apiconform.cli: the commands as a user types them, bad input, the terminal."""
