"""Least privilege: connected as the runtime role, nothing can change or silence the audit log;
the application's ordinary work (insert an event, read it) still goes through."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from config.dbroles import grant_runtime_role
from moderation.models import APPEND_ONLY_MODELS

ROLE = "saring_runtime_test"
TABLES = [model._meta.db_table for model in APPEND_ONLY_MODELS]


@pytest.fixture
def runtime(transactional_db):
    """A connection to the test database as a runtime role granted by the migrations' rule."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE])
        if cursor.fetchone() is None:
            cursor.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
                .format(sql.Identifier(ROLE))
                .as_string(cursor.connection)
            )
        grant_runtime_role(cursor, ROLE, TABLES)
    params = connection.get_connection_params()
    params.update(user=ROLE, password="")
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(autocommit=True, **params) as conn:
        yield conn


def refused(conn, statement: str) -> bool:
    """Refused for want of a privilege, by PostgreSQL itself: not stopped later by the
    append-only triggers (which raise the same error code, with their own message)."""
    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege as exc:
        message = str(exc)
        assert "append-only" not in message, message
        return "permission denied" in message or "must be owner" in message
    return False


def test_the_runtime_role_writes_and_reads_events(runtime):
    runtime.execute(
        "WITH n AS (SELECT nextval('saring_audit_event_number') AS sequence,"
        " date_trunc('second', now()) AS created_at)"
        " INSERT INTO moderation_auditevent (sequence, created_at, canonical, actor_kind,"
        " actor_label, action, subject_type, subject_id, subject_label, data, ip_address)"
        " SELECT sequence, created_at, convert_to(jsonb_build_object('sequence', sequence,"
        " 'created_at', to_char(created_at AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'actor_kind', 'system', 'actor_user_id', null,"
        " 'actor_label', 'system', 'action', 'test.runtime', 'subject_type', '', 'subject_id',"
        " '', 'subject_label', '', 'data', '{}'::jsonb, 'ip_address', '', 'prev_hash', '')::text,"
        " 'UTF8'), 'system', 'system', 'test.runtime', '', '', '', '{}', '' FROM n"
    )
    assert runtime.execute(
        "SELECT count(*) FROM moderation_auditevent WHERE action = 'test.runtime'"
    ).fetchone() == (1,)


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {t} SET {c} = {c}",
        "DELETE FROM {t}",
        "TRUNCATE {t}",
        "ALTER TABLE {t} DISABLE TRIGGER USER",
        "ALTER TABLE {t} DISABLE TRIGGER ALL",
        "DROP TABLE {t} CASCADE",
        "CREATE TRIGGER sneak BEFORE INSERT ON {t} FOR EACH ROW"
        " EXECUTE FUNCTION saring_audit_refuse_change()",
    ],
)
def test_the_runtime_role_cannot_change_or_silence_an_audit_table(runtime, table, statement):
    column = "action" if table == "moderation_auditevent" else "hash"
    if table in ("moderation_audittreehead", "moderation_auditcheckpoint"):
        column = "root"
    assert refused(runtime, statement.format(t=table, c=column))


def test_the_runtime_role_cannot_switch_replication_mode_off_triggers(runtime):
    assert refused(runtime, "SET session_replication_role = replica")
    assert runtime.execute("SHOW session_replication_role").fetchone() == ("origin",)
