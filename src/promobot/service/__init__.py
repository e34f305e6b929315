"""The use cases: promote, rollback, approve, list, diff, take events in, advance operations.

Talks to the world only through `promobot.ports`.
"""
