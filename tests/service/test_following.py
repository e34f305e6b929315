"""Following the change log: each change once, and one that commits after a later id's is still seen;
an id that never commits is given up after the settle time."""

from __future__ import annotations

from promobot import ports
from promobot.following import Follower


class Log:
    """A change log whose committed ids the test chooses (the order a PostgreSQL reader may see them)."""

    def __init__(self, *committed: int) -> None:
        self.committed = set(committed)

    def version(self, floor: int) -> tuple[int, int]:
        above = [i for i in self.committed if i > floor]
        return max(above, default=floor), len(above)

    def settled(self, before: object) -> int:
        return 0

    def after(self, change_id: int, *, limit: int) -> list[ports.LoggedChange]:
        ids = sorted(i for i in self.committed if i > change_id)[:limit]
        return [ports.LoggedChange(id=i, kind="operation", app="web", env="qa", value=None) for i in ids]

    def oldest(self) -> int | None:
        return min(self.committed, default=None)


class Clock:
    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


def _ids(follower: Follower) -> list[int]:
    found, _ = follower.poll()
    return [change.id for change in found]


def test_changes_arrive_once_in_id_order_starting_after_the_present() -> None:
    log = Log(1, 2)
    follower = Follower(log)
    log.committed |= {3, 4}
    assert _ids(follower) == [3, 4]
    assert _ids(follower) == []
    log.committed.add(5)
    assert _ids(follower) == [5]


def test_an_id_that_commits_after_a_later_one_is_still_delivered() -> None:
    log, clock = Log(1), Clock()
    follower = Follower(log, settle_seconds=10, monotonic=clock)
    log.committed.add(3)  # 2 is still in flight
    assert _ids(follower) == [3]
    clock.at = 5
    log.committed.add(2)
    assert _ids(follower) == [2]
    assert _ids(follower) == []


def test_an_id_that_never_commits_is_given_up_after_the_settle_time() -> None:
    log, clock = Log(1), Clock()
    follower = Follower(log, settle_seconds=10, monotonic=clock)
    log.committed.add(3)  # 2 rolled back
    assert _ids(follower) == [3]
    clock.at = 11
    assert _ids(follower) == []
    log.committed.add(2)  # cannot happen for a rolled-back id; shows it is no longer looked for
    assert _ids(follower) == []
