"""The adapters' shared retrying call against a scripted server on loopback: what is retried, how long it waits."""

from __future__ import annotations

import logging
import socket
from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import pytest

from promobot.adapters import http_calls
from promobot.domain import errors
from support.fake_kubernetes import certificates
from support.loopback_http import Answer, JsonApp, Request, serve, tls_context

TOKEN = "secret-bearer-0123456789"


class Scripted(JsonApp):
    """Answers each request with the next scripted answer, then 200 `{"ok": true}`."""

    def __init__(self) -> None:
        super().__init__()
        self.script: list[Answer] = []

    def handle(self, request: Request) -> Answer:
        return self.script.pop(0) if self.script else Answer(200, {"ok": True})


@pytest.fixture
def server() -> Iterator[Scripted]:
    with serve(Scripted()) as app:
        assert isinstance(app, Scripted)
        yield app


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2.0) as client:
        yield client


def busy(status: int = 503, **headers: str) -> Answer:
    return Answer(status, {"message": "warming up"}, headers)


def explain(response: httpx.Response) -> str:
    return str(response.json().get("message", ""))


def call(http: httpx.Client, url: str, waits: list[float], **policy: object) -> httpx.Response:
    peer = http_calls.Peer(name="Example", where=url, explain=explain, hint="promobot will try again")
    rules = http_calls.Policy(sleep=waits.append, **policy)  # type: ignore[arg-type]
    return http_calls.send(http, "GET", url + "/things/1", peer=peer, policy=rules)


def test_server_errors_are_retried_with_a_growing_wait_until_one_succeeds(server: Scripted, http: httpx.Client) -> None:
    server.script = [busy(503), busy(502)]
    waits: list[float] = []
    assert call(http, server.base_url, waits, attempts=3, backoff=0.5).json() == {"ok": True}
    assert (len(server.requests), waits) == (3, [0.5, 1.0])


def test_answers_the_policy_does_not_retry_come_back_at_once(server: Scripted, http: httpx.Client) -> None:
    server.script = [busy(429), busy(404)]
    waits: list[float] = []
    assert call(http, server.base_url, waits).status_code == 429  # only 5xx are retried by default
    assert call(http, server.base_url, waits).status_code == 404
    assert (len(server.requests), waits) == (2, [])


def test_lasting_failures_become_one_temporary_error_after_every_attempt(
    server: Scripted, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.script = [busy(500)] * 3
    with pytest.raises(errors.TemporaryError) as caught:
        call(http, server.base_url, [], attempts=3, backoff=0.0)
    assert str(caught.value) == "Example answered 500 to GET /things/1: warming up; promobot will try again"
    assert caught.value.retry_after == 5.0
    assert len(server.requests) == 3
    assert "(attempt 3 of 3)" in caplog.text
    assert TOKEN not in caplog.text


def test_a_short_retry_after_is_waited_and_a_long_one_handed_to_the_caller(
    server: Scripted, http: httpx.Client
) -> None:
    retried = {"retried": lambda r: r.status_code == 429}
    server.script = [busy(429, **{"Retry-After": "2"})]
    waits: list[float] = []
    assert call(http, server.base_url, waits, backoff=0.5, **retried).status_code == 200
    assert waits == [2.0]
    server.script = [busy(429, **{"Retry-After": "120"})]
    with pytest.raises(errors.TemporaryError, match="answered 429") as caught:
        call(http, server.base_url, waits, **retried)
    assert caught.value.retry_after == 120.0
    assert waits == [2.0]  # no second request: the server asked for longer than promobot waits in a call
    assert len(server.requests) == 3


def test_the_last_retry_after_sets_when_the_caller_tries_again(server: Scripted, http: httpx.Client) -> None:
    server.script = [busy(503, **{"Retry-After": "3"})]
    with pytest.raises(errors.TemporaryError) as caught:
        call(http, server.base_url, [], attempts=1)
    assert caught.value.retry_after == 3.0
    server.script = [busy(503, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})]
    with pytest.raises(errors.TemporaryError) as caught:
        call(http, server.base_url, [], attempts=1)
    assert caught.value.retry_after == 5.0  # a date is not read: the policy's own delay


def test_an_unreachable_server_is_retried_then_temporary(http: httpx.Client) -> None:
    waits: list[float] = []
    with pytest.raises(errors.TemporaryError) as caught:
        call(http, "http://127.0.0.1:9", waits, attempts=2, backoff=0.25)
    assert str(caught.value) == "cannot reach Example at http://127.0.0.1:9 (ConnectError); promobot will try again"
    assert waits == [0.25]


class TokenServerDown(httpx.Auth):
    """An auth flow whose own token call fails for now the first `times` requests."""

    def __init__(self, times: int) -> None:
        self.times = times

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.times > 0:
            self.times -= 1
            raise errors.TemporaryError("the token server answered 503")
        yield request


def test_a_temporary_failure_of_the_auth_flow_is_retried_and_named_with_the_request(
    server: Scripted, http: httpx.Client
) -> None:
    waits: list[float] = []
    http.auth = TokenServerDown(times=1)
    assert call(http, server.base_url, waits, attempts=2, backoff=0.25).status_code == 200
    assert (len(server.requests), waits) == (1, [0.25])
    http.auth = TokenServerDown(times=2)
    with pytest.raises(errors.TemporaryError) as caught:
        call(http, server.base_url, waits, attempts=2, backoff=0.25)
    assert str(caught.value) == "the token server answered 503 (for GET /things/1); promobot will try again"
    assert len(server.requests) == 1  # the failing flow sent nothing


def test_a_server_that_does_not_answer_in_time_is_named_with_the_request() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent, httpx.Client(timeout=0.2) as http:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"  # connects (the kernel's backlog), never answers
        with pytest.raises(errors.TemporaryError) as caught:
            call(http, url, [], attempts=2, backoff=0.0)
    assert str(caught.value) == "Example did not answer GET /things/1 in time; promobot will try again"


def test_a_certificate_promobot_does_not_trust_is_permanent_and_nothing_is_sent(
    http: httpx.Client, tmp_path: Path
) -> None:
    pki = certificates(tmp_path, "untrusted")
    with serve(Scripted(), tls=tls_context(pki.cert, pki.key)) as app:
        peer = http_calls.Peer(name="Example", where=app.base_url, explain=explain, trust_hint="add its CA")
        waits: list[float] = []
        with pytest.raises(errors.PermanentError) as caught:
            http_calls.send(http, "GET", app.base_url + "/x", peer=peer, policy=http_calls.Policy(sleep=waits.append))
        assert str(caught.value) == f"Example at {app.base_url} has a certificate promobot does not trust; add its CA"
        assert (app.requests, waits) == ([], [])
