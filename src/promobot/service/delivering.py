"""Webhook deliveries: each taken once by its id, handed to the intake, and recorded in the audit log.

The audit entry names the source and delivery id and says what the delivery became (or that it was a
duplicate, or that handling it failed, in which case its id is forgotten so the sender's retry is handled).
A delivery of one deployment report (the engines' bulk of traffic) takes one transaction: its id, the
report's effect and the audit entry commit together, so a failure leaves no id behind to forget.
"""

from __future__ import annotations

from collections.abc import Sequence

from promobot.domain import audit
from promobot.domain.events import DeploymentReported, Event
from promobot.service import auditing, intake
from promobot.service.context import Context

DUPLICATE = "duplicate"
FAILED = "failed"


def deliver(ctx: Context, source: str, delivery: str, events: Sequence[Event], *, sender: str = "") -> bool:
    """Handle `events` of one delivery unless its id was seen before (then False, nothing done).

    `sender`: who sent it, as the audit log's actor (default: the source, e.g. `github`).
    """
    subject = f"{source} delivery {delivery or '(no id)'}"
    actor = sender or source
    if len(events) == 1 and isinstance(events[0], DeploymentReported):
        return _report(ctx, source, delivery, events[0], actor, subject)
    if delivery:
        with ctx.store.unit_of_work() as uow:
            first = uow.deliveries.first_time(source, delivery)
            uow.commit()
        if not first:
            auditing.record(ctx, audit.Entry(actor, audit.WEBHOOK, subject, DUPLICATE, "already handled; ignored"))
            return False
    became: list[str] = []
    try:
        for event in events:
            became.append(intake.handle(ctx, event))
    except Exception as exc:
        if delivery:  # let the sender's retry of this delivery through
            with ctx.store.unit_of_work() as uow:
                uow.deliveries.forget(source, delivery)
                uow.commit()
        auditing.record(ctx, audit.Entry(actor, audit.WEBHOOK, subject, FAILED, "; ".join([*became, str(exc)])))
        raise
    auditing.record(ctx, audit.Entry(actor, audit.WEBHOOK, subject, audit.ACCEPTED, "; ".join(became)))
    return True


def _report(ctx: Context, source: str, delivery: str, event: DeploymentReported, actor: str, subject: str) -> bool:
    committed = False
    try:
        with ctx.store.unit_of_work() as uow:
            if delivery and not uow.deliveries.first_time(source, delivery):
                uow.audit.append(audit.Entry(actor, audit.WEBHOOK, subject, DUPLICATE, "already handled; ignored"))
                uow.commit()
                return False
            applied = intake.apply_report(ctx, uow, event)
            uow.audit.append(audit.Entry(actor, audit.WEBHOOK, subject, audit.ACCEPTED, applied.became))
            uow.commit()
        committed = True
        intake.after_report(ctx, event, applied)
    except Exception as exc:
        if delivery and committed:  # the effect stands, but let the sender's retry of this delivery through
            with ctx.store.unit_of_work() as uow:
                uow.deliveries.forget(source, delivery)
                uow.commit()
        auditing.record(ctx, audit.Entry(actor, audit.WEBHOOK, subject, FAILED, str(exc)))
        raise
    return True
