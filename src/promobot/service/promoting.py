"""The git half of a promotion: the tree-exact commit on the target branch (or a pull request) and its tag.

Every function here is idempotent: it first looks for what an earlier attempt of the same operation left
(a commit carrying the operation's trailer, an open pull request, an existing tag) and reuses it.
"""

from __future__ import annotations

from collections.abc import Callable

from promobot import ports
from promobot.domain import errors, trailers
from promobot.domain.operations import Operation
from promobot.domain.pipeline import Environment

Checkpoint = Callable[[str], None]


def _pass(_: str) -> None:
    return None


def promotion_branch(operation: Operation) -> str:
    return f"promobot/{operation.env}/{operation.target_tag}-op{operation.id}"


def message(operation: Operation, subject: str) -> str:
    return trailers.render(
        subject,
        {
            trailers.SOURCE: operation.source_revision,
            trailers.ARTIFACT: operation.artifact,
            trailers.OPERATION: str(operation.id),
            trailers.KIND: operation.kind.value,
        },
    )


def commit_onto(repo: ports.AppRepo, operation: Operation, branch: str, *, tree_of: str, merge: bool) -> str:
    """The operation's commit on `branch`: reused if an earlier attempt pushed it, else written and pushed.

    Its tree is exactly `tree_of`'s; its parents are the branch head and, for a promotion (`merge`), the
    source commit, so `git log` on the branch shows where the code came from.
    """
    repo.refresh()
    done = repo.find_by_trailer(branch, trailers.OPERATION, str(operation.id))
    if done is not None:
        return done
    head = repo.branch_head(branch)
    parents = [p for p in (head, operation.source_revision if merge else None) if p]
    verb = "Promote" if merge else "Roll back"
    sha = repo.create_commit(
        tree_of=tree_of,
        parents=list(dict.fromkeys(parents)),
        message=message(operation, f"{verb} {operation.artifact} to {operation.env}"),
    )
    repo.push_branch(branch, sha, expected=head)
    return sha


def direct(repo: ports.AppRepo, operation: Operation, target: Environment, *, checkpoint: Checkpoint = _pass) -> str:
    sha = commit_onto(repo, operation, target.branch, tree_of=operation.source_revision, merge=True)
    checkpoint("promote.commit_pushed")
    repo.push_tag(operation.target_tag, sha)
    return sha


def open_pull_request(
    repo: ports.AppRepo,
    forge: ports.Forge,
    operation: Operation,
    target: Environment,
    *,
    checkpoint: Checkpoint = _pass,
) -> tuple[str, ports.PullRequest]:
    repo.refresh()
    branch = promotion_branch(operation)
    existing = repo.branch_head(branch)
    base_head = repo.branch_head(target.branch)
    if existing is not None and base_head in repo.commit(existing).parents:
        sha = existing
    else:
        parents = [p for p in (base_head, operation.source_revision) if p]
        sha = repo.create_commit(
            tree_of=operation.source_revision,
            parents=list(dict.fromkeys(parents)),
            message=message(operation, f"Promote {operation.artifact} to {operation.env}"),
        )
        repo.push_branch(branch, sha, expected=existing)
        checkpoint("promote.pr_branch_pushed")
    pull = forge.open_pull_request(
        app=operation.app,
        branch=branch,
        base=target.branch,
        head_sha=sha,
        title=f"Promote {operation.artifact} to {operation.env}",
        body=f"Requested by {operation.requested_by} (promobot operation {operation.id}).\n\n"
        f"Needs {target.approval.approvals} approval(s) from: {', '.join(sorted(target.approval.approvers))}.",
    )
    return sha, pull


def merge(
    repo: ports.AppRepo,
    forge: ports.Forge,
    operation: Operation,
    target: Environment,
    *,
    by_hand: bool,
    checkpoint: Checkpoint = _pass,
) -> str | None:
    """Merge the approved pull request (unless it is merged already), tag the result, drop the branch.

    Returns the commit on the target branch that carries the operation's trailers (the promotion commit
    itself, or the forge's merge commit, which copies its message); None while waiting for a person to
    merge (`by_hand`).
    """
    repo.refresh()
    merged = repo.find_by_trailer(target.branch, trailers.OPERATION, str(operation.id))
    if merged is None:
        if by_hand:
            return None
        if operation.pr_number is None:
            raise ValueError(f"operation {operation.id} has no pull request to merge")
        forge.merge_pull_request(
            app=operation.app, number=operation.pr_number, base=target.branch, head_sha=operation.branch_commit
        )
        checkpoint("promote.pr_merged")
        repo.refresh()
        merged = repo.find_by_trailer(target.branch, trailers.OPERATION, str(operation.id))
        if merged is None:
            raise errors.TemporaryError(f"pull request #{operation.pr_number} merged; {target.branch} not yet updated")
    repo.push_tag(operation.target_tag, merged)
    repo.delete_branch(promotion_branch(operation))
    return merged
