"""Tests of apiconform.report: run.json and every writer (JUnit, matrix, HTML, SARIF, Allure), in a browser too."""
