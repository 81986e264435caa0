"""Fixtures shared by the whole suite. Server fixtures live in tests/support/."""

pytest_plugins = ["tests.support.kafka", "tests.support.service"]
