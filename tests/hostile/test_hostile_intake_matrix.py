"""Every intake endpoint refuses a request that is unsigned, wrongly signed, signed over other bytes, stale
or carrying a person's token, and nothing is done: no row of any table, no git ref, no Slack message.
A replayed delivery (same delivery id, or the same Slack signature and timestamp) does nothing twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from support import tally
from support.intake_endpoints import ENDPOINTS, Endpoint
from support.intake_site import IntakeSite

SUITE = "hostile input"
CASES = [(endpoint, how) for endpoint in ENDPOINTS for how in endpoint.refusals]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_the_real_senders_signed_request_is_taken(sites: dict[str, IntakeSite], endpoint: Endpoint) -> None:
    """The control: the same request, rightly signed, gets through (so a refusal below is the signature's)."""
    site = sites[endpoint.site]
    body = endpoint.encode(endpoint.sample(site))
    answer = site.http.post(endpoint.path, content=body, headers=endpoint.headers(site, body))
    assert 200 <= answer.status_code < 300, answer.text


@pytest.mark.parametrize(("endpoint", "how"), CASES, ids=[f"{e.name}-{how}" for e, how in CASES])
def test_a_request_not_signed_by_its_sender_is_refused_and_nothing_is_done(
    sites: dict[str, IntakeSite], endpoint: Endpoint, how: str
) -> None:
    site = sites[endpoint.site]
    body = endpoint.encode(endpoint.sample(site))
    before = site.state()

    answer = site.http.post(endpoint.path, content=body, headers=endpoint.headers(site, body, how))

    assert answer.status_code == 401, answer.text
    assert answer.text.strip() and "\n" not in answer.text.strip()
    assert site.state() == before
    tally.add(SUITE, "refused requests")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_a_replayed_delivery_does_nothing_the_second_time(sites: dict[str, IntakeSite], endpoint: Endpoint) -> None:
    site = sites[endpoint.site]
    body = endpoint.encode(endpoint.sample(site))
    headers = endpoint.headers(site, body, delivery="replayed-delivery-" + endpoint.name.replace(" ", "-"))
    first = site.http.post(endpoint.path, content=body, headers=headers)
    assert 200 <= first.status_code < 300, first.text
    before = site.state()

    again = site.http.post(endpoint.path, content=body, headers=headers)

    assert again.status_code < 500, again.text
    after = site.state()
    assert _changed(before, after) <= {"audit", "slack"}, (before, after)
    assert set(after["audit"][len(before["audit"]) :]) <= {"duplicate"}
    tally.add(SUITE, "refused requests")


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """What differs; table counts by table name, the audit log as `audit`, Slack as `slack`."""
    changed = {table for table, count in after["rows"].items() if before["rows"][table] != count}
    changed |= {"refs"} if before["refs"] != after["refs"] else set()
    changed |= {"slack"} if before["slack"] != after["slack"] else set()
    return changed
