"""Benchmark 1, chat ack: signed slash commands at 50/s for 30 s with 20 operations in flight; p50/p99 ack.

Not measurable yet: the Slack endpoints (issue 3) are being built. Once `/slack/commands` exists this
script signs requests with the app's signing secret and times the HTTP ack of each.
"""

from __future__ import annotations

from common import not_yet

REASON = "the Slack slash-command endpoint (issue 3) is not built yet; nothing acks a chat command"

if __name__ == "__main__":
    not_yet("chat_ack_p50", REASON)
    not_yet("chat_ack_p99", REASON)
