"""Every activity of every domain, bound to the dependencies it needs: one function per domain,
which that domain's registry (worker/workflows/<domain>/__init__.py) names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.container import Container
from services.identity.activities.accounts import AccountActivities
from services.identity.activities.signup import SignupActivities


def identity(container: Container) -> list[Callable[..., Any]]:
    config = container.config
    signup = SignupActivities(
        container.system_channel(str(config.tenants_addr)),
        container.system_channel(str(config.auth_addr)),
        config.rpc_timeout_seconds,
    )
    accounts = AccountActivities(container.system_channel(str(config.auth_addr)), config.rpc_timeout_seconds)
    return [
        signup.create_tenant,
        signup.create_admin,
        signup.undo_signup,
        accounts.delete_ended_sessions,
        accounts.delete_expired_login_throttles,
    ]
