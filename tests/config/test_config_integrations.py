"""The forge and engine sections: the embedded kinds by default, GitHub/GitLab and Argo CD/Flux when asked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from promobot import bootstrap, config
from promobot.adapters.engines.argocd import ArgoCDEngine
from promobot.adapters.engines.flux_engine import FluxEngine
from promobot.adapters.engines.local import LocalRuntime
from promobot.adapters.forge.github import GitHubForge
from promobot.adapters.forge.gitlab import GitLabForge
from promobot.adapters.forge.local import LocalForge
from promobot.domain import errors

Write = Callable[[object], Path]
GITHUB = {
    "kind": "github",
    "api_url": "https://github.example.com/api/v3",
    "token": {"env": "PROMOBOT_TEST_FORGE_TOKEN"},
    "webhook_secret": {"env": "PROMOBOT_TEST_FORGE_SECRET"},
    "merge": "manual",
    "repositories": {"web": "acme/web", "api": "acme/api"},
}
ARGOCD = {"kind": "argocd", "url": "https://argocd.example.com", "token": {"env": "PROMOBOT_TEST_ARGOCD_TOKEN"},
          "project": "apps"}  # fmt: skip
FLUX = {"kind": "flux", "webhook_secret": {"env": "PROMOBOT_TEST_FLUX_SECRET"}}


@pytest.fixture
def build(write_config: Write, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, Any]], Any]]:
    """Load and wire a config; yields a function returning the wired Application."""
    for name, value in {
        "PROMOBOT_TEST_WEBHOOK_TOKEN": "hook", "PROMOBOT_TEST_BOB_TOKEN": "bob",
        "PROMOBOT_TEST_FORGE_TOKEN": "forge-token", "PROMOBOT_TEST_FORGE_SECRET": "forge-secret",
        "PROMOBOT_TEST_ARGOCD_TOKEN": "argo-token", "PROMOBOT_TEST_FLUX_SECRET": "flux-secret",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    built: list[bootstrap.Application] = []

    def make(data: dict[str, Any]) -> Any:
        path = write_config(data)
        (path.parent / "tokens").mkdir(exist_ok=True)
        (path.parent / "tokens" / "alice.token").write_text("alice")
        built.append(bootstrap.build(config.load(str(path)), background=False))
        return built[-1]

    yield make
    for application in built:
        application.ctx.store.dispose()  # type: ignore[attr-defined]


def test_the_embedded_forge_and_runtime_stay_the_default(settings: dict[str, Any], build: Any) -> None:
    application = build(settings)

    assert isinstance(application.ctx.forge, LocalForge) and isinstance(application.ctx.engine, LocalRuntime)
    assert application.readers == {} and application.ctx.merge_by_hand is False


def test_a_github_forge_maps_apps_to_repositories_and_users_to_logins(settings: dict[str, Any], build: Any) -> None:
    settings["forge"] = GITHUB
    settings["users"][1]["forge_login"] = "bob-on-github"

    application = build(settings)

    forge = application.ctx.forge
    assert isinstance(forge, GitHubForge) and forge.repos == {"web": "acme/web", "api": "acme/api"}
    assert application.ctx.merge_by_hand is True and set(application.readers) == {"github"}
    assert application.ctx.people_by_login()["bob-on-github"].name == "bob"
    assert application.ctx.people_by_login()["alice"].name == "alice"  # a user's login defaults to the name
    forge.close()


def test_a_gitlab_forge_takes_project_paths_or_ids(settings: dict[str, Any], build: Any) -> None:
    settings["forge"] = {**GITLAB_SETTINGS, "repositories": {"web": "group/sub/web", "api": 42}}

    application = build(settings)

    assert isinstance(application.ctx.forge, GitLabForge) and set(application.readers) == {"gitlab"}
    assert application.ctx.forge.projects == {"web": "group%2Fsub%2Fweb", "api": "42"}
    application.ctx.forge.close()


GITLAB_SETTINGS = {"kind": "gitlab", "token": {"env": "PROMOBOT_TEST_FORGE_TOKEN"},
                   "webhook_secret": {"env": "PROMOBOT_TEST_FORGE_SECRET"}}  # fmt: skip


def test_argocd_is_the_engine_with_its_webhook_and_no_builder_or_runtime(settings: dict[str, Any], build: Any) -> None:
    settings["engine"] = ARGOCD
    del settings["builder"]  # CI builds: an absent builder means none

    application = build(settings)

    assert isinstance(application.ctx.engine, ArgoCDEngine) and application.ctx.builder is None
    assert set(application.readers) == {"argocd"}
    application.ctx.engine.close()


def test_flux_is_an_engine_that_only_listens(settings: dict[str, Any], build: Any) -> None:
    settings["engine"] = FLUX
    settings["builder"] = {"kind": "none"}

    application = build(settings)

    assert isinstance(application.ctx.engine, FluxEngine) and set(application.readers) == {"flux"}
    assert application.ctx.engine.status("qa", "web") is None


def test_a_github_forge_without_a_webhook_secret_has_no_webhook_but_still_polls(
    settings: dict[str, Any], build: Any
) -> None:
    settings["forge"] = {key: value for key, value in GITHUB.items() if key != "webhook_secret"}

    application = build(settings)

    assert isinstance(application.ctx.forge, GitHubForge) and application.readers == {}
    application.ctx.forge.close()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"forge": {**GITHUB, "repositories": {"web": "acme/web"}}},
         "forge.repositories: no github repository for app api"),
        ({"forge": {**GITHUB, "repositories": {"web": "acme", "api": "acme/api"}}},
         "forge: repositories.web: a GitHub repository is owner/name"),
        ({"forge": {**GITHUB, "repositories": {"web": "a/web", "api": "a/api", "cli": "a/cli"}}},
         "forge.repositories: cli is not an app"),
        ({"forge": {"kind": "github", "repositories": {"web": "a/w", "api": "a/a"}}},
         "forge: a github forge needs `token`"),
        ({"forge": {"kind": "bitbucket"}}, "forge.kind: Input should be 'local', 'github' or 'gitlab'"),
        ({"forge": {**GITHUB, "merge": "squash"}}, "forge.merge: Input should be 'auto' or 'manual'"),
        ({"forge": {"kind": "local", "repositories": {"web": "a/w"}}}, "forge: the local forge takes no"),
        ({"engine": {**ARGOCD}, "builder": {"kind": "local"}}, "builder.kind: must be `none` with engine argocd"),
        ({"engine": {**FLUX}, "builder": {"kind": "local"}}, "builder.kind: must be `none` with engine flux"),
        ({"engine": {**ARGOCD, "url": "argocd.example.com"}}, "engine.url: String should match pattern"),
        ({"engine": {"kind": "argocd", "url": "https://a"}}, "engine.token: Field required"),
        ({"engine": {**ARGOCD, "applications": "{app}"}}, "engine.applications: must contain {app} and {env}"),
        ({"engine": {**FLUX, "kustomizations": "apps"}}, "engine.kustomizations: must contain {app} and {env}"),
        ({"engine": {**ARGOCD, "workdir": "runtime"}}, "engine.workdir: Extra inputs are not permitted"),
        ({"engine": {"kind": "nomad"}}, "engine: `kind` must be one of local, argocd, flux"),
    ],
)  # fmt: skip
def test_integration_mistakes_name_the_key_and_what_is_expected(
    settings: dict[str, Any], write_config: Write, change: dict[str, Any], says: str
) -> None:
    settings.update(change)

    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(write_config(settings)))

    assert str(caught.value).startswith(f"{write_config(settings)}: {says}"), str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_engine_without_a_kind_is_still_the_local_runtime(settings: dict[str, Any], write_config: Write) -> None:
    del settings["engine"]["kind"]

    loaded = config.load(str(write_config(settings)))

    assert isinstance(loaded.settings.engine, config.EngineSettings) and loaded.settings.engine.workdir == "runtime"
