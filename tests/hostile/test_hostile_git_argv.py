"""Through the chat grammar, the service and the worker on real git repositories: whatever is typed, git never
sees it as an option or before `--end-of-options`.

Every `git` command the adapters run is recorded (adapters/gitcli.py's runner, wrapped). The hostile words
carry a canary that no name of promobot's own contains, so any argv element holding one came from what was
typed; such an element must not start with `-` and must follow `--end-of-options`. Accepted commands are
driven by the worker (commits, tags, pushes, pull requests), and nothing may crash on the way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promobot.adapters import gitcli
from promobot.service import chatting, working
from support import logwatch, tally
from support.hostile_data import FUZZ
from support.webapp import Web

SUITE = "hostile input"
CANARIES = ("XHOSTILE", "zqxjhostile")
TEMPLATES = [
    "{c}", "-{c}", "--{c}", "--upload-pack={c}", "--output=/tmp/{c}", "-c{c}", "web:{c}", "web:--{c}", "web:-{c}",
    "web:dev-{c}", "dev-{c}", "web:dev-1a2b3c4{c}", "{c}@qa", "web@{c}", "web@-{c}", "{c}:dev-1a2b3c4",
    "refs/heads/{c}", "{c}..HEAD", "HEAD~1{c}", "@{{-1}}{c}", "{c}/../x", "web:{c}-1a2b3c4",
]  # fmt: skip
HOSTILE = st.tuples(st.sampled_from(TEMPLATES), st.sampled_from(CANARIES)).map(lambda tc: tc[0].format(c=tc[1]))
VERBS = ["/promote", "/rollback", "/diff", "/promobot history", "/promobot status", "/list", "/lock", "/unlock"]
ENVS = ["development", "qa", "prod"]


class Recorded:
    def __init__(self) -> None:
        self.argvs: list[list[str]] = []

    def __call__(self, original: Any) -> Any:
        def run(args: Sequence[str], **kwargs: Any) -> Any:
            self.argvs.append([str(a) for a in args])
            return original(args, **kwargs)

        return run


def check(argv: list[str]) -> None:
    """No element holding typed text (a canary) is an option or comes before `--end-of-options`."""
    for at, element in enumerate(argv):
        if any(canary in element for canary in CANARIES):
            assert not element.startswith("-"), f"typed text as a git option: {argv}"
            assert "--end-of-options" in argv[:at], f"typed text before --end-of-options: {argv}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    made = Web(tmp_path_factory.mktemp("argv") / "sandbox", configure=lambda s, _: s.update(builder={"kind": "none"}))
    made.deployed("web", "development", made.source("web"))
    made.deployed("web", "qa", made.source("web", "qa"))  # so web@qa may go on to prod (a pull request)
    made.deployed("api", "development", made.source("api"))  # so api may go on to qa (a commit and a tag)
    yield made
    made.close()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    found = Recorded()
    monkeypatch.setattr(gitcli, "run", found(gitcli.run))
    return found


def _words(site: Web) -> st.SearchStrategy[str]:
    sha = site.source("web")
    valid = [
        "web", "api", *ENVS, f"web:dev-{sha[:7]}", f"dev-{sha[:7]}", sha[:7], sha[:4], sha, "web@development",
        "web@qa", "1", "2",
    ]  # fmt: skip
    return HOSTILE | st.sampled_from(valid) | st.text(max_size=12)


def _commands(site: Web) -> st.SearchStrategy[str]:
    """Whole commands that get through, some with a hostile word where a name goes."""
    sha = site.source("web")[:7]
    lines = [
        "/promote web@qa prod", f"/promote web:dev-{sha}", f"/promote web:dev-{sha} qa", "/diff development qa",
        "/diff qa prod web", "/promobot history web qa", "/rollback web development", "/list",
    ]  # fmt: skip
    hostile = st.tuples(st.sampled_from(lines), HOSTILE).map(lambda lh: lh[0].replace("web", lh[1], 1))
    return st.sampled_from(lines) | hostile


def _drive(site: Web) -> None:
    """Let the worker take every step it can now (commits, tags, pushes, pull requests)."""
    backoff = working.Backoff(rest=0.0, approval_rest=0.0)
    for _ in range(3):
        if not working.tick(site.application.ctx, backoff):
            return


def test_the_check_sees_the_workers_git_commands_and_would_catch_typed_text(site: Web, recorded: Recorded) -> None:
    """The instrument works: a real promotion runs git through it, and a leak of typed text would fail."""
    ctx = site.application.ctx
    answer = chatting.answer(ctx, ctx.users["release-manager"], f"/promote api:dev-{site.source('api')[:7]}")
    assert answer.operation is not None, answer.message
    _drive(site)
    assert any("commit-tree" in argv for argv in recorded.argvs), recorded.argvs
    for argv in recorded.argvs:
        check(argv)
    with pytest.raises(AssertionError, match="option"):
        check(["rev-parse", "--upload-pack=XHOSTILE"])
    with pytest.raises(AssertionError, match="end-of-options"):
        check(["log", "web@XHOSTILE", "--end-of-options"])


@given(data=st.data())
@settings(FUZZ, max_examples=100)
def test_whatever_is_typed_in_chat_git_never_reads_it_as_an_option(
    site: Web, recorded: Recorded, data: st.DataObject
) -> None:
    typed = st.tuples(st.sampled_from(VERBS), st.lists(_words(site), max_size=3)).map(
        lambda vw: " ".join([vw[0], *vw[1]])
    )
    text = data.draw(typed | _commands(site), label="text")
    ctx = site.application.ctx
    recorded.argvs.clear()
    with logwatch.watching() as seen:
        answer = chatting.answer(ctx, ctx.users["developer"], text)  # a refusal is an answer too
        if answer.operation is not None:
            _drive(site)
    tally.add(SUITE, "fuzz cases")
    tally.add(SUITE, "git commands checked", len(recorded.argvs))
    for argv in recorded.argvs:
        check(argv)
    assert not seen.failures(), seen.failures()


@given(data=st.data())
@FUZZ
def test_whatever_is_sent_to_the_api_is_a_4xx_or_taken_and_git_never_reads_it_as_an_option(
    site: Web, recorded: Recorded, data: st.DataObject
) -> None:
    words = _words(site)
    first, second = data.draw(words, label="first"), data.draw(st.none() | words, label="second")
    route = data.draw(st.sampled_from(["promote", "rollback", "diff", "history"]), label="route")
    recorded.argvs.clear()
    with logwatch.watching() as seen:
        if route in ("promote", "rollback"):
            key = "artifact" if route == "promote" else "target"
            answer = site.post(f"/api/{route}", {key: first, "env": second})
        else:
            answer = site.get(f"/api/{route}/{quote(first, safe='')}/{quote(second or 'qa', safe='')}")
        if answer.status_code == 202:
            _drive(site)
    tally.add(SUITE, "fuzz cases")
    tally.add(SUITE, "git commands checked", len(recorded.argvs))
    assert answer.status_code < 500, answer.text
    for argv in recorded.argvs:
        check(argv)
    assert not seen.failures(), seen.failures()


def test_the_sandbox_refs_are_left_as_git_names_them(site: Web) -> None:
    """Nothing typed became a ref: every ref in the repositories is one promobot names."""
    for bare in sorted((site.root / "git").glob("*.git")):
        refs = [str(p.relative_to(bare)) for p in (bare / "refs").rglob("*") if p.is_file()]
        assert not [ref for ref in refs if any(c in ref for c in CANARIES)], refs
    assert isinstance(site.root, Path)
