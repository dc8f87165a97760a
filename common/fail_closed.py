"""A bounded LRU that answers only while its keeper hears every change: the one rule that the
gateway's session cache and the tenant rows (in the tenants service and in the gateway) follow.

Fail closed: while not trusted (no live, caught-up stream of changes) it answers nothing and
keeps nothing, and it starts empty when trusted again. Every change and every change of trust
moves `generation`: a fill made from a read that started before one may hold what the change
undid, so `put` keeps it only if the generation has not moved since the read began.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class FailClosedCache(Generic[Key, Value]):
    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, Value] = OrderedDict()
        self._trusted = False
        self.generation = 0
        self.hits = 0
        self.misses = 0

    @property
    def trusted(self) -> bool:
        return self._trusted

    def __len__(self) -> int:
        return len(self._entries)

    def trust(self) -> None:
        """The stream is caught up: from now on every change reaches `forget`. Starts empty."""
        self._clear()
        self._trusted = True
        self.generation += 1

    def distrust(self) -> None:
        """The stream is gone: a change may be missed, so nothing is answered or kept."""
        self._clear()
        self._trusted = False
        self.generation += 1

    def get(self, key: Key) -> Value | None:
        """The entry, if trusted, kept and still answerable; None otherwise."""
        entry = self._entries.get(key) if self._trusted else None
        if entry is None or not self._answerable(entry):
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: Key, entry: Value, generation: int) -> bool:
        """Keep `entry`, read by a call that started at `generation`, unless anything changed since."""
        if not self._trusted or generation != self.generation:
            return False
        self._drop(key)
        self._entries[key] = entry
        self._kept(key, entry)
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))
        return True

    def forget(self, key: Key) -> None:
        self.generation += 1
        self._drop(key)

    def forget_where(self, doomed: Callable[[Value], bool]) -> None:
        """Drop every entry `doomed` names (a change that names a group of them)."""
        self.generation += 1
        for key in [key for key, entry in self._entries.items() if doomed(entry)]:
            self._drop(key)

    def forget_all(self) -> None:
        self.generation += 1
        self._clear()

    # What a kind of entry adds: whether one still answers (and what answering it does), and
    # what an index beside the entries learns when one is kept or dropped.
    def _answerable(self, entry: Value) -> bool:
        return True

    def _kept(self, key: Key, entry: Value) -> None:
        pass

    def _dropped(self, key: Key, entry: Value) -> None:
        pass

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._dropped(key, entry)

    def _clear(self) -> None:
        for key in list(self._entries):
            self._drop(key)
