"""The worker's log: one line, not a traceback, for an activity attempt that failed as designed."""

from __future__ import annotations

import logging

from temporalio.exceptions import ApplicationError

# The logger Temporal reports every failed activity attempt on, traceback included.
ACTIVITY_LOGGER = "temporalio.activity"


class OneLineApplicationErrors(logging.Filter):
    """An ApplicationError is raised on purpose (a failed rpc, retried or final); its message and
    type say all there is to say. Anything else (a bug) keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ApplicationError):
            record.msg = f"{record.getMessage()}: {error.type or 'ApplicationError'}: {error.message}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_ONE_LINE = OneLineApplicationErrors()


def one_line_activity_failures() -> None:
    """Install the filter (once per process, however often it is called)."""
    logging.getLogger(ACTIVITY_LOGGER).addFilter(_ONE_LINE)
