"""Promotions promobot refuses: each says what was wrong and what would be right, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from promobot.domain import errors
from promobot.domain.events import ArtifactBuilt
from promobot.domain.people import User
from promobot.service import intake, queries, requests
from promobot.service.context import Context
from support.fakes import DEVELOPER, USERS, World

Wired = tuple[Context, World]
Make = Callable[..., Wired]
GUEST = User("guest", frozenset({"viewer"}))


@dataclass
class Scene:
    ctx: Context
    world: World
    names: dict[str, str]


@pytest.fixture
def scene(build: Make) -> Scene:
    """web: dev-A healthy in development and promoted to qa; dev-B built but still deploying.

    api: an artifact carrying the same qa tag as web's, so the bare tag is ambiguous.
    """
    ctx, world = build(apps=("web", "api"), users={**USERS, GUEST.name: GUEST})
    good = world.developed(ctx)
    qa = world.promoted(ctx, f"web:{good.tag}", "qa")
    world.push(ctx)
    unhealthy = world.builder.complete(ctx)
    world.settle(ctx)
    api = ArtifactBuilt("api", qa.target_tag, "sha256:" + "a" * 64, good.revision, good.source_revision)
    intake.built(ctx, api)
    names = {"good": f"web:{good.tag}", "qa": f"web:{qa.target_tag}", "bare_qa": qa.target_tag}
    return Scene(ctx, world, {**names, "unhealthy": f"web:{unhealthy.tag}"})


REFUSALS = [
    pytest.param(DEVELOPER, "shop:dev-1a2b3c4", None, errors.UnknownApp,
                 "unknown app 'shop'", "use one of: web, api", id="unknown app"),
    pytest.param(DEVELOPER, "{good}", "moon", errors.UnknownEnvironment,
                 "unknown environment 'moon'", "use one of: development, qa, staging, prod", id="unknown env"),
    pytest.param(DEVELOPER, "web:dev-0000000", None, errors.UnknownArtifact,
                 "no artifact web:dev-0000000", "see what exists with `promobot list`", id="unknown artifact"),
    pytest.param(DEVELOPER, "-rf", None, errors.InvalidReference,
                 "'-rf' is not an artifact reference", "write app:tag", id="not a reference"),
    pytest.param(DEVELOPER, "{bare_qa}", "staging", errors.AmbiguousReference,
                 "matches artifacts of several apps: api, web", "write app:tag, e.g.", id="ambiguous tag"),
    pytest.param(DEVELOPER, "{unhealthy}", None, errors.GateNotMet,
                 "{unhealthy} has not deployed successfully in development",
                 "promote an artifact that is healthy in development", id="not healthy where built"),
    pytest.param(DEVELOPER, "{qa}", "development", errors.GateNotMet,
                 "development comes before qa; promotions move forward",
                 "use `promobot rollback`", id="backwards"),
    pytest.param(DEVELOPER, "{good}", "qa", errors.NothingToDo,
                 "qa already runs {qa}, built from the same source as {good}",
                 "promote a newer artifact, or roll back instead", id="already there"),
    pytest.param(GUEST, "{good}", "qa", errors.NotAllowed,
                 "guest may not promote into qa", "that takes one of the roles: developer, release-manager",
                 id="caller without the role"),
]  # fmt: skip


@pytest.mark.parametrize(("user", "reference", "env", "error", "message", "hint"), REFUSALS)
def test_a_refused_promotion_says_what_would_be_right_and_changes_nothing(
    scene: Scene, user: User, reference: str, env: str | None, error: type[errors.PromobotError], message: str,
    hint: str,
) -> None:  # fmt: skip
    ctx, world = scene.ctx, scene.world
    before = (queries.recent(ctx, limit=100), world.git_state())

    with pytest.raises(error) as refused:
        requests.promote(ctx, user, reference.format(**scene.names), env)

    assert message.format(**scene.names) in refused.value.message
    assert hint in refused.value.hint
    assert (queries.recent(ctx, limit=100), world.git_state()) == before


def test_a_promotion_already_in_flight_is_refused_with_the_operation_to_follow(scene: Scene) -> None:
    ctx, world = scene.ctx, scene.world
    first = requests.promote(ctx, DEVELOPER, scene.names["qa"], "staging")
    world.settle(ctx)
    before = (queries.recent(ctx, limit=100), world.git_state())

    with pytest.raises(errors.NothingToDo) as refused:
        requests.promote(ctx, DEVELOPER, scene.names["good"], "staging")

    moving = f"operation {first.id} is already moving {first.source_revision[:7]} into staging"
    assert refused.value.message == moving
    assert refused.value.hint == f"follow it with `promobot status {first.id}`"
    assert (queries.recent(ctx, limit=100), world.git_state()) == before


def test_a_person_promobot_does_not_know_is_not_authenticated(wired: Wired) -> None:
    ctx, _ = wired

    with pytest.raises(errors.NotAuthenticated, match="unknown user 'mallory'"):
        ctx.user("mallory")
