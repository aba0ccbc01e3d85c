"""Alembic environment: Baton always hands Alembic an open connection (see baton.db.migrate)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
