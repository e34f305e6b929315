"""Group commit: work items that arrive together are applied together, by whichever caller comes first.

`Batches.run(item)` blocks its caller until `item` was applied and returns its outcome (or raises its
error). No thread of its own: the first caller to find no batch in progress becomes the leader, takes the
items waiting at that moment (up to `most`) and applies them in one call of `apply`; the others wait and
the next one to wake leads the batch after. A lone caller therefore applies a batch of one at once, and
under load a batch holds about as many items as callers are waiting.

Items whose `keys` overlap never share a batch: the later one waits for the next, so it sees what the
earlier one did (two reports of one deployment, two deliveries of one id). When `apply` raises for a batch
of several, each of its items is applied again alone, so one bad item fails only its own caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


@dataclass(eq=False)
class _Waiting(Generic[Item, Outcome]):
    item: Item
    keys: frozenset[Hashable]
    woken: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    outcome: Outcome | None = None
    error: Exception | None = None


class Batches(Generic[Item, Outcome]):
    """Applies items in batches of at most `most`; `apply` returns one outcome per item, in order."""

    def __init__(
        self,
        apply: Callable[[Sequence[Item]], Sequence[Outcome]],
        keys: Callable[[Item], Iterable[Hashable]],
        *,
        most: int = 100,
    ) -> None:
        self._apply = apply
        self._keys = keys
        self._most = most
        self._guard = threading.Lock()
        self._queue: list[_Waiting[Item, Outcome]] = []
        self._leading = False

    def waiting(self) -> int:
        """How many items wait for a batch (not counting the one being applied)."""
        with self._guard:
            return len(self._queue)

    def run(self, item: Item) -> Outcome:
        """Apply `item` (in a batch with whatever else waits) and return its outcome, or raise its error."""
        mine: _Waiting[Item, Outcome] = _Waiting(item, frozenset(self._keys(item)))
        with self._guard:
            self._queue.append(mine)
        try:
            while True:
                with self._guard:
                    batch = self._take() if not mine.done and not self._leading else []
                    self._leading = self._leading or bool(batch)
                if batch:
                    self._lead(batch)
                if mine.done:
                    break
                mine.woken.wait()
                mine.woken.clear()
        finally:
            self._leave(mine)
        if mine.error is not None:
            raise mine.error
        return mine.outcome  # type: ignore[return-value]  # set with done, unless error is

    def _leave(self, mine: _Waiting[Item, Outcome]) -> None:
        """A caller leaving (its item done, or an interrupt while it led another batch): its item must not
        be applied later with nobody waiting, nor be the one woken to lead the next batch."""
        with self._guard:
            if mine not in self._queue:
                return  # the usual way out: the item was taken, and its leader woke the next one
            self._queue.remove(mine)
            successor = self._queue[0] if self._queue and not self._leading else None
        if successor is not None:
            successor.woken.set()

    def _take(self) -> list[_Waiting[Item, Outcome]]:
        """The oldest waiting items whose keys no earlier waiting item shares (under the guard)."""
        taken: list[_Waiting[Item, Outcome]] = []
        seen: set[Hashable] = set()
        for waiting in self._queue:
            if len(taken) == self._most:
                break
            if seen.isdisjoint(waiting.keys):
                taken.append(waiting)
            seen |= waiting.keys  # a later item sharing a key with a skipped one waits behind it too
        for waiting in taken:
            self._queue.remove(waiting)
        return taken

    def _lead(self, batch: list[_Waiting[Item, Outcome]]) -> None:
        try:
            self._settle(batch)
        finally:
            with self._guard:
                self._leading = False
                successor = self._queue[0] if self._queue else None
            for waiting in batch:
                if not waiting.done:  # `_settle` itself broke: no caller may wait for ever
                    _fail(waiting, RuntimeError("the batch this item was in was not applied"))
                waiting.woken.set()
            if successor is not None:
                successor.woken.set()  # the oldest one still waiting leads the next batch

    def _settle(self, batch: list[_Waiting[Item, Outcome]]) -> None:
        try:
            outcomes = self._apply([waiting.item for waiting in batch])
        except Exception as exc:  # (anything else, an interrupt, leaves by `_lead`, failing the batch)
            if len(batch) == 1:
                _fail(batch[0], exc)
                return
            for waiting in batch:  # alone, each item succeeds or fails on its own
                try:
                    _succeed(waiting, self._apply([waiting.item])[0])
                except Exception as alone:
                    _fail(waiting, alone)
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            _succeed(waiting, outcome)


def _succeed(waiting: _Waiting[Item, Outcome], outcome: Outcome) -> None:
    waiting.outcome, waiting.done = outcome, True


def _fail(waiting: _Waiting[Item, Outcome], error: Exception) -> None:
    waiting.error, waiting.done = error, True
