"""The embedded registry: OCI image-layout directories on disk, one per image, read through `oci`.

Implements `ports.Registry`. The embedded builder writes the layouts; the local runtime reads them too.
"""

from __future__ import annotations

from pathlib import Path

from promobot import ports
from promobot.adapters import oci

# RFC 3339 times may carry nanoseconds (Go tools write them); Python reads at most microseconds.


class OciLayoutRegistry:
    """Reads `<root>/<image>/` layouts. Safe to share between threads: writers replace files atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def get(self, image: str, tag: str) -> ports.Image | None:
        found = oci.tagged_config(oci.layout_dir(self.root, image), tag)
        if found is None:
            return None
        digest, config = found
        return oci.image(tag, digest, config)

    def exists(self, image: str, digest: str) -> bool:
        return oci.has_blob(oci.layout_dir(self.root, image), digest)
