"""The media domain's registry: transcription on the media queue."""

from __future__ import annotations

from common.temporal.queues import TaskQueue
from common.temporal.registry import DomainRegistry
from services.media.workflows.transcribe import TranscribeAudioWorkflow
from worker import activities

REGISTRY = DomainRegistry(
    domain="media",
    queue=TaskQueue.MEDIA,
    workflows=[TranscribeAudioWorkflow],
    activities=activities.media,
)
