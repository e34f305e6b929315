"""Hypothesis strategies for hostile input: what people type and what senders post.

`TYPED`: text a person could type (any characters, plus option-looking and ref-looking words);
`JSON`: any JSON value; `shaped_like(sample)`: the sample payload with fields dropped, kept, mutated or
given the wrong type, at every depth; `bodies_for(sample)`: random bytes, random JSON or a mutated sample.
`FUZZ` is the one settings profile of the hostile suites: few enough examples to stay quick on two
cores, no deadline (a request may touch git), and derandomized so every run tries the same cases.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE_WORDS = [
    "--output=/tmp/x", "-x", "--upload-pack=touch /tmp/pwned", "-c", "core.sshCommand=sh", "--exec=sh",
    "-oProxyCommand=sh", "--force", "--delete", "-d", "--end-of-options", "--", "-", "@{-1}", "HEAD~1", "HEAD^",
    ":/x", "^x", "x..y",
    "refs/heads/x", "..", "../x", "x.lock", "$(id)", "`id`", ";id", "|id", "web:--force", "web@-qa", "-web@qa",
    "web:dev-1a2b3c4 --upload-pack=x", "@", ":", "web:", ":dev-1a2b3c4", "web@", "@qa", "\x00", "\n", "\u202e",
    "web:dev-1a2b3c4\n--force", "0" * 41, "g" * 7, "A" * 600,
]  # fmt: skip
VALID_WORDS = [
    "web", "api", "development", "qa", "prod", "web:dev-1a2b3c4", "dev-1a2b3c4", "1a2b3c4", "web@qa",
    "web@development", "promote", "/promote", "rollback", "/rollback", "diff", "list", "/promobot", "approve",
    "status", "history", "help", "lock", "unlock", "locks", "<@U024BE7LH>", "@promobot", "1", "42",
]  # fmt: skip
WORD = st.sampled_from(HOSTILE_WORDS) | st.sampled_from(VALID_WORDS) | st.text(max_size=20)
TYPED = st.text(max_size=80) | st.lists(WORD, max_size=6).map(" ".join) | st.sampled_from(HOSTILE_WORDS)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def shaped_like(sample: Any) -> st.SearchStrategy[Any]:
    """Values shaped like `sample`: each field mostly kept, else dropped, mutated in depth or any JSON."""
    if isinstance(sample, dict):
        fields = {key: shaped_like(value) for key, value in sample.items()}
        return st.fixed_dictionaries(fields) | st.fixed_dictionaries({}, optional=fields) | JSON
    if isinstance(sample, list):
        return st.lists(shaped_like(sample[0]), max_size=3) if sample else JSON
    kept = st.just(sample)
    return st.one_of(kept, kept, kept, WORD if isinstance(sample, str) else kept, JSON)


def bodies_for(sample: Any) -> st.SearchStrategy[tuple[str, Any]]:
    """("bytes", raw) | ("json", any JSON) | ("shaped", a mutated sample)."""
    shaped = st.tuples(st.just("shaped"), shaped_like(sample))
    return shaped | shaped | st.tuples(st.just("json"), JSON) | st.tuples(st.just("bytes"), st.binary(max_size=300))
