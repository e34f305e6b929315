"""The `promobot` console script: thin commands over the REST API, plus `sandbox`, `serve` and `demo`."""

from __future__ import annotations

import json
import sys
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


def _client(config_path: str | None, user: str | None) -> Client:
    try:
        return Client.for_user(config.load(config_path), user)
    except errors.PromobotError as exc:
        fail(str(exc))


def _operation(client: Client, call: Any, as_json: bool, wait: bool) -> None:
    try:
        op = call()
        if wait:
            op = client.wait(op["id"])
    except ApiError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(op, indent=2))
    else:
        render.operation(out, op)
    if op["state"] in ("failed", "cancelled"):
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
    client = _client(config_path, user)
    _operation(client, lambda: client.promote(artifact, env), as_json, wait)


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
    client = _client(config_path, user)
    _operation(client, lambda: client.rollback(target, env), as_json, wait)


@app.command()
def approve(
    operation: Annotated[int, typer.Argument(help="Operation id.")],
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Approve a promotion waiting for approval (not your own)."""
    client = _client(config_path, user)
    _operation(client, lambda: client.approve(operation), as_json, wait)


@app.command()
def cancel(
    operation: Annotated[int, typer.Argument(help="Operation id.")],
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a queued operation or one waiting for approval."""
    client = _client(config_path, user)
    _operation(client, lambda: client.cancel(operation), as_json, False)


@app.command()
def status(
    operation: Annotated[int, typer.Argument(help="Operation id.")],
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Show an operation and every step it took."""
    client = _client(config_path, user)
    try:
        op = client.wait(operation) if wait else client.status(operation)
        if wait:
            op = client.status(operation)
    except ApiError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(op, indent=2))
    else:
        render.status(out, op)


@app.command(name="list")
def list_(config_path: ConfigOpt = None, user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """What runs in every environment: artifact, source, state, when, who, where."""
    client = _client(config_path, user)
    try:
        rows = client.board()
    except ApiError as exc:
        fail(str(exc))
    if as_json:
        for row in rows:
            row.pop("operation", None)
        print(json.dumps(rows, indent=2))
    else:
        render.board(out, rows)


@app.command()
def diff(
    src: Annotated[str, typer.Argument(help="Source environment.")],
    dst: Annotated[str, typer.Argument(help="Destination environment.")],
    app_name: Annotated[str | None, typer.Option("--app", help="Only this app.")] = None,
    config_path: ConfigOpt = None,
    user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Commits and files between two environments, and the command that brings DST up to SRC."""
    client = _client(config_path, user)
    try:
        results = client.diff(src, dst, app_name)
    except ApiError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(results[0] if app_name else results, indent=2))
    else:
        for result in results:
            render.diff(out, result)


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
    client = _client(config_path, user)
    try:
        rows = client.history(app_name, env, limit)
    except ApiError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        render.history(out, rows)


@app.command()
def serve(config_path: ConfigOpt = None) -> None:
    """Run the API, webhook intake, operation worker, embedded builder and local runtime in one process."""
    from promobot.cli import serving

    try:
        serving.serve(config.load(config_path))
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
