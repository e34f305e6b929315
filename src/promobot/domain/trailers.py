"""The git trailers promobot writes on its commits, and reading them back."""

from __future__ import annotations

from collections.abc import Mapping

SOURCE = "Promobot-Source"
ARTIFACT = "Promobot-Artifact"
OPERATION = "Promobot-Operation"
KIND = "Promobot-Kind"


def render(subject: str, trailers: Mapping[str, str], body: str = "") -> str:
    """A commit message: subject, optional body, then the trailer block."""
    parts = [subject.strip()]
    if body.strip():
        parts.append(body.strip())
    parts.append("\n".join(f"{key}: {value}" for key, value in trailers.items()))
    return "\n\n".join(parts) + "\n"


def parse(message: str) -> dict[str, str]:
    """Trailers of the last paragraph of a commit message (`Key: value` lines)."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return {}
    found: dict[str, str] = {}
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if not sep or not key or " " in key:
            return {}
        found[key] = value.strip()
    return found
