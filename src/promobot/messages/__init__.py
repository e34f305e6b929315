"""Every user-facing chat text, as Block Kit for Slack and plain text for the console chat. No I/O.

Neighbours: the grammar (`promobot.domain.grammar`) reads what people type; these modules write what they
read. Each builder returns a `ports.ChatMessage` whose `text` is the whole plain-text rendering.
"""
