"""Reading a Kustomization's status: the cases the API fake does not produce on its own."""

from __future__ import annotations

from promobot.adapters.engines import flux_status
from promobot.adapters.engines.flux import Revision
from promobot.domain.deployments import Health

SHA = "3" * 40


def test_reconciling_before_any_ready_condition_is_progressing() -> None:
    kustomization = {"status": {"conditions": [{"type": "Reconciling", "status": "True", "reason": "Progressing"}]}}
    assert flux_status.read(kustomization) == flux_status.Reading(Health.PROGRESSING, Revision("", ""))


def test_a_failure_without_an_attempted_revision_is_about_the_applied_one() -> None:
    status = {"lastAppliedRevision": f"main@sha1:{SHA}",
              "conditions": [{"type": "Ready", "status": "False", "reason": "ReconciliationFailed"}]}  # fmt: skip
    assert flux_status.read({"status": status}) == flux_status.Reading(Health.FAILED, Revision("main", SHA))


def test_an_object_without_status_says_nothing() -> None:
    assert flux_status.read({"metadata": {"name": "web-qa"}}).state is Health.NONE
    assert flux_status.read({"status": {"conditions": "not a list"}}).state is Health.NONE


def test_spec_suspend_true_is_read_as_suspended() -> None:
    ready = {"conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded"}]}
    assert flux_status.read({"spec": {"suspend": True}, "status": ready}).suspended
    assert not flux_status.read({"spec": {"suspend": False}, "status": ready}).suspended
    assert not flux_status.read({"spec": {}, "status": ready}).suspended
