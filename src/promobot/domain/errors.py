"""Every error promobot reports to a person, as exception types.

Each error carries one line saying what was wrong and, where it helps, what would be right. Errors are
either permanent (report them; nothing changed) or temporary (retry after a delay).
"""

from __future__ import annotations


class PromobotError(Exception):
    """Base of promobot's own errors: `code` is stable, `str()` is the one line a person reads."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}; {hint}" if hint else message)


class ConfigError(PromobotError):
    code = "config_invalid"


class InvalidReference(PromobotError):
    code = "invalid_reference"


class UnknownApp(PromobotError):
    code = "unknown_app"
    http_status = 404


class UnknownEnvironment(PromobotError):
    code = "unknown_environment"
    http_status = 404


class UnknownArtifact(PromobotError):
    code = "unknown_artifact"
    http_status = 404


class AmbiguousReference(PromobotError):
    code = "ambiguous_reference"


class UnknownOperation(PromobotError):
    code = "unknown_operation"
    http_status = 404


class NotAuthenticated(PromobotError):
    code = "not_authenticated"
    http_status = 401


class NotAllowed(PromobotError):
    code = "not_allowed"
    http_status = 403


class NothingToDo(PromobotError):
    code = "nothing_to_do"
    http_status = 409


class GateNotMet(PromobotError):
    code = "gate_not_met"
    http_status = 409


class InvalidTransition(PromobotError):
    code = "invalid_transition"
    http_status = 409


class TemporaryError(PromobotError):
    """Something outside promobot failed in a way that may pass: retry after `retry_after` seconds."""

    code = "temporarily_unavailable"
    http_status = 503

    def __init__(self, message: str, hint: str = "", retry_after: float = 1.0) -> None:
        super().__init__(message, hint)
        self.retry_after = retry_after


class PermanentError(PromobotError):
    """Something outside promobot failed in a way retrying will not fix."""

    code = "failed"
    http_status = 502


class InvalidCommand(PromobotError):
    """What was typed to the bot is not a command it knows; the hint is the usage."""

    code = "invalid_command"
