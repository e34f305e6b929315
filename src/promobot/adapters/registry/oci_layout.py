"""The embedded registry: OCI image-layout directories on disk, one per image, read through `oci`.

Implements `ports.Registry`. The embedded builder writes the layouts; the local runtime reads them too.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from promobot import ports
from promobot.adapters import oci

# RFC 3339 times may carry nanoseconds (Go tools write them); Python reads at most microseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")


class OciLayoutRegistry:
    """Reads `<root>/<image>/` layouts. Safe to share between threads: writers replace files atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def get(self, image: str, tag: str) -> ports.Image | None:
        found = oci.tagged_config(oci.layout_dir(self.root, image), tag)
        if found is None:
            return None
        digest, config = found
        labels = (config.get("config") or {}).get("Labels") or {}
        return ports.Image(
            tag=tag,
            digest=digest,
            labels={str(key): str(value) for key, value in labels.items()},
            created=_parse_time(config.get("created")),
        )

    def exists(self, image: str, digest: str) -> bool:
        return oci.has_blob(oci.layout_dir(self.root, image), digest)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", value))
    except ValueError:
        return None
