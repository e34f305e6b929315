"""The small interfaces the service layer uses to reach the world; adapters implement them.

Every port is a Protocol. Fakes in the tests implement the same Protocols, so a changed port breaks them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from promobot.domain.artifacts import Artifact
from promobot.domain.audit import Entry
from promobot.domain.deployments import Deployment, Health, Hold, Pin
from promobot.domain.events import Event
from promobot.domain.locks import Lock
from promobot.domain.operations import Operation, OperationEvent


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    author: str
    tree: str
    parents: tuple[str, ...]
    trailers: Mapping[str, str] = field(default_factory=dict)


class AppRepo(Protocol):
    """One application's git repository, through a warm local mirror of its remote.

    Branch and tag names passed here come from the configuration or from promobot itself; commit ids are
    full 40-hex SHAs unless a method says otherwise.
    """

    def refresh(self) -> None:
        """Fetch every branch and tag from the remote into the mirror."""

    def branch_head(self, branch: str) -> str | None:
        """The remote branch's head after the last refresh, or None if it does not exist."""

    def resolve(self, prefix: str) -> list[str]:
        """Full SHAs of the commits whose id starts with `prefix` (hex, 4-40 chars)."""

    def commit(self, sha: str) -> Commit:
        """One commit, with the trailers of its message parsed."""

    def find_by_trailer(self, branch: str, key: str, value: str, *, depth: int = 200) -> str | None:
        """The newest commit on `branch` (first-parent, up to `depth`) whose trailer `key` equals `value`."""

    def create_commit(self, *, tree_of: str, parents: Sequence[str], message: str) -> str:
        """Write a commit (into the mirror only) whose tree is exactly the tree of `tree_of`."""

    def push_branch(self, branch: str, sha: str, *, expected: str | None) -> None:
        """Move the remote `branch` to `sha` if it still points at `expected` (None: must not exist).

        Raises TemporaryError when someone moved the branch first (re-read and try again).
        """

    def push_tag(self, tag: str, sha: str) -> str:
        """Create the remote tag at `sha` unless it exists; return the commit the tag points at."""

    def delete_branch(self, branch: str) -> None:
        """Delete the remote branch if it exists."""

    def log(self, base: str, head: str, *, limit: int) -> tuple[list[Commit], int]:
        """Commits reachable from `head` but not from `base`, newest first, at most `limit`; and the total."""

    def changed_files(self, base: str, head: str) -> list[str]:
        """Paths that differ between the trees of `base` and `head`."""


class GitOpsRepo(Protocol):
    """The GitOps repository: per environment and app, the pinned image (kustomize `images:` by digest)."""

    def read_pins(self) -> dict[tuple[str, str], Pin]:
        """Every (env, app) pin at the remote's head."""

    def write_pin(self, env: str, app: str, pin: Pin, *, message: str) -> str | None:
        """Commit and push the pin; None when it already pinned exactly that (nothing committed)."""


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    head_sha: str


@dataclass(frozen=True)
class ReviewState:
    """A pull request's approvals as the forge sees them.

    `approvals`: forge logins who approve now, in the order they approved. `required`: approvals the forge's
    own rules ask for (branch protection, rulesets, approval rules; 0 for the embedded forge, where
    promobot's own approvals are the only ones). `mergeable`: None while the forge is still computing it.
    """

    approvals: list[str]
    required: int
    head_sha: str
    merged: bool
    mergeable: bool | None
    url: str = ""

    @property
    def approved(self) -> bool:
        return len(self.approvals) >= self.required


class Forge(Protocol):
    """Where pull requests live (the embedded one keeps them as refs in the bare repository)."""

    def review_state(self, app: str, number: int) -> ReviewState:
        """Who approves pull request `number` now, what the forge requires, whether it is merged."""

    def open_pull_request(
        self, *, app: str, branch: str, base: str, head_sha: str, title: str, body: str
    ) -> PullRequest:
        """Open (or find the open) pull request of `branch` into `base` at `head_sha`."""

    def merge_pull_request(self, *, app: str, number: int, base: str, head_sha: str) -> None:
        """Merge by moving `base` to `head_sha` (a commit whose first parent is base's head)."""


@dataclass(frozen=True)
class Image:
    tag: str
    digest: str
    labels: Mapping[str, str]
    created: datetime | None = None


class Registry(Protocol):
    """An OCI registry: read tags, manifests and digests."""

    def get(self, image: str, tag: str) -> Image | None:
        """The image tagged `tag`, or None if the tag does not exist."""

    def exists(self, image: str, digest: str) -> bool:
        """Whether a manifest with `digest` is still present."""


class Builder(Protocol):
    """CI's stand-in: asked to build a pushed commit; its result comes back as an ArtifactBuilt event."""

    def submit(self, *, app: str, branch: str, revision: str) -> None:
        """Queue a build of `revision` of `branch`; returns at once."""


@dataclass(frozen=True)
class LiveStatus:
    digest: str
    state: Health
    url: str = ""


class Engine(Protocol):
    """The GitOps engine (the embedded local runtime, Argo CD or Flux)."""

    def sync(self, env: str, app: str) -> None:
        """Ask the engine to reconcile (env, app) now rather than on its next poll."""

    def status(self, env: str, app: str) -> LiveStatus | None:
        """What the engine runs for (env, app) now, or None if nothing."""


@dataclass(frozen=True)
class Inbound:
    """One verified webhook delivery: its id (equal on the sender's retries) and the events it brings."""

    delivery: str
    events: list[Event]


class WebhookReader(Protocol):
    """Turns one inbound request of an outside system (forge, engine) into promobot's events."""

    def read(self, headers: Mapping[str, str], body: bytes) -> Inbound:
        """Verify and read a request; NotAuthenticated on a bad signature or token, InvalidReference on a
        body that cannot be read. Events promobot does not act on are left out (an empty list)."""


class Notifier(Protocol):
    """Reports results to people (console log now, chat later)."""

    def operation_changed(self, operation: Operation) -> None: ...

    def deployment_changed(self, deployment: Deployment) -> None: ...


@dataclass(frozen=True)
class ChatMessage:
    """One message for people: plain text (the console chat, and Slack's fallback) and Block Kit blocks."""

    text: str
    blocks: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Posted:
    """Where a chat message landed: the channel's id and the message's timestamp id."""

    channel: str
    ts: str


@dataclass(frozen=True)
class Replied:
    """One reply in a chat thread: its timestamp id, and the key it was posted with ("" for none)."""

    ts: str
    key: str


class Chat(Protocol):
    """A chat workspace (Slack): post, update in place, reply in a thread, or whisper to one person."""

    def post(self, channel: str, message: ChatMessage, *, key: str = "") -> Posted:
        """A new top-level message; `key` (when given) marks it so `find` finds it again."""

    def find(self, channel: str, key: str) -> Posted | None:
        """The top-level message posted with `key` among the channel's recent ones, or None."""

    def update(self, channel: str, ts: str, message: ChatMessage) -> None: ...

    def reply(self, channel: str, thread_ts: str, message: ChatMessage, *, key: str = "") -> Posted:
        """A line in the thread of message `thread_ts`; `key` (when given) marks it so `thread` lists it."""

    def thread(self, channel: str, thread_ts: str) -> list[Replied]:
        """The replies in the thread of message `thread_ts`, oldest first, each with the key it was posted with."""

    def delete(self, channel: str, ts: str) -> None:
        """Remove the bot's own message `ts` (one already gone is no error)."""

    def ephemeral(self, channel: str, user: str, message: ChatMessage) -> None:
        """A message only `user` (a chat user id) sees."""

    def permalink(self, channel: str, ts: str) -> str:
        """A link people can open to the message `ts` and its thread ("" when the workspace gives none)."""


@dataclass(frozen=True)
class ChatRequest:
    """What someone said to the bot: who (a chat user id), where, the words, and a delivery key.

    `delivery` is equal for a retried delivery or a double click of the same button ("" when unknown).
    """

    chat_user: str
    channel: str
    text: str
    delivery: str = ""


class ChatCommands(Protocol):
    def handle(self, request: ChatRequest) -> ChatMessage:
        """Do what was asked (or refuse) and return the reply for the caller alone."""


class ChatClaim(StrEnum):
    """Who makes an operation's first chat post: exactly one reporter across every replica."""

    FIRST = "first"  # nobody claimed it: post
    AGAIN = "again"  # an earlier claim never recorded its message: look for it in the channel, else post
    TAKEN = "taken"  # posted already, or another reporter is posting it now: update it once it is recorded


class Operations(Protocol):
    def add(self, operation: Operation) -> Operation:
        """Store a new operation; returns it with `id`, `created_at` and `updated_at` set."""

    def get(self, operation_id: int) -> Operation | None: ...

    def many(self, operation_ids: Collection[int]) -> list[Operation]:
        """The operations with these ids (those that exist), in id order."""

    def save(self, operation: Operation) -> Operation:
        """Persist every field; when state, step or message changed, append an OperationEvent."""

    def claim_next(self, *, held: Collection[str] = ()) -> Operation | None:
        """The oldest queued operation whose (app, env) has no active one, moved to running; or None.

        In the environments named in `held` (locked ones) queued operations other than rollbacks wait:
        they are not claimed, and do not keep a rollback queued behind them from being claimed.
        """

    def active(self) -> list[Operation]:
        """Running and awaiting-approval operations, oldest first."""

    def blocking(self, app: str, env: str) -> list[Operation]:
        """Unfinished operations (queued, running, awaiting approval) on (app, env), oldest first."""

    def recent(self, *, app: str | None = None, env: str | None = None, limit: int = 50) -> list[Operation]:
        """Newest first."""

    def events(self, operation_id: int) -> list[OperationEvent]:
        """Oldest first."""

    def set_chat_message(self, operation_id: int, channel: str, ts: str) -> None:
        """Remember the chat message that reports this operation (only these two columns are written)."""

    def claim_chat_message(self, operation_id: int, channel: str, *, stale_after: float) -> ChatClaim:
        """Claim the operation's first chat post (in `channel`) before making it; see `ChatClaim`.

        A claim that has no message after `stale_after` seconds (its poster died) may be claimed again.
        """

    def release_chat_message(self, operation_id: int) -> None:
        """Give a claim up after a failed post; the next claim is `AGAIN` (the post may have landed)."""

    def chat_unrecorded(self, *, limit: int = 100) -> list[Operation]:
        """Operations whose first chat post was claimed but never recorded (its poster died or failed), oldest
        first."""


class Artifacts(Protocol):
    def add(self, artifact: Artifact) -> Artifact:
        """Record (or update the digest of) app:tag; returns the stored artifact with built_at."""

    def get(self, app: str, tag: str) -> Artifact | None: ...

    def with_tag(self, tag: str) -> list[Artifact]:
        """Every app's artifact carrying `tag`."""

    def with_revision_prefix(self, prefix: str) -> list[Artifact]:
        """Artifacts whose revision or source revision starts with `prefix`."""


class Deployments(Protocol):
    def add(self, deployment: Deployment) -> Deployment:
        """Store a new deployment; returns it with id and started_at set."""

    def save(self, deployment: Deployment) -> Deployment: ...

    def get(self, deployment_id: int) -> Deployment | None: ...

    def current(self, app: str, env: str) -> Deployment | None:
        """The newest deployment of (app, env)."""

    def current_all(self) -> list[Deployment]:
        """The newest deployment of every (app, env) that has one."""

    def current_of(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], Deployment]:
        """The newest deployment of each of these (app, env) pairs that has one."""

    def save_all(self, saved: Iterable[Deployment]) -> list[Deployment]:
        """`save` each (stored ones); returns them as stored."""

    def history(self, app: str, env: str, *, limit: int = 50) -> list[Deployment]:
        """Newest first."""

    def last_healthy(self, app: str, env: str, *, before_id: int | None = None) -> Deployment | None:
        """The newest healthy deployment of (app, env), older than `before_id` when given."""


class Holds(Protocol):
    def get(self, app: str, env: str) -> Hold | None: ...

    def set(self, hold: Hold) -> None: ...

    def clear(self, app: str, env: str) -> None: ...


class Approvals(Protocol):
    def add(self, operation_id: int, user: str) -> None:
        """Record an approval; a user's second approval of the same operation changes nothing."""

    def of(self, operation_id: int) -> list[str]:
        """Users who approved, in order."""


class Deliveries(Protocol):
    def first_time(self, source: str, delivery_id: str) -> bool:
        """Record a delivery id; False if it was seen before (a duplicate to ignore)."""

    def first_times(self, keys: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Record each (source, delivery id); returns those not seen before."""

    def forget(self, source: str, delivery_id: str) -> None:
        """Drop a delivery id whose event failed, so the sender's retry is handled."""


class Locks(Protocol):
    """Release freezes: at most one lock per environment."""

    def get(self, env: str) -> Lock | None: ...

    def all(self) -> list[Lock]:
        """Every lock, by environment name."""

    def add(self, lock: Lock) -> bool:
        """Lock `lock.env`; False (and nothing changed) when it is locked already."""

    def remove(self, env: str) -> Lock | None:
        """Unlock `env`; the lock it had, or None when it had none."""


class Audit(Protocol):
    """The audit log. Append-only: there is no way to change or remove an entry."""

    def append(self, entry: Entry) -> Entry:
        """Store an entry; returns it with `id` and `at` set."""

    def append_all(self, entries: Sequence[Entry]) -> None:
        """Store several entries, in order."""

    def recent(self, *, actor: str | None = None, limit: int = 50, offset: int = 0) -> list[Entry]:
        """Newest first, optionally of one actor, skipping the `offset` newest."""


class UnitOfWork(Protocol):
    """One database transaction: rolled back on leaving unless `commit()` was called."""

    operations: Operations
    artifacts: Artifacts
    deployments: Deployments
    holds: Holds
    approvals: Approvals
    deliveries: Deliveries
    locks: Locks
    audit: Audit

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Store(Protocol):
    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """`with store.unit_of_work() as uow: ...; uow.commit()`."""

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class LoggedChange:
    """One entry of the store's change log: an operation or a deployment changed (`value`: as it is now)."""

    id: int
    kind: str  # "operation" or "deployment"
    app: str
    env: str
    value: Operation | Deployment | None  # None when it no longer exists


@dataclass(frozen=True)
class PairSince:
    """One (app, env) the change log names since some id: its current deployment (None when it has none)
    and whether any of its operations changed (when none did, what moves it is as it was)."""

    deployment: Deployment | None
    operations_changed: bool


class ChangeLog(Protocol):
    """The store's change counter and log: every change the board shows, across every replica.

    Ids grow with each change, but on PostgreSQL a transaction may commit after a later id's: readers
    treat the ids above a `floor` they trust as possibly still filling in.
    """

    def version(self, floor: int) -> tuple[int, int]:
        """(the newest id, or `floor` when none is above it; how many ids above `floor` are committed)."""

    def settled(self, before: datetime) -> int:
        """The newest id logged before `before` (0 for none): ids up to it are taken as complete."""

    def after(self, change_id: int, *, limit: int) -> list[LoggedChange]:
        """Committed changes with a larger id, oldest first, at most `limit`."""

    def oldest(self) -> int | None:
        """The oldest id still kept (None when the log is empty): older ones were pruned."""

    def current_since(self, change_id: int) -> dict[tuple[str, str], PairSince] | None:
        """The (app, env) pairs of the committed changes with a larger id, however many, each with its
        current deployment and whether an operation of it changed; None when the log may have lost some of
        those changes to pruning (its oldest kept id is above `change_id + 1`)."""


class Lease(Protocol):
    """Held by at most one process at a time; lost when the holder dies (the duties' lease)."""

    @property
    def held(self) -> bool: ...

    def try_acquire(self) -> bool:
        """True while this process holds the lease (taken now, or still held); never blocks for long."""

    def release(self) -> None:
        """Give the lease up; a no-op when not held."""


class OperationLocks(Protocol):
    """Who drives which operation across replicas (`adapters/store/leases.py` on PostgreSQL)."""

    def hold(self, operation_id: int) -> AbstractContextManager[bool]:
        """Yields True when this process may drive the operation for the block, False when another does."""
