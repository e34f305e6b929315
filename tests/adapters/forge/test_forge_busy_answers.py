"""A busy or rate-limiting forge is a TemporaryError carrying its Retry-After, sent once; a refusal is permanent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from forge_samples import REPO

from promobot.adapters.forge.github import GitHubForge
from promobot.domain import errors
from support.loopback_http import Answer, JsonApp, Request, serve

TOKEN = "ghp_busy0forge0token"


class Busy(JsonApp):
    """A forge answering every request with one fixed answer."""

    answer = Answer(503, {"message": "Service Unavailable"})

    def handle(self, request: Request) -> Answer:
        return self.answer


@pytest.fixture
def busy() -> Iterator[Busy]:
    with serve(Busy()) as app:
        assert isinstance(app, Busy)
        yield app


@pytest.fixture
def forge(busy: Busy) -> Iterator[GitHubForge]:
    forge = GitHubForge(api_url=busy.base_url, token=TOKEN, repos={"web": REPO})
    yield forge
    forge.close()


@pytest.mark.parametrize(
    ("answer", "retry_after"),
    [
        (Answer(503, {"message": "Service Unavailable"}), 5.0),
        (Answer(429, {"message": "slow down"}, {"Retry-After": "42"}), 42.0),
        (Answer(403, {"message": "API rate limit exceeded"}, {"X-RateLimit-Remaining": "0"}), 5.0),
        (Answer(403, {"message": "secondary rate limit"}, {"Retry-After": "600"}), 300.0),
    ],
)
def test_a_busy_forge_is_asked_once_and_named_in_one_line(
    busy: Busy, forge: GitHubForge, answer: Answer, retry_after: float
) -> None:
    busy.answer = answer
    with pytest.raises(errors.TemporaryError) as caught:
        forge.review_state("web", 1)
    said = answer.body["message"]
    assert str(caught.value) == f"GitHub answered {answer.status} to GET /repos/{REPO}/pulls/1: {said}"
    assert caught.value.retry_after == retry_after
    assert len(busy.requests) == 1  # the caller's retry schedule waits, not a thread of promobot's


def test_a_403_without_a_rate_limit_is_a_missing_permission(busy: Busy, forge: GitHubForge) -> None:
    busy.answer = Answer(403, {"message": "Resource not accessible by integration"})
    with pytest.raises(errors.PermanentError, match="does not let promobot's token do GET") as caught:
        forge.review_state("web", 1)
    assert TOKEN not in f"{caught.value} {caught.value.hint}"
