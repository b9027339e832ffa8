"""Repository-wide tests: README commands, docs coverage, the wheel install, make targets, the architecture contracts, benchmark arguments."""
