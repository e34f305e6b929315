"""Fuzzed bodies, correctly signed, at every intake endpoint: a 4xx or an ignoring 2xx, never a 5xx, never a
traceback or an error in the log. Bodies are random bytes, random JSON, or the real sender's payload with
fields dropped, mutated in depth or given the wrong type.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support import logwatch, tally
from support.hostile_data import FUZZ, bodies_for
from support.intake_endpoints import ENDPOINTS, Endpoint
from support.intake_site import IntakeSite

SUITE = "hostile input"


def _one_clear_line(text: str, content_type: str) -> bool:
    if content_type.startswith("application/json"):
        error = json.loads(text).get("error")
        message = error.get("message", "") if isinstance(error, dict) else error
        return isinstance(message, str) and bool(message.strip()) and "\n" not in message
    return bool(text.strip()) and "\n" not in text.strip()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
@given(data=st.data())
@settings(FUZZ, max_examples=70)
def test_a_fuzzed_signed_body_is_refused_or_ignored_never_a_server_error(
    sites: dict[str, IntakeSite], endpoint: Endpoint, data: st.DataObject
) -> None:
    site = sites[endpoint.site]
    kind, value = data.draw(bodies_for(endpoint.sample(site)), label="body")
    body = value if kind == "bytes" else endpoint.encode(value)
    headers = endpoint.headers(site, body)
    with logwatch.watching() as seen:
        answer = site.http.post(endpoint.path, content=body, headers=headers)
        site.settle()  # chat work queued after Slack's ack runs now, inside the watch

    tally.add(SUITE, "fuzz cases")
    assert answer.status_code < 500, answer.text
    assert 200 <= answer.status_code < 300 or 400 <= answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        tally.add(SUITE, "fuzzed intake bodies refused with a 4xx")
        assert _one_clear_line(answer.text, answer.headers.get("content-type", "")), answer.text
    assert not seen.failures(), seen.failures()
