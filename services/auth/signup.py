"""POST /signup: validates, then runs the identity domain's SignupWorkflow and waits for it.

Served by the auth process, so it lives in auth; identity keeps the saga's workflow and
activities, which reach tenants and auth through their rpcs only. The session is opened
here, after the workflow, by the auth service itself: a session token must never sit in a
workflow's history.

A signup may outlive its request (the client saw a 504) and be sent again. The workflow ID
is the slug's, so the retry finds that signup, running or done, and answers as it did, with a
fresh session, when the email is its admin's and the password logs in (throttled like any
login); anything else is a taken slug.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import timestamp_pb2
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import WorkflowAlreadyStartedError

from central.auth.v1 import sessions_pb2, tenant_users_pb2
from central.identity.v1 import signup_pb2, signup_pb2_grpc
from central.tenants.v1 import tenants_pb2
from common.display_names import stored_display_name
from common.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
)
from common.principal import Principal, current_principal
from common.temporal.dispatcher import TemporalDispatcher
from common.temporal.errors import domain_error
from services.auth import rules
from services.auth.db import TenantUserRow
from services.auth.passwords import Passwords
from services.auth.sessions import SessionService
from services.auth.tenant_users import TenantUserService
from services.auth.throttle import Limit, LoginThrottle
from services.identity.activities.signup import CreatedTenant
from services.identity.workflows.signup import SignupWorkflow, SignupWorkflowInput, SignupWorkflowOutput

Context = grpc.aio.ServicerContext[Any, Any]
DOMAIN = "identity.central"


class SignupApi(signup_pb2_grpc.SignupServiceServicer):
    def __init__(
        self,
        dispatcher: Callable[[], Awaitable[TemporalDispatcher]],
        passwords: Passwords,
        users: TenantUserService,
        sessions: SessionService,
        throttle: LoginThrottle,
        max_per_address: int,
    ) -> None:
        self.dispatcher = dispatcher
        self.throttle = throttle
        self.max_per_address = max_per_address
        self.passwords = passwords
        self.users = users
        self.sessions = sessions

    async def Signup(self, request: signup_pb2.SignupInput, context: Context) -> signup_pb2.SignupResponse:  # noqa: N802
        principal = current_principal()
        if principal.client_address:
            # Counted before anything costly: every signup, not only failed ones, like a login's attempt.
            limit = Limit(f"signup:{principal.client_address}", self.max_per_address)
            await self.throttle.tx_reserve([limit], what="signups", reason="SIGNUP_THROTTLED")
        email = rules.entered_email(request.email)
        display_name = stored_display_name(request.display_name)
        tenant_display_name = stored_display_name(request.tenant_display_name)
        workflow_input = SignupWorkflowInput(
            tenant_slug=request.tenant_slug,
            tenant_display_name=tenant_display_name,
            email=email,
            display_name=display_name,
            password_hash=await self.passwords.hash(request.password),
        )
        dispatcher = await self.dispatcher()
        workflow_id = f"signup-{request.tenant_slug}"
        try:
            result = await dispatcher.execute(
                SignupWorkflow.run, workflow_input, id=workflow_id, rerun_succeeded=False
            )
        except WorkflowAlreadyStartedError:
            # Running, or done: maybe this very signup, sent again.
            return await self._again(dispatcher, workflow_input, request, principal)
        except WorkflowFailureError as error:
            raise _failed(error) from None
        return await self._signed_up(result, principal)

    async def _signed_up(
        self, result: SignupWorkflowOutput, principal: Principal
    ) -> signup_pb2.SignupResponse:
        """The answer to the signup that made `result`: its tenant, its admin and a new session."""

        async def signed_in(row: TenantUserRow) -> tuple[tenant_users_pb2.TenantUserPrivate, str]:
            _, token = await self.sessions.open_for(row, principal.user_agent)
            return self.users.to_tenant_user_private(row), token

        user, token = await self.users.with_tenant_user_by_tenant_user_id(
            result.tenant.tenant_id, result.admin.tenant_user_id, signed_in, self.users.db
        )
        return _response(result.tenant, user, token)

    async def _again(
        self,
        dispatcher: TemporalDispatcher,
        workflow_input: SignupWorkflowInput,
        request: signup_pb2.SignupInput,
        principal: Principal,
    ) -> signup_pb2.SignupResponse:
        """The answer to a signup whose slug has a signup already, running or done."""
        workflow_id = f"signup-{request.tenant_slug}"
        try:
            earlier = await dispatcher.outcome(SignupWorkflow.run, workflow_id)
        except WorkflowFailureError as error:
            raise _failed(error) from None
        try:
            admin_email = await self.users.with_tenant_user_by_tenant_user_id(
                earlier.tenant.tenant_id, earlier.admin.tenant_user_id, _email_of, self.users.db
            )
        except NotFoundError:
            # That tenant, or its first admin, has gone since: the slug may be free again.
            try:
                result = await dispatcher.execute(SignupWorkflow.run, workflow_input, id=workflow_id)
            except WorkflowAlreadyStartedError:
                raise _slug_taken(request.tenant_slug) from None
            except WorkflowFailureError as error:
                raise _failed(error) from None
            return await self._signed_up(result, principal)
        if admin_email.lower() != workflow_input.email.lower():
            raise _slug_taken(request.tenant_slug)
        return await self._logged_in(earlier, request, principal)

    async def _logged_in(
        self, earlier: SignupWorkflowOutput, request: signup_pb2.SignupInput, principal: Principal
    ) -> signup_pb2.SignupResponse:
        """Log the admin of `earlier` in, as the signup that made it would have."""
        login = sessions_pb2.PasswordLoginInput(
            tenant_id=earlier.tenant.tenant_id,
            email=rules.entered_email(request.email),
            password=request.password,
        )
        try:
            user, token = await self.sessions.tx_password_login(login, principal)
        except (UnauthenticatedError, ResourceExhaustedError):
            raise _slug_taken(request.tenant_slug) from None
        if user.tenant_user_id != earlier.admin.tenant_user_id:
            raise _slug_taken(request.tenant_slug)
        return _response(earlier.tenant, user, token)


async def _email_of(row: TenantUserRow) -> str:
    return row.email


def _failed(error: WorkflowFailureError) -> DomainError:
    return domain_error(
        error,
        otherwise=UnavailableError(
            "signup could not finish; try again", reason="SIGNUP_FAILED", domain=DOMAIN
        ),
    )


def _slug_taken(slug: str) -> ConflictError:
    return ConflictError(
        f"a tenant with slug '{slug}' is being signed up or exists",
        reason="TENANT_SLUG_TAKEN",
        domain="tenants.central",
    )


def _response(
    tenant: CreatedTenant, user: tenant_users_pb2.TenantUserPrivate, token: str
) -> signup_pb2.SignupResponse:
    created_at = timestamp_pb2.Timestamp()
    created_at.FromJsonString(tenant.created_at)
    public = tenants_pb2.TenantPublic(
        tenant_id=tenant.tenant_id, slug=tenant.slug, display_name=tenant.display_name, created_at=created_at
    )
    return signup_pb2.SignupResponse(tenant=public, tenant_user=user, session_token=token)
