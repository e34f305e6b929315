"""The `promobot` console script."""

from __future__ import annotations

import typer

app = typer.Typer(help="promobot: move artifacts through environments by changing git.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print promobot's version."""
    from promobot import __version__

    typer.echo(__version__)


def run() -> None:
    app()
