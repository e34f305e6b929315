"""ArgoCDEngine's refusals: 401 for a bad token, 403 vs 404 with and without a `project`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from promobot.adapters.engines.argocd import ArgoCDEngine
from promobot.domain import errors
from support.fake_argocd import FakeArgoCD

TOKEN = "tok-team-a"


@pytest.fixture
def argo() -> Iterator[FakeArgoCD]:
    with FakeArgoCD(tokens={TOKEN: {"team-a"}}) as fake:
        fake.add("web-qa", project="team-a")
        fake.add("web-prod", project="team-b")
        yield fake


def engine(argo: FakeArgoCD, **options: object) -> ArgoCDEngine:
    return ArgoCDEngine(url=argo.url, token=TOKEN, backoff=0.0, **options)  # type: ignore[arg-type]


def test_a_rejected_token_is_permanent_and_says_how_to_renew_it(argo: FakeArgoCD) -> None:
    bad = ArgoCDEngine(url=argo.url, token="expired", backoff=0.0)
    with pytest.raises(errors.PermanentError, match=r"refused promobot's token \(401\).*generate-token"):
        bad.status("qa", "web")


def test_without_a_project_a_missing_application_is_a_403_naming_both_causes(argo: FakeArgoCD) -> None:
    with pytest.raises(errors.PermanentError) as caught:
        engine(argo).sync("staging", "web")
    text = str(caught.value)
    assert "403" in text and "either it does not exist or" in text
    assert "web-staging" in text and "set the engine's `project`" in text


def test_without_a_project_an_application_of_another_project_is_the_same_403(argo: FakeArgoCD) -> None:
    with pytest.raises(errors.PermanentError, match="either it does not exist or promobot's account may not"):
        engine(argo).status("prod", "web")


def test_with_a_project_a_missing_application_is_a_404_and_status_is_none(argo: FakeArgoCD) -> None:
    with_project = engine(argo, project="team-a")
    assert with_project.status("staging", "web") is None
    with pytest.raises(errors.PermanentError, match="no application 'web-staging' in project 'team-a'"):
        with_project.sync("staging", "web")
    assert argo.requests[0].query["project"] == ["team-a"]


def test_with_a_project_the_token_lacks_the_answer_is_403_with_the_rbac_line_to_add(argo: FakeArgoCD) -> None:
    with pytest.raises(errors.PermanentError) as caught:
        engine(argo, project="team-b").sync("prod", "web")
    text = str(caught.value)
    assert "does not let promobot get application 'web-prod' in project 'team-b'" in text
    assert "p, role:promobot, applications, get, team-b/web-prod, allow" in text


def test_the_app_namespace_is_sent_with_every_call(argo: FakeArgoCD) -> None:
    engine(argo, project="team-a", app_namespace="apps").sync("qa", "web")
    assert [seen.query.get("appNamespace") for seen in argo.requests] == [["apps"], ["apps"]]
    assert argo.requests[-1].body["appNamespace"] == "apps"


def test_argo_cd_itself_refuses_a_rollback_while_auto_sync_is_on(argo: FakeArgoCD) -> None:
    """Why promobot's rollback goes through git: the documented refusal, as the fake reproduces it."""
    import httpx

    argo.add("api-qa", project="team-a", auto_sync=True)
    answer = httpx.post(
        f"{argo.url}/api/v1/applications/api-qa/rollback",
        json={"id": 1},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 400
    assert answer.json()["message"] == "rollback cannot be initiated when auto-sync is enabled"


def test_an_invalid_application_name_is_a_config_error(argo: FakeArgoCD) -> None:
    with pytest.raises(errors.ConfigError, match="not a valid Argo CD application name"):
        engine(argo, applications="{app}_{env}").status("qa", "web")
