"""Alembic's environment and the schema revisions; run through `promobot.adapters.store.migrating`."""
