"""Telling people what happened: the console log now, Slack later."""
