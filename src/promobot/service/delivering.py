"""Webhook deliveries: each taken once by its id, handed to the intake, and recorded in the audit log.

The audit entry names the source and delivery id and says what the delivery became (or that it was a
duplicate, or that handling it failed, in which case its id is forgotten so the sender's retry is handled).

A delivery of one deployment report (the engines' bulk of traffic) goes through a group commit
(`batching`): the reports arriving together take one transaction, in which each one's delivery id, effect
and audit entry are written with one statement per table for all of them. A lone report is a batch of one.
Each caller then does its own report's follow-up (listeners told, the operation it ends finished).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from promobot.domain import audit
from promobot.domain.events import DeploymentReported, Event
from promobot.service import auditing, intake
from promobot.service.batching import Batches
from promobot.service.context import Context

DUPLICATE = "duplicate"
FAILED = "failed"
ALREADY_HANDLED = "already handled; ignored"
BATCH_MOST = 100  # reports per transaction at most


def deliver(ctx: Context, source: str, delivery: str, events: Sequence[Event], *, sender: str = "") -> bool:
    """Handle `events` of one delivery unless its id was seen before (then False, nothing done).

    `sender`: who sent it, as the audit log's actor (default: the source, e.g. `github`).
    """
    subject = f"{source} delivery {delivery or '(no id)'}"
    actor = sender or source
    if len(events) == 1 and isinstance(events[0], DeploymentReported):
        return _report(ctx, _Report(source, delivery, events[0], actor, subject))
    if delivery:
        with ctx.store.unit_of_work() as uow:
            first = uow.deliveries.first_time(source, delivery)
            uow.commit()
        if not first:
            auditing.record(ctx, audit.Entry(actor, audit.WEBHOOK, subject, DUPLICATE, ALREADY_HANDLED))
            return False
    became: list[str] = []
    try:
        for event in events:
            became.append(intake.handle(ctx, event))
    except Exception as exc:
        if delivery:  # let the sender's retry of this delivery through
            _forget(ctx, source, delivery)
        auditing.record(ctx, audit.Entry(actor, audit.WEBHOOK, subject, FAILED, "; ".join([*became, str(exc)])))
        raise
    auditing.record(ctx, audit.Entry(actor, audit.WEBHOOK, subject, audit.ACCEPTED, "; ".join(became)))
    return True


@dataclass(frozen=True)
class _Report:
    source: str
    delivery: str
    event: DeploymentReported
    actor: str
    subject: str


@dataclass(frozen=True)
class _Taken:
    """A report's outcome in its batch: `applied` is None for a duplicate delivery."""

    applied: intake.Applied | None


def _report(ctx: Context, report: _Report) -> bool:
    committed = False
    try:
        ctx.pipeline.app(report.event.app)  # a report naming no configured app fails alone, not its batch
        ctx.pipeline.env(report.event.env)
        taken = _batches(ctx).run(report)
        committed = True
        if taken.applied is not None:
            intake.after_report(ctx, report.event, taken.applied)
    except Exception as exc:
        if report.delivery and committed:  # the effect stands, but let the sender's retry of this delivery through
            _forget(ctx, report.source, report.delivery)
        auditing.record(ctx, audit.Entry(report.actor, audit.WEBHOOK, report.subject, FAILED, str(exc)))
        raise
    return taken.applied is not None


def _apply(ctx: Context, reports: Sequence[_Report]) -> list[_Taken]:
    """One transaction for the batch: the delivery ids, the reports' effects and their audit entries."""
    with ctx.store.unit_of_work() as uow:
        named = [(report.source, report.delivery) for report in reports if report.delivery]
        fresh = uow.deliveries.first_times(named) if named else set()
        first = [not report.delivery or (report.source, report.delivery) in fresh for report in reports]
        effects = iter(intake.apply_reports(ctx, uow, [r.event for r, new in zip(reports, first, strict=True) if new]))
        taken = [_Taken(next(effects) if new else None) for new in first]
        uow.audit.append_all([_entry(report, each) for report, each in zip(reports, taken, strict=True)])
        uow.commit()
    return taken


def _entry(report: _Report, taken: _Taken) -> audit.Entry:
    if taken.applied is None:
        return audit.Entry(report.actor, audit.WEBHOOK, report.subject, DUPLICATE, ALREADY_HANDLED)
    return audit.Entry(report.actor, audit.WEBHOOK, report.subject, audit.ACCEPTED, taken.applied.became)


def _keys(report: _Report) -> list[Hashable]:
    """Reports sharing one of these wait for each other's batch: one deployment's, one delivery id's."""
    keys: list[Hashable] = [("pair", report.event.app, report.event.env)]
    if report.delivery:
        keys.append(("delivery", report.source, report.delivery))
    return keys


_creating = threading.Lock()


def _batches(ctx: Context) -> Batches[_Report, _Taken]:
    """The context's group commit for reports, made on first use."""
    if ctx.report_batches is None:
        with _creating:
            if ctx.report_batches is None:
                ctx.report_batches = Batches(lambda reports: _apply(ctx, reports), _keys, most=BATCH_MOST)
    return ctx.report_batches


def _forget(ctx: Context, source: str, delivery: str) -> None:
    with ctx.store.unit_of_work() as uow:
        uow.deliveries.forget(source, delivery)
        uow.commit()
