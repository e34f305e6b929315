"""JSON shapes of the REST API (other tools rely on these keys) and their conversion from domain values."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from promobot.domain.deployments import Deployment
from promobot.domain.operations import Operation, OperationEvent
from promobot.service.queries import Diff, Row


class PromoteRequest(BaseModel):
    artifact: str = Field(min_length=1, max_length=200, examples=["web:dev-1a2b3c4"])
    env: str | None = Field(default=None, max_length=64)


class RollbackRequest(BaseModel):
    target: str = Field(min_length=1, max_length=200, examples=["web", "web:qa-1a2b3c4"])
    env: str | None = Field(default=None, max_length=64)


class OperationOut(BaseModel):
    id: int
    kind: str
    app: str
    env: str
    artifact: str
    state: str
    step: str
    message: str
    requested_by: str
    source_revision: str
    target_tag: str
    pr_number: int | None
    pr_url: str
    approvers: list[str]
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, op: Operation) -> OperationOut:
        return cls(
            id=op.id or 0,
            kind=op.kind.value,
            app=op.app,
            env=op.env,
            artifact=op.artifact,
            state=op.state.value,
            step=op.step.value,
            message=op.message,
            requested_by=op.requested_by,
            source_revision=op.source_revision,
            target_tag=op.target_tag,
            pr_number=op.pr_number,
            pr_url=op.pr_url,
            approvers=list(op.approvers),
            created_at=op.created_at,
            updated_at=op.updated_at,
        )


class EventOut(BaseModel):
    state: str
    step: str
    message: str
    at: datetime

    @classmethod
    def of(cls, event: OperationEvent) -> EventOut:
        return cls(state=event.state.value, step=event.step.value, message=event.message, at=event.at)


class OperationStatus(OperationOut):
    events: list[EventOut]


class RowOut(BaseModel):
    app: str
    env: str
    artifact: str
    source_revision: str
    state: str
    deployed_at: datetime | None
    deployed_by: str
    url: str
    operation: OperationOut | None

    @classmethod
    def of(cls, row: Row) -> RowOut:
        return cls(
            app=row.app,
            env=row.env,
            artifact=row.artifact,
            source_revision=row.source_revision,
            state=row.state,
            deployed_at=row.deployed_at,
            deployed_by=row.deployed_by,
            url=row.url,
            operation=OperationOut.of(row.operation) if row.operation else None,
        )


class DeploymentOut(BaseModel):
    id: int
    app: str
    env: str
    artifact: str
    digest: str
    source_revision: str
    revision: str
    state: str
    deployed_by: str
    operation_id: int | None
    started_at: datetime | None
    finished_at: datetime | None
    url: str
    message: str

    @classmethod
    def of(cls, d: Deployment) -> DeploymentOut:
        return cls(
            id=d.id or 0,
            app=d.app,
            env=d.env,
            artifact=d.artifact,
            digest=d.digest,
            source_revision=d.source_revision,
            revision=d.revision,
            state=d.state.value,
            deployed_by=d.deployed_by,
            operation_id=d.operation_id,
            started_at=d.started_at,
            finished_at=d.finished_at,
            url=d.url,
            message=d.message,
        )


class CommitOut(BaseModel):
    sha: str
    subject: str


class DiffOut(BaseModel):
    app: str
    src: str
    dst: str
    src_artifact: str
    dst_artifact: str
    src_revision: str
    dst_revision: str
    commits: list[CommitOut]
    total_commits: int
    behind: int
    files: list[str]
    instruction: str

    @classmethod
    def of(cls, d: Diff) -> DiffOut:
        return cls(
            app=d.app,
            src=d.src,
            dst=d.dst,
            src_artifact=d.src_artifact,
            dst_artifact=d.dst_artifact,
            src_revision=d.src_revision,
            dst_revision=d.dst_revision,
            commits=[CommitOut(sha=sha, subject=subject) for sha, subject in d.commits],
            total_commits=d.total_commits,
            behind=d.behind,
            files=d.files,
            instruction=d.instruction,
        )


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str


class ErrorOut(BaseModel):
    error: ErrorBody
