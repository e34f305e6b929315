"""The deliveries repository: webhook delivery ids already handled, so a redelivery is ignored."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from promobot.adapters.store import writes
from promobot.adapters.store.tables import deliveries
from promobot.ports import Clock


class SqlDeliveries:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def first_time(self, source: str, delivery_id: str) -> bool:
        """Record (source, delivery_id); False when it was recorded before. The transaction stays usable."""
        return writes.insert_unless_duplicate(
            self._session,
            deliveries,
            {"source": source, "delivery_id": delivery_id, "received_at": self._clock.now()},
        )

    def first_times(self, keys: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Record each (source, delivery_id); returns those not recorded before, in one statement."""
        if not keys:
            return set()
        now = self._clock.now()
        rows = [{"source": source, "delivery_id": delivery, "received_at": now} for source, delivery in sorted(keys)]
        return writes.insert_many_unless_duplicate(self._session, deliveries, rows, ("source", "delivery_id"))

    def forget(self, source: str, delivery_id: str) -> None:
        """Drop one delivery id, so a redelivery of an event that failed is handled again."""
        self._session.execute(
            delete(deliveries).where(deliveries.c.source == source, deliveries.c.delivery_id == delivery_id)
        )

    def forget_before(self, when: datetime) -> int:
        """Drop delivery ids received before `when` (redeliveries come within hours); returns how many."""
        return writes.rowcount(self._session.execute(delete(deliveries).where(deliveries.c.received_at < when)))
