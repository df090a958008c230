"""Shared pytest fixtures; each area's fixtures live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.webapp",
    "tests.fixtures.sandbox",
]
