"""Least privilege in the database: the role that owns the schema runs the migrations; the
web, workers, beat and the sequencer connect as a runtime role that may read and write the
ordinary tables but only INSERT and SELECT the append-only ones (the audit log).

The runtime role owns nothing, so it cannot ALTER a table, switch its triggers off, drop it,
or TRUNCATE it; `session_replication_role` (which would silence triggers) is for superusers.
`grant_runtime_role` runs after every `migrate` when `DATABASE_RUNTIME_ROLE` is set (the
moderation app connects it to post_migrate), so a table a migration adds is covered at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import sql


def grant_runtime_role(cursor, role: str, append_only_tables: Iterable[str]) -> None:
    """Grant `role` what the running application needs, as the schema's owner."""
    name = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(cursor.connection.info.dbname), name
        ),
        # audit_verify checks the audit constraint on a throwaway copy of the table.
        sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(
            sql.Identifier(cursor.connection.info.dbname), name
        ),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            name
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        # The migration record is the owner's: the application only reads it.
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {}").format(name),
    ]
    for table in append_only_tables:
        statements.append(
            sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(
                sql.Identifier(table), name
            )
        )
    for statement in statements:
        cursor.execute(statement.as_string(cursor.connection))
