"""Slack: the Web API client (post, update, reply, ephemeral, response_url) and the Bolt app (HTTP, Socket Mode)."""
