"""The kustomization file that pins one app's image in one environment: read a pin, write one back.

Only the matching `images:` entry is touched; every other key of an existing file is kept (comments are
not, since the file is rewritten from its parsed form).
"""

from __future__ import annotations

from typing import Any

import yaml

from promobot.domain import errors
from promobot.domain.deployments import Pin

API_VERSION = "kustomize.config.k8s.io/v1beta1"


def _load(text: str | None) -> dict[str, Any]:
    if not text or not text.strip():
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise errors.PermanentError(f"a kustomization file in the GitOps repository is not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise errors.PermanentError("a kustomization file in the GitOps repository is not a mapping")
    return data


def read_pin(text: str | None, image: str) -> Pin | None:
    """The pin of `image` in the file, or None if the file has no entry for it."""
    for entry in _load(text).get("images") or []:
        if isinstance(entry, dict) and entry.get("name") == image:
            return Pin(image=image, tag=str(entry.get("newTag") or ""), digest=str(entry.get("digest") or ""))
    return None


def write_pin(text: str | None, pin: Pin) -> str | None:
    """The file with `pin` in place, or None when it already pins exactly that."""
    if read_pin(text, pin.image) == pin:
        return None
    data = _load(text)
    if not data:
        data = {"apiVersion": API_VERSION, "kind": "Kustomization", "resources": []}
    entry: dict[str, Any] = {"name": pin.image, "newTag": pin.tag}
    if pin.digest:
        entry["digest"] = pin.digest
    images = list(data.get("images") or [])
    for index, old in enumerate(images):
        if isinstance(old, dict) and old.get("name") == pin.image:
            images[index] = {**{k: v for k, v in old.items() if k not in ("newTag", "digest")}, **entry}
            break
    else:
        images.append(entry)
    data["images"] = images
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
