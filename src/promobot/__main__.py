"""Run the command line with `python -m promobot`."""

from promobot.cli.main import run

run()
