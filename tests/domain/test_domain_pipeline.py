"""The ordered pipeline: looking environments and apps up, and what comes after what."""

from __future__ import annotations

import pytest

from promobot.domain import errors
from promobot.domain.pipeline import App, Approval, ApprovalRule, Environment, Pipeline

DEVELOPMENT = Environment("development", "develop", "dev", auto_deploy=True, promoters=frozenset({"developer"}))
QA = Environment("qa", "qa", "qa", promoters=frozenset({"developer"}))
STAGING = Environment("staging", "staging", "stg", promoters=frozenset({"developer"}))
PROD = Environment(
    "prod",
    "main",
    "prod",
    approval=Approval(ApprovalRule.PULL_REQUEST, 2, frozenset({"release-manager"})),
    promoters=frozenset({"release-manager"}),
)
PIPELINE = Pipeline(
    environments=(DEVELOPMENT, QA, STAGING, PROD),
    apps=(App("web", "git/web.git", "web"), App("api", "git/api.git", "api")),
)


def test_env_finds_an_environment_by_name() -> None:
    assert PIPELINE.env("staging") is STAGING


def test_an_unknown_environment_lists_the_valid_names_in_order() -> None:
    with pytest.raises(errors.UnknownEnvironment) as caught:
        PIPELINE.env("production")
    assert "'production'" in str(caught.value)
    assert "development, qa, staging, prod" in str(caught.value)
    assert caught.value.http_status == 404


def test_app_finds_an_app_by_name() -> None:
    assert PIPELINE.app("api") == App("api", "git/api.git", "api")


def test_an_unknown_app_lists_the_valid_names() -> None:
    with pytest.raises(errors.UnknownApp) as caught:
        PIPELINE.app("frontend")
    assert "'frontend'" in str(caught.value)
    assert "web, api" in str(caught.value)


def test_names_are_listed_in_configured_order() -> None:
    assert PIPELINE.env_names == ["development", "qa", "staging", "prod"]
    assert PIPELINE.app_names == ["web", "api"]


def test_the_first_environment_is_where_builds_start() -> None:
    assert PIPELINE.first is DEVELOPMENT


@pytest.mark.parametrize(("env", "index"), [(DEVELOPMENT, 0), (QA, 1), (STAGING, 2), (PROD, 3)])
def test_position_is_the_place_in_the_pipeline(env: Environment, index: int) -> None:
    assert PIPELINE.position(env) == index


@pytest.mark.parametrize(("env", "after"), [(DEVELOPMENT, QA), (QA, STAGING), (STAGING, PROD)])
def test_next_after_is_the_following_environment(env: Environment, after: Environment) -> None:
    assert PIPELINE.next_after(env) is after


def test_the_last_environment_has_nothing_after_it() -> None:
    with pytest.raises(errors.NothingToDo) as caught:
        PIPELINE.next_after(PROD)
    assert "'prod' is the last environment" in str(caught.value)
    assert "name a target environment" in str(caught.value)


def test_a_one_environment_pipeline_has_nothing_after_its_only_environment() -> None:
    single = Pipeline(environments=(DEVELOPMENT,), apps=())
    with pytest.raises(errors.NothingToDo):
        single.next_after(DEVELOPMENT)


@pytest.mark.parametrize(("prefix", "env"), [("dev", DEVELOPMENT), ("qa", QA), ("stg", STAGING), ("prod", PROD)])
def test_env_by_prefix_finds_the_environment_whose_builds_carry_that_prefix(prefix: str, env: Environment) -> None:
    assert PIPELINE.env_by_prefix(prefix) is env


@pytest.mark.parametrize("prefix", ["staging", "development", "", "DEV", "dev-"])
def test_env_by_prefix_is_none_for_a_prefix_no_environment_uses(prefix: str) -> None:
    assert PIPELINE.env_by_prefix(prefix) is None


@pytest.mark.parametrize(("branch", "env"), [("develop", DEVELOPMENT), ("qa", QA), ("main", PROD)])
def test_env_by_branch_finds_the_environment_a_branch_feeds(branch: str, env: Environment) -> None:
    assert PIPELINE.env_by_branch(branch) is env


@pytest.mark.parametrize("branch", ["development", "prod", "feature/x", ""])
def test_env_by_branch_is_none_for_a_branch_outside_the_pipeline(branch: str) -> None:
    assert PIPELINE.env_by_branch(branch) is None


def test_only_a_pull_request_rule_requires_approval() -> None:
    assert PROD.approval.required
    assert not QA.approval.required
    assert not Approval(ApprovalRule.NONE, 3, frozenset({"x"})).required
