"""Session use is owed to the auth service at most once per resolution, in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.gateway.session_use import SessionUseLog, resolution

IDLE = timedelta(hours=24)


class Clock:
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def test_use_is_reported_at_most_once_a_minute() -> None:
    log = SessionUseLog(Clock())
    start = Clock.at
    log.used("s1", start, IDLE)
    assert [use.session_id for use in log.take()] == ["s1"]
    log.used("s1", start + timedelta(seconds=30), IDLE)
    assert log.take() == []
    log.used("s1", start + timedelta(seconds=61), IDLE)
    log.used("s1", start + timedelta(seconds=62), IDLE)
    [use] = log.take()
    assert use.session_id == "s1"
    assert use.last_used_at.ToDatetime(UTC) == start + timedelta(seconds=62)
    log.used("s1", start + timedelta(seconds=90), IDLE)
    assert log.take() == []


def test_a_short_idle_timeout_is_reported_more_often() -> None:
    assert resolution(timedelta(seconds=30)) == timedelta(seconds=3)
    assert resolution(IDLE) == timedelta(minutes=1)
    log = SessionUseLog(Clock())
    log.used("s1", Clock.at, timedelta(seconds=30))
    log.take()
    log.used("s1", Clock.at + timedelta(seconds=2), timedelta(seconds=30))
    assert log.take() == []
    log.used("s1", Clock.at + timedelta(seconds=4), timedelta(seconds=30))
    assert [use.session_id for use in log.take()] == ["s1"]
