"""Root conftest: registers apiconform's pytest plugin for every pytest run in this repository."""

pytest_plugins = ["apiconform.pytest.plugin"]
