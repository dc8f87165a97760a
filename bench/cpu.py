"""CPU time of processes over a stretch of load, from /proc/<pid>/stat (Linux only).

The load generator measures latency and throughput; this says what each process spent on
them: user plus system time between two readings, divided by the requests served between.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User plus system time of `pid` so far, 0 when it is gone or unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name, in parentheses, may hold spaces: fields are counted after its end.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children(pid: int) -> list[int]:
    """The live child processes of `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


@dataclass(frozen=True)
class CpuReading:
    """The CPU seconds of named processes (a name may stand for several, summed) at one moment."""

    seconds: dict[str, float]

    @classmethod
    def take(cls, processes: dict[str, list[int]]) -> CpuReading:
        return cls({name: sum(map(cpu_seconds, pids)) for name, pids in processes.items()})

    def per_request_us(self, later: CpuReading, requests: int) -> dict[str, float]:
        """Microseconds of CPU per request spent by each process between this reading and `later`."""
        return {
            name: (later.seconds[name] - self.seconds[name]) / max(1, requests) * 1e6
            for name in self.seconds
            if name in later.seconds
        }
