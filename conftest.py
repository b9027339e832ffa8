"""Root conftest. apiconform's pytest plugin is registered by the `pytest11` entry point of the installed
package (pyproject.toml), so it is not listed here: listing it too would register it twice."""
