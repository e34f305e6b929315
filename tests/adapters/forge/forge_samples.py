"""Names and messages shared by the forge adapter tests."""

from __future__ import annotations

REPO = "acme/web"
PROJECT = "acme/platform/web"
BRANCH = "promobot/prod/prod-1a2b3c4-op7"
PROMOTION_MESSAGE = (
    "Promote web:staging-1a2b3c4 to prod\n\n"
    "Promobot-Source: 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b\n"
    "Promobot-Artifact: web:staging-1a2b3c4\n"
    "Promobot-Operation: 7\n"
)
