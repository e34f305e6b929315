"""The database store: SQLAlchemy Core tables, repositories, a unit of work and Alembic migrations.

`promobot.adapters.store.sql.SqlStore` is the entry point; it implements `ports.Store`.
"""
