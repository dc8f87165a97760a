"""Fixtures every test folder may use: the real stack (tests/support/stack.py) and its parts."""

pytest_plugins = ["tests.support.stack"]
