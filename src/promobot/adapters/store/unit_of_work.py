"""One database transaction with every repository on the same Session; rolled back unless committed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from promobot import ports
from promobot.adapters.store.approvals import SqlApprovals
from promobot.adapters.store.artifacts import SqlArtifacts
from promobot.adapters.store.audit import SqlAudit
from promobot.adapters.store.deliveries import SqlDeliveries
from promobot.adapters.store.deployments import SqlDeployments
from promobot.adapters.store.holds import SqlHolds
from promobot.adapters.store.locks import SqlLocks
from promobot.adapters.store.operations import SqlOperations
from promobot.ports import Clock


class SqlUnitOfWork:
    """Implements `ports.UnitOfWork`. After `commit()` or `rollback()` the next statement starts anew.

    The repositories are typed as their ports (the Protocol's attributes are invariant); what the
    adapter offers beyond the ports hangs off the unit of work itself.
    """

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self.operations: ports.Operations = SqlOperations(session, clock)
        self.artifacts: ports.Artifacts = SqlArtifacts(session, clock)
        self.deployments: ports.Deployments = SqlDeployments(session, clock)
        self.holds: ports.Holds = SqlHolds(session)
        self.approvals: ports.Approvals = SqlApprovals(session, clock)
        self._deliveries = SqlDeliveries(session, clock)
        self.deliveries: ports.Deliveries = self._deliveries
        self.locks: ports.Locks = SqlLocks(session)
        self.audit: ports.Audit = SqlAudit(session, clock)

    def commit(self) -> None:
        self._session.commit()

    def rollback(self) -> None:
        self._session.rollback()

    def forget_deliveries_before(self, when: datetime) -> int:
        """Drop delivery ids received before `when`; returns how many (for a periodic clean-up)."""
        return self._deliveries.forget_before(when)
