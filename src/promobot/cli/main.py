"""The `promobot` console script: thin commands over the REST API, plus `sandbox`, `serve` and `demo`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from promobot import config
from promobot.cli import render
from promobot.client import ApiError, Client
from promobot.domain import errors

app = typer.Typer(
    help="promobot: move artifacts through environments by changing git, and report every result.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

ConfigOpt = Annotated[
    str | None, typer.Option("--config", "-c", help="Config file (default: $PROMOBOT_CONFIG or ./promobot.yaml).")
]
AsOpt = Annotated[str | None, typer.Option("--as", help="Act as this user of the config (default: its first).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Block until the operation ends or awaits approval.")]


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"promobot: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _call(
    config_path: str | None,
    user: str | None,
    call: Callable[[Client], Any],
    show: Callable[[Console, Any], None],
    as_json: bool,
) -> Any:
    """Run one API call as `user`; print its result as JSON or text; one line on stderr if refused."""
    try:
        client = Client.for_user(config.load(config_path), user)
        result = call(client)
    except (errors.PromobotError, ApiError) as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        show(out, result)
    return result


def _operation(
    config_path: str | None,
    user: str | None,
    call: Callable[[Client], Any],
    as_json: bool,
    wait: bool,
    *,
    cancelling: bool = False,
) -> None:
    """Start (or change) an operation; exit 1 when it ends failed, or cancelled when that was not asked for."""

    def run(client: Client) -> Any:
        operation = call(client)
        return client.wait(operation["id"]) if wait else operation

    operation = _call(config_path, user, run, render.operation, as_json)
    if operation["state"] == "failed" or (operation["state"] == "cancelled" and not cancelling):
        raise typer.Exit(1)


@app.command()
def promote(
    artifact: Annotated[str, typer.Argument(help="web:dev-1a2b3c4, dev-1a2b3c4, a commit SHA prefix or web@qa.")],
    env: Annotated[str | None, typer.Argument(help="Target environment (default: the next one).")] = None,
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Promote an artifact to an environment (the next one in order by default)."""
    _operation(config_path, user, lambda c: c.promote(artifact, env), as_json, wait)


@app.command()
def rollback(
    target: Annotated[str, typer.Argument(help="An artifact (web:qa-1a2b3c4) or an app (web).")],
    env: Annotated[str | None, typer.Argument(help="Environment (default: the artifact's own).")] = None,
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Pin the previous healthy artifact of an environment again, without a rebuild."""
    _operation(config_path, user, lambda c: c.rollback(target, env), as_json, wait)


@app.command()
def approve(
    operation: Annotated[int, typer.Argument(help="Operation id.")],
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Approve a promotion waiting for approval (not your own)."""
    _operation(config_path, user, lambda c: c.approve(operation), as_json, wait)


@app.command()
def cancel(
    operation: Annotated[int, typer.Argument(help="Operation id.")],
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a queued operation or one waiting for approval."""
    _operation(config_path, user, lambda c: c.cancel(operation), as_json, False, cancelling=True)


@app.command()
def status(
    operation: Annotated[int, typer.Argument(help="Operation id.")],
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Show an operation and every step it took."""

    def run(client: Client) -> Any:
        if wait:
            client.wait(operation)
        return client.status(operation)

    _call(config_path, user, run, render.status, as_json)


@app.command(name="list")
def list_(config_path: ConfigOpt = None, user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """What runs in every environment: artifact, source, state, when, who, where."""
    _call(config_path, user, lambda c: c.board(), render.board, as_json)


@app.command()
def diff(
    src: Annotated[str, typer.Argument(help="Source environment.")],
    dst: Annotated[str, typer.Argument(help="Destination environment.")],
    app_name: Annotated[str | None, typer.Option("--app", help="Only this app (JSON: one object).")] = None,
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Commits and files between two environments, and the command that brings DST up to SRC."""

    def run(client: Client) -> Any:
        results = client.diff(src, dst, app_name)
        return results[0] if app_name else results

    def show(console: Console, result: Any) -> None:
        for one in result if isinstance(result, list) else [result]:
            render.diff(console, one)

    _call(config_path, user, run, show, as_json)


@app.command()
def history(
    app_name: Annotated[str, typer.Argument(metavar="APP", help="App name.")],
    env: Annotated[str, typer.Argument(help="Environment.")],
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deployments of an app in an environment, newest first."""
    _call(config_path, user, lambda c: c.history(app_name, env, limit), render.history, as_json)


@app.command()
def lock(
    env: Annotated[str, typer.Argument(help="Environment to lock.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (shown to whoever is refused).")] = "",
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Release freeze: promotions into ENV wait or are refused until it is unlocked (rollbacks still go)."""
    _call(config_path, user, lambda c: c.lock(env, reason), render.lock, as_json)


@app.command()
def unlock(
    env: Annotated[str, typer.Argument(help="Environment to unlock.")],
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """End a release freeze; promotions waiting for it go on."""

    def show(console: Console, found: Any) -> None:
        console.print(f"{found['env']} is unlocked (it was locked by {found['by']})")

    _call(config_path, user, lambda c: c.unlock(env), show, as_json)


@app.command()
def locks(config_path: ConfigOpt = None, user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Which environments are locked, by whom, since when and why."""
    _call(config_path, user, lambda c: c.locks(), render.locks, as_json)


@app.command()
def audit(
    limit: Annotated[int, typer.Option(help="How many entries, newest first.")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this actor's entries.")] = None,
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit log: commands (accepted and refused), approvals, webhooks and operation changes."""
    _call(config_path, user, lambda c: c.audit(limit, actor), render.audit, as_json)


@app.command()
def chat(config_path: ConfigOpt = None, user: AsOpt = None) -> None:
    """Console chat against a running server: type `/promote web:dev-1a2b3c4 qa`, `/list`, `help`."""
    from promobot.cli import chatting

    try:
        client = Client.for_user(config.load(config_path), user)
    except errors.PromobotError as exc:
        fail(str(exc))
    lines = chatting.lines_from(out) if sys.stdin.isatty() else sys.stdin
    chatting.run(client, lines, out)


@app.command()
def serve(
    config_path: ConfigOpt = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes on one port (PostgreSQL only); each acts as a replica.")
    ] = 1,
) -> None:
    """Run the API, webhook intake, operation worker, embedded builder and local runtime in one process."""
    from promobot.cli import serving

    try:
        serving.serve(config.load(config_path), workers=workers)
    except errors.PromobotError as exc:
        fail(str(exc))


@app.command()
def sandbox(
    directory: Annotated[Path, typer.Argument(help="Where to create the setup (must be empty or new).")],
    apps: Annotated[str, typer.Option(help="Comma-separated app names.")] = "web",
    envs: Annotated[str, typer.Option(help="Comma-separated environments, in order.")] = "development,qa,staging,prod",
    port: Annotated[int, typer.Option(help="Port promobot serve will listen on.")] = 8470,
) -> None:
    """Create a complete local setup: git repositories, registry, database, tokens and a config."""
    from promobot.sandbox import create

    try:
        made = create.sandbox(directory, apps=_names(apps), envs=_names(envs), port=port)
    except errors.PromobotError as exc:
        fail(str(exc))
    out.print(made.summary())


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Where to build the demo (replaced if it exists).")] = Path("demo"),
) -> None:
    """Create a sandbox, start the server and walk an artifact from development to prod, narrating."""
    from promobot.sandbox import demo as demo_module

    try:
        demo_module.run(directory, out)
    except errors.PromobotError as exc:
        fail(str(exc))


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def run() -> None:
    app()
