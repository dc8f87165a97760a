from enum import StrEnum


class TaskQueue(StrEnum):
    """Central's Temporal task queues, one worker process each."""

    CORE = "core"
    MEDIA = "media"
