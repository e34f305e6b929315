"""The chat message of an operation: stored on its own, and never erased by a save of a stale copy."""

from __future__ import annotations

from store_samples import operation

from promobot.adapters.store.sql import SqlStore
from promobot.domain.operations import Step


def test_a_stale_save_keeps_the_chat_message_the_reporter_stored(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        added = uow.operations.add(operation())
        uow.commit()
    assert added.id is not None and (added.chat_channel, added.chat_ts) == ("", "")

    with store.unit_of_work() as uow:
        uow.operations.set_chat_message(added.id, "C0DEPLOYS", "1700000000.000100")
        uow.commit()
    with store.unit_of_work() as uow:  # the worker still holds the copy it read before
        saved = uow.operations.save(added.at(Step.BRANCH_UPDATED, "moved on"))
        uow.commit()

    assert (saved.chat_channel, saved.chat_ts) == ("C0DEPLOYS", "1700000000.000100")
    assert saved.step is Step.BRANCH_UPDATED
