"""apiconform's pytest plugin (`apiconform.pytest.plugin`): one consumer of the engine — it turns the engine's
work items into parametrised tests, category and suite markers, Allure labels and a run record."""
