"""Every activity of every domain, bound to the dependencies it needs: one function per domain,
which that domain's registry (worker/workflows/<domain>/__init__.py) names."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from common.container import Container
from common.db.executor import Database
from services.identity.activities.accounts import AccountActivities
from services.identity.activities.signup import SignupActivities
from services.media.activities.transcribe import TranscriptionActivities
from services.media.jobs import JobStore
from services.media.recognition import InProcesses
from services.media.settings import MediaSettings
from services.media.transcribers import whisper_model_dir


def identity(container: Container) -> list[Callable[..., Any]]:
    config = container.config
    signup = SignupActivities(
        container.system_channel("tenants"),
        container.system_channel("auth"),
        config.rpc_timeout_seconds,
    )
    accounts = AccountActivities(container.system_channel("auth"), config.rpc_timeout_seconds)
    return [
        signup.create_tenant,
        signup.create_admin,
        signup.undo_signup,
        accounts.delete_ended_sessions,
        accounts.delete_expired_login_throttles,
    ]


def media(container: Container) -> list[Callable[..., Any]]:
    """The media activities read and write their own schema directly: the audio is too large
    to pass through an rpc, let alone a workflow's history."""

    async def database() -> Database:
        return (await container.pools()).rw

    settings = MediaSettings.from_env()
    # A misnamed model stops the worker now, not each job in its recognition processes.
    whisper_model_dir(os.environ)
    # One recognition process per job the worker runs at once (its activity slots).
    recogniser = InProcesses(settings.concurrency, os.environ)
    container.on_close(recogniser.close)
    transcription = TranscriptionActivities(JobStore(database), recogniser, settings.heartbeat_timeout)
    return [transcription.prepare, transcription.recognise, transcription.finish]
