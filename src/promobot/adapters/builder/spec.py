"""What the embedded builder needs to know about one app: where its code is and what image to make."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BuildSpec:
    """`remote` is a bare git repository path or URL; `command` becomes the image's `Cmd`."""

    remote: str
    image: str
    command: list[str] = field(default_factory=list)
