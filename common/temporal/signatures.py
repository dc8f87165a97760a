"""Workflow and activity inputs the worker can trust: every start from a Central client is signed,
every activity a verified workflow schedules is signed, and the worker runs neither a workflow
nor an activity whose input is not.

Whoever reaches Temporal can start any workflow with any input, and the worker then acts as
the system; whoever polls a task queue can even complete a real workflow's tasks and schedule
activities of their choice. Temporal never holds the key these signatures are made with. The
client side signs each start (and each schedule's action) in a header: an HMAC over the
workflow type, the workflow ID it is for and the encoded input. The worker side verifies it
before the workflow's first step, and fails the workflow, not retryably, when it is missing or
wrong. A verified workflow signs each activity it schedules the same way (the activity type,
its workflow's ID, the encoded input), and the activity worker runs none that is not signed.

Both sides are one interceptor, which `connect` installs on the client; Temporal applies a
client's interceptors to every worker built from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import temporalio.client
import temporalio.converter
import temporalio.worker
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.exceptions import ApplicationError

from common.config import Config
from common.keys import derive_keys, load_secrets
from common.signing import BadSignatureError, b64decode, b64encode

HEADER = "central-input-signature"
REASON = "UNSIGNED_WORKFLOW_INPUT"
ACTIVITY_REASON = "UNSIGNED_ACTIVITY_INPUT"
_VERIFY = "central.verify_workflow_input"
_SIGN_ACTIVITY = "central.sign_activity_input"
# A start is for one workflow ID; a schedule's action is for every run the schedule starts,
# whose IDs are the action's ID, a dash and the time; an activity is for the workflow that
# scheduled it.
_FOR_WORKFLOW, _FOR_SCHEDULE, _FOR_ACTIVITY = "workflow:", "schedule:", "activity-of:"
Verify = Callable[[str, str, Sequence[bytes], bytes | None], bool]
SignActivity = Callable[[str, str, Sequence[bytes]], Payload]


def encoded(args: Sequence[Any], converter: temporalio.converter.PayloadConverter) -> list[bytes]:
    """The arguments as the signature covers them: before any codec, in one spelling."""
    return [payload.SerializeToString(deterministic=True) for payload in converter.to_payloads(args)]


class InputSignatures:
    def __init__(self, key: bytes, previous: tuple[bytes, ...] = ()) -> None:
        self._key = key
        # During a rotation of the services' secret, starts signed under the previous one still run.
        self._keys = (key, *previous)

    @classmethod
    def load(cls, config: Config) -> InputSignatures:
        return cls(*derive_keys(load_secrets(config.home), "temporal-workflow-input"))

    @staticmethod
    def _mac(key: bytes, workflow_type: str, signed_for: str, args: Sequence[bytes]) -> bytes:
        mac = hmac.new(key, digestmod=hashlib.sha256)
        for part in (workflow_type.encode(), signed_for.encode(), *args):
            mac.update(len(part).to_bytes(8, "big") + part)
        return mac.digest()

    def header(self, workflow_type: str, signed_for: str, args: Sequence[Any]) -> Payload:
        converter = temporalio.converter.default().payload_converter
        return self._header(workflow_type, signed_for, encoded(args, converter))

    def _header(self, name: str, signed_for: str, args: Sequence[bytes]) -> Payload:
        mac = self._mac(self._key, name, signed_for, args)
        body = json.dumps({"for": signed_for, "mac": b64encode(mac)}).encode()
        return Payload(metadata={"encoding": b"json/plain"}, data=body)

    def activity_header(self, activity_type: str, workflow_id: str, args: Sequence[bytes]) -> Payload:
        """The signature of an activity's encoded input, for the workflow that schedules it."""
        return self._header(activity_type, _FOR_ACTIVITY + workflow_id, args)

    def verify_activity(
        self, activity_type: str, workflow_id: str, args: Sequence[bytes], header: bytes | None
    ) -> bool:
        """Whether `header` signs this activity's input for the workflow it runs for; never raises."""
        signed = self._signed(header)
        return (
            signed is not None
            and signed[0] == _FOR_ACTIVITY + workflow_id
            and self._matches(signed[1], activity_type, signed[0], args)
        )

    def verify(
        self, workflow_type: str, workflow_id: str, args: Sequence[bytes], header: bytes | None
    ) -> bool:
        """Whether `header` signs these arguments for this workflow; never raises."""
        signed = self._signed(header)
        if signed is None:
            return False
        signed_for, mac = signed
        if signed_for.startswith(_FOR_WORKFLOW):
            matches = workflow_id == signed_for.removeprefix(_FOR_WORKFLOW)
        elif signed_for.startswith(_FOR_SCHEDULE):
            matches = workflow_id.startswith(signed_for.removeprefix(_FOR_SCHEDULE) + "-")
        else:
            matches = False
        return matches and self._matches(mac, workflow_type, signed_for, args)

    def _matches(self, mac: bytes, name: str, signed_for: str, args: Sequence[bytes]) -> bool:
        return any(hmac.compare_digest(mac, self._mac(key, name, signed_for, args)) for key in self._keys)

    @staticmethod
    def _signed(header: bytes | None) -> tuple[str, bytes] | None:
        """What a signature header says it is for, and its MAC; None for anything else."""
        if header is None:
            return None
        try:
            signature = json.loads(header)
            return str(signature["for"]), b64decode(str(signature["mac"]))
        except (ValueError, TypeError, KeyError, BadSignatureError):
            return None

    def sign_action(self, action: temporalio.client.ScheduleAction) -> None:
        if isinstance(action, temporalio.client.ScheduleActionStartWorkflow):
            signature = self.header(action.workflow, _FOR_SCHEDULE + action.id, action.args)
            action.headers = {**(action.headers or {}), HEADER: signature}


class InputSignaturesInterceptor(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    """Signs what the client starts; makes the worker refuse what is not signed."""

    def __init__(self, signatures: InputSignatures) -> None:
        self.signatures = signatures

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _Signing(next, self.signatures)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        # The workflow runs in a sandbox: the key stays out here, behind two functions.
        input.unsafe_extern_functions[_VERIFY] = self.signatures.verify
        input.unsafe_extern_functions[_SIGN_ACTIVITY] = self.signatures.activity_header
        return _Verifying

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        return _VerifyingActivity(next, self.signatures)


class _Signing(temporalio.client.OutboundInterceptor):
    def __init__(self, next: temporalio.client.OutboundInterceptor, signatures: InputSignatures) -> None:
        super().__init__(next)
        self._signatures = signatures

    async def start_workflow(self, input: temporalio.client.StartWorkflowInput) -> Any:
        signature = self._signatures.header(input.workflow, _FOR_WORKFLOW + input.id, input.args)
        input.headers = {**input.headers, HEADER: signature}
        return await super().start_workflow(input)

    async def create_schedule(self, input: temporalio.client.CreateScheduleInput) -> Any:
        self._signatures.sign_action(input.schedule.action)
        return await super().create_schedule(input)

    async def update_schedule(self, input: temporalio.client.UpdateScheduleInput) -> None:
        updater = input.updater

        async def signed(update_input: temporalio.client.ScheduleUpdateInput) -> Any:
            update = updater(update_input)
            if not isinstance(update, temporalio.client.ScheduleUpdate | None):
                update = await update
            if update is not None:
                self._signatures.sign_action(update.schedule.action)
            return update

        input.updater = signed
        await super().update_schedule(input)


class _Verifying(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_SigningActivities(outbound))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        info = workflow.info()
        header = input.headers.get(HEADER)
        verify: Verify = workflow.extern_functions()[_VERIFY]
        args = encoded(input.args, workflow.payload_converter())
        if not verify(info.workflow_type, info.workflow_id, args, header.data if header else None):
            _refuse(info.workflow_type)
        return await super().execute_workflow(input)


class _SigningActivities(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> workflow.ActivityHandle[Any]:
        sign: SignActivity = workflow.extern_functions()[_SIGN_ACTIVITY]
        args = encoded(input.args, workflow.payload_converter())
        input.headers = {**input.headers, HEADER: sign(input.activity, workflow.info().workflow_id, args)}
        return super().start_activity(input)


class _VerifyingActivity(temporalio.worker.ActivityInboundInterceptor):
    def __init__(
        self, next: temporalio.worker.ActivityInboundInterceptor, signatures: InputSignatures
    ) -> None:
        super().__init__(next)
        self._signatures = signatures

    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        info = activity.info()
        header = input.headers.get(HEADER)
        args = encoded(input.args, temporalio.converter.default().payload_converter)
        # An activity started outside any workflow has nothing that could have signed it.
        if info.workflow_id is None or not self._signatures.verify_activity(
            info.activity_type, info.workflow_id, args, header.data if header else None
        ):
            raise ApplicationError(
                f"{info.activity_type} refused: its input is not signed by a Central workflow",
                type=ACTIVITY_REASON,
                non_retryable=True,
            )
        return await super().execute_activity(input)


def _refuse(workflow_type: str) -> NoReturn:
    raise ApplicationError(
        f"{workflow_type} refused: its input is not signed by Central", type=REASON, non_retryable=True
    )
