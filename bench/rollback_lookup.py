"""Benchmark 7, rollback lookup with 10,000 tags in a real registry: choose and verify the target.

Not measurable yet: the HTTP OCI registry adapter (issue 4) is being built; the embedded OCI-layout
registry reads a local index, which is not what the target is about (history plus one HEAD over HTTP).
"""

from __future__ import annotations

from common import not_yet

REASON = "the HTTP OCI registry adapter (issue 4) is not built yet; only the embedded OCI-layout registry exists"

if __name__ == "__main__":
    not_yet("rollback_lookup_ms", REASON)
