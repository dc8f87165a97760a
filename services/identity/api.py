"""POST /signup: validates, then runs SignupWorkflow on the core queue and waits for it.

Served by the auth process. The session is opened here, after the workflow, by the auth
service itself: a session token must never sit in a workflow's history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import timestamp_pb2
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import WorkflowAlreadyStartedError

from central.auth.v1 import tenant_users_pb2
from central.identity.v1 import signup_pb2, signup_pb2_grpc
from central.tenants.v1 import tenants_pb2
from common.errors import ConflictError
from common.principal import current_principal
from services.auth.db import TenantUserRow
from services.auth.passwords import Passwords
from services.auth.sessions import SessionService
from services.auth.tenant_users import TenantUserService
from services.identity.errors import domain_error
from services.identity.workflows.signup import SignupWorkflow, SignupWorkflowInput
from services.tenants import rules as tenant_rules
from worker.dispatcher import TemporalDispatcher

Context = grpc.aio.ServicerContext[Any, Any]
DOMAIN = "identity.central"


class SignupApi(signup_pb2_grpc.SignupServiceServicer):
    def __init__(
        self,
        dispatcher: Callable[[], Awaitable[TemporalDispatcher]],
        passwords: Passwords,
        users: TenantUserService,
        sessions: SessionService,
    ) -> None:
        self.dispatcher = dispatcher
        self.passwords = passwords
        self.users = users
        self.sessions = sessions

    async def Signup(self, request: signup_pb2.SignupInput, context: Context) -> signup_pb2.SignupResponse:  # noqa: N802
        principal = current_principal()
        email = request.email.strip()
        display_name = request.display_name.strip()
        tenant_display_name = tenant_rules.normalise_display_name(request.tenant_display_name)
        workflow_input = SignupWorkflowInput(
            tenant_slug=request.tenant_slug,
            tenant_display_name=tenant_display_name,
            email=email,
            display_name=display_name,
            password_hash=await self.passwords.hash(request.password),
        )
        dispatcher = await self.dispatcher()
        try:
            # One signup per slug at a time: the workflow ID is derived from it.
            result = await dispatcher.execute(
                SignupWorkflow.run, workflow_input, id=f"signup-{request.tenant_slug}"
            )
        except WorkflowAlreadyStartedError:
            raise ConflictError(
                f"a tenant with slug '{request.tenant_slug}' is being signed up",
                reason="TENANT_SLUG_TAKEN",
                domain="tenants.central",
            ) from None
        except WorkflowFailureError as error:
            raise domain_error(error) from None

        async def signed_in(row: TenantUserRow) -> tuple[tenant_users_pb2.TenantUserPrivate, str]:
            _, token = await self.sessions.open_for(row, principal.user_agent)
            return self.users.to_tenant_user_private(row), token

        user, token = await self.users.with_tenant_user_by_tenant_user_id(
            result.tenant.tenant_id, result.admin.tenant_user_id, signed_in, self.users.db
        )
        created_at = timestamp_pb2.Timestamp()
        created_at.FromJsonString(result.tenant.created_at)
        tenant = tenants_pb2.TenantPublic(
            tenant_id=result.tenant.tenant_id,
            slug=result.tenant.slug,
            display_name=result.tenant.display_name,
            created_at=created_at,
        )
        return signup_pb2.SignupResponse(tenant=tenant, tenant_user=user, session_token=token)
