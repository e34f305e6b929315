"""Group commit (`service.batching`): items waiting together share a batch, overlapping keys never do, and
one bad item fails only its own caller."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from promobot.service.batching import Batches


class Recorder:
    """An `apply` that records its batches; the first batch waits until `release` so others pile up."""

    def __init__(self, *, hold_first: bool = True) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.entered = threading.Event()
        self._hold = hold_first
        self._lock = threading.Lock()

    def __call__(self, items: Sequence[str]) -> list[str]:
        with self._lock:
            self.batches.append(list(items))
            first = len(self.batches) == 1
        if first and self._hold:
            self.entered.set()
            assert self.release.wait(10)
        bad = [item for item in items if item.startswith("bad")]
        if bad:
            raise ValueError(f"cannot apply {bad[0]}")
        return [item.upper() for item in items]


def _key(item: str) -> list[str]:
    return [item.split("/")[0]]


def _started(
    pool: ThreadPoolExecutor, batches: Batches[str, str], items: list[str], recorder: Recorder
) -> list[Future[str]]:
    """Submit `lead/0` alone (it leads and waits in `apply`), then `items`, then let the first batch go."""
    lead = pool.submit(batches.run, "lead/0")
    assert recorder.entered.wait(10)
    futures = [pool.submit(batches.run, item) for item in items]
    while batches.waiting() < len(items):  # every one of them waits
        threading.Event().wait(0.01)
    recorder.release.set()
    return [lead, *futures]


def test_a_lone_item_is_applied_at_once_in_a_batch_of_its_own() -> None:
    recorder = Recorder(hold_first=False)
    batches: Batches[str, str] = Batches(recorder, _key)
    assert batches.run("a/1") == "A/1"
    assert batches.run("b/1") == "B/1"
    assert recorder.batches == [["a/1"], ["b/1"]]


def test_items_that_wait_together_are_applied_in_one_batch_in_arrival_order() -> None:
    recorder = Recorder()
    batches: Batches[str, str] = Batches(recorder, _key)
    with ThreadPoolExecutor(8) as pool:
        futures = _started(pool, batches, [f"app{n}/1" for n in range(6)], recorder)
        results = [future.result(10) for future in futures]
    assert results == ["LEAD/0", *(f"APP{n}/1" for n in range(6))]
    assert recorder.batches[0] == ["lead/0"]
    assert len(recorder.batches) == 2  # everything that waited went in one more batch
    assert sorted(recorder.batches[1]) == sorted(f"app{n}/1" for n in range(6))


def test_items_sharing_a_key_never_share_a_batch_and_keep_their_order() -> None:
    recorder = Recorder()
    batches: Batches[str, str] = Batches(recorder, _key)
    with ThreadPoolExecutor(8) as pool:
        futures = _started(pool, batches, ["web/1", "api/1", "web/2", "web/3"], recorder)
        for future in futures:
            future.result(10)
    web = [item for batch in recorder.batches for item in batch if item.startswith("web")]
    assert web == ["web/1", "web/2", "web/3"]  # each later one saw the one before applied
    for batch in recorder.batches:
        assert len({_key(item)[0] for item in batch}) == len(batch), f"a key twice in {batch}"


def test_a_batch_holds_at_most_its_limit() -> None:
    recorder = Recorder()
    batches: Batches[str, str] = Batches(recorder, _key, most=3)
    with ThreadPoolExecutor(10) as pool:
        futures = _started(pool, batches, [f"app{n}/1" for n in range(7)], recorder)
        for future in futures:
            future.result(10)
    assert [len(batch) for batch in recorder.batches[1:]] == [3, 3, 1]


def test_one_bad_item_fails_its_own_caller_only_and_the_rest_are_applied() -> None:
    recorder = Recorder()
    batches: Batches[str, str] = Batches(recorder, _key)
    with ThreadPoolExecutor(8) as pool:
        futures = _started(pool, batches, ["a/1", "bad/1", "c/1"], recorder)
        futures[0].result(10)
        assert futures[1].result(10) == "A/1"
        with pytest.raises(ValueError, match="cannot apply bad/1"):
            futures[2].result(10)
        assert futures[3].result(10) == "C/1"
    assert ["a/1"] in recorder.batches and ["c/1"] in recorder.batches  # tried again alone


def test_an_apply_that_returns_the_wrong_count_fails_every_caller_instead_of_hanging() -> None:
    batches: Batches[str, str] = Batches(lambda items: [], _key)
    with pytest.raises(ValueError):
        batches.run("a/1")


def test_an_interrupt_while_applying_reaches_the_leader_and_fails_the_batch_without_retrying_it() -> None:
    calls: list[list[str]] = []

    def interrupted(items: Sequence[str]) -> list[str]:
        calls.append(list(items))
        raise KeyboardInterrupt

    batches: Batches[str, str] = Batches(interrupted, _key)
    with pytest.raises(KeyboardInterrupt):
        batches.run("a/1")
    assert calls == [["a/1"]]  # not tried again alone
