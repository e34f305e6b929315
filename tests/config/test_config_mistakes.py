"""Every kind of configuration mistake is one ConfigError naming the key and what is expected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promobot import config
from promobot.domain import errors

Change = Callable[[dict[str, Any]], object]


def _set(path: str, value: object) -> Change:
    """A change that sets the dotted `path` (list indexes as numbers) to `value`."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _delete(path: str) -> Change:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return change


def _copy_entry(section: str, index: int, **changes: object) -> Change:
    """Append a copy of `section[index]` with `changes`: the way duplicates usually creep in."""

    def change(data: dict[str, Any]) -> None:
        data[section].append({**data[section][index], **changes})

    return change


MISTAKES = [
    ("missing-environments", _delete("environments"), "environments", "Field required"),
    ("no-environments", _set("environments", []), "environments", "at least 1 item"),
    ("missing-apps", _delete("apps"), "apps", "Field required"),
    ("missing-gitops", _delete("gitops"), "gitops", "Field required"),
    ("missing-users", _delete("users"), "users", "Field required"),
    ("unknown-top-level-key", _set("colour", "blue"), "colour", "Extra inputs are not permitted"),
    ("unknown-env-key", _set("environments.1.colour", "x"), "environments.1.colour", "Extra inputs"),
    ("unknown-server-key", _set("server.tls", True), "server.tls", "Extra inputs are not permitted"),
    ("env-name-upper-case", _set("environments.0.name", "Dev"), "environments.0.name", "should match pattern"),
    ("env-name-leading-dash", _set("environments.0.name", "-x"), "environments.0.name", "should match pattern"),
    ("branch-leading-dash", _set("environments.1.branch", "--force"), "environments.1.branch", "git branch name"),
    ("branch-with-space", _set("environments.1.branch", "q a"), "environments.1.branch", "git branch name"),
    ("tag-prefix-upper-case", _set("environments.0.tag_prefix", "Dev"), "environments.0.tag_prefix", "pattern"),
    ("tag-prefix-with-dash", _set("environments.0.tag_prefix", "pre-prod"), "environments.0.tag_prefix", "pattern"),
    ("tag-prefix-empty", _set("environments.0.tag_prefix", ""), "environments.0.tag_prefix", "pattern"),
    ("tag-prefix-too-long", _set("environments.0.tag_prefix", "d" * 32), "environments.0.tag_prefix", "pattern"),
    ("missing-promoters", _delete("environments.0.promoters"), "environments.0.promoters", "Field required"),
    ("no-promoters", _set("environments.0.promoters", []), "environments.0.promoters", "at least 1 item"),
    (
        "pull-request-without-approvers",
        _delete("environments.2.approval.approvers"),
        "environments.2.approval",
        "a pull_request approval needs `approvers`: the roles allowed to approve",
    ),
    ("unknown-approval-rule", _set("environments.2.approval.rule", "manual"), "environments.2.approval.rule",
     "'none' or 'pull_request'"),
    ("zero-approvals", _set("environments.2.approval.approvals", 0), "environments.2.approval.approvals",
     "greater than or equal to 1"),
    ("duplicate-env-name", _copy_entry("environments", 1, branch="qa2", tag_prefix="qa2"), "environments",
     "each environment name must be unique; repeated: qa"),
    ("duplicate-env-branch", _copy_entry("environments", 1, name="qa2", tag_prefix="qa2"), "environments",
     "each environment branch must be unique; repeated: qa"),
    ("duplicate-env-tag-prefix", _copy_entry("environments", 1, name="qa2", branch="qa2"), "environments",
     "each environment tag_prefix must be unique; repeated: qa"),
    ("duplicate-app", _copy_entry("apps", 0, image="web2"), "apps", "each app name must be unique; repeated: web"),
    ("duplicate-user", _copy_entry("users", 0), "users", "each user name must be unique; repeated: alice"),
    ("app-image-upper-case", _set("apps.0.image", "Web"), "apps.0.image", "should match pattern"),
    ("app-without-repository", _set("apps.1.repository", ""), "apps.1.repository", "at least 1 character"),
    ("gitops-path-without-env", _set("gitops.path", "{app}/kustomization.yaml"), "gitops.path",
     "must be a relative path containing {env} and {app}"),
    ("gitops-path-without-app", _set("gitops.path", "{env}/kustomization.yaml"), "gitops.path",
     "must be a relative path containing {env} and {app}"),
    ("gitops-path-absolute", _set("gitops.path", "/{env}/{app}.yaml"), "gitops.path", "must be a relative path"),
    ("gitops-path-escaping", _set("gitops.path", "../{env}/{app}.yaml"), "gitops.path", "must be a relative path"),
    ("registry-kind-unknown", _set("registry.kind", "docker"), "registry.kind", "'oci-layout'"),
    ("engine-poll-zero", _set("engine.poll_seconds", 0), "engine.poll_seconds", "greater than 0"),
    ("builder-kind-unknown", _set("builder.kind", "kaniko"), "builder.kind", "'local' or 'none'"),
    ("port-zero", _set("server.port", 0), "server.port", "greater than or equal to 1"),
    ("port-too-high", _set("server.port", 70000), "server.port", "less than or equal to 65535"),
    ("port-not-a-number", _set("server.port", "http"), "server.port", "valid integer"),
    ("token-with-env-and-file", _set("users.0.token", {"env": "A", "file": "b"}), "users.0.token",
     "give exactly one of `env` (a variable name) or `file` (a path)"),
    ("token-with-neither", _set("users.0.token", {}), "users.0.token", "give exactly one of `env`"),
    ("webhook-token-with-both", _set("server.webhook_token", {"env": "A", "file": "b"}), "server.webhook_token",
     "give exactly one of `env`"),
    ("token-unknown-key", _set("users.1.token", {"value": "x"}), "users.1.token.value", "Extra inputs"),
    ("user-without-roles", _set("users.0.roles", []), "users.0.roles", "at least 1 item"),
    ("auto-deploy-not-a-bool", _set("environments.0.auto_deploy", "sometimes"), "environments.0.auto_deploy",
     "valid boolean"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "key", "expected"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_a_mistake_is_one_config_error_naming_the_key_and_what_is_expected(
    settings: dict[str, Any], write_config: Callable[[object], Path], change: Change, key: str, expected: str
) -> None:
    change(settings)
    path = write_config(settings)
    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(path))
    text = str(caught.value)
    assert text.startswith(f"{path}: {key}: "), text
    assert expected in text
    assert "\n" not in text, "a config error is one line"
    assert "Value error" not in text
    assert caught.value.code == "config_invalid"


def test_a_duplicated_name_names_the_list_that_repeats_it(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    settings["apps"].append({**settings["apps"][0], "image": "web2"})
    with pytest.raises(errors.ConfigError, match=r": apps: "):
        config.load(str(write_config(settings)))


def test_a_token_written_inline_is_refused_without_echoing_it(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    secret = "xoxb-very-secret-inline-token-123"
    settings["users"][0]["token"] = secret
    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(write_config(settings)))
    assert "users.0.token" in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)


def test_a_value_failing_a_pattern_is_not_echoed_back(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    settings["environments"][0]["branch"] = "ghp_not a branch but a pasted secret"
    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(write_config(settings)))
    assert "pasted secret" not in str(caught.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just a string\n", "42\n"])
def test_yaml_that_is_not_a_mapping_says_a_mapping_is_expected(
    write_config: Callable[[object], Path], text: str
) -> None:
    path = write_config(text)
    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(path))
    assert str(caught.value) == f"{path} must hold a mapping of settings at the top level"


@pytest.mark.parametrize("text", ["environments: [\n", "a: b: c\n", "apps:\n  - name: web\n bad: indent\n", "\t- x"])
def test_invalid_yaml_is_one_config_error_naming_the_file(write_config: Callable[[object], Path], text: str) -> None:
    path = write_config(text)
    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(path))
    assert str(caught.value).startswith(f"{path} is not valid YAML: ")
    assert "\n" not in str(caught.value)


def test_invalid_yaml_says_on_which_line_the_mistake_is(write_config: Callable[[object], Path]) -> None:
    path = write_config("apps:\n  - name: web\n    image: web\n  bad: indent\n")
    with pytest.raises(errors.ConfigError, match=r"line 4"):
        config.load(str(path))


@pytest.mark.parametrize("branch", ["release..1", "qa.lock", "qa/", "qa//x", "qa/.hidden"])
def test_a_branch_name_git_refuses_is_refused_when_the_config_loads(
    settings: dict[str, Any], write_config: Callable[[object], Path], branch: str
) -> None:
    settings["environments"][1]["branch"] = branch
    with pytest.raises(errors.ConfigError, match=r"environments\.1\.branch"):
        config.load(str(write_config(settings)))
