"""Fixtures every test folder may use: the real stack (tests/support/stack.py) and its parts,
and one domain's server on the database alone (tests/support/domain.py)."""

pytest_plugins = ["tests.support.stack", "tests.support.domain", "tests.support.sso"]
