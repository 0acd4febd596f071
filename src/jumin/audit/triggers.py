"""Database triggers that make the operation log append-only, on SQLite and PostgreSQL.

The entry and index tables refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL); the head row
may only move forward one entry at a time. In production the application's database role
must not own these tables, so that it cannot drop the triggers either (see docs/adr).
"""

from __future__ import annotations

from typing import Any

ENTRY = "audit_operationlogentry"
TARGET = "audit_operationlogtarget"
HEAD = "audit_operationloghead"

_SQLITE_INSTALL = [
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'operation log is append-only: {op} on {table} refused'); END"
        for table in (ENTRY, TARGET)
        for op in ("UPDATE", "DELETE")
    ),
    f"CREATE TRIGGER IF NOT EXISTS {HEAD}_forward BEFORE UPDATE ON {HEAD} "
    "WHEN NEW.last_seq <> OLD.last_seq + 1 OR NEW.id <> OLD.id "
    "BEGIN SELECT RAISE(ABORT, 'operation log head may only advance by one'); END",
    f"CREATE TRIGGER IF NOT EXISTS {HEAD}_no_delete BEFORE DELETE ON {HEAD} "
    "BEGIN SELECT RAISE(ABORT, 'operation log head cannot be deleted'); END",
]
_SQLITE_UNINSTALL = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_no_{op}"
        for t in (ENTRY, TARGET)
        for op in ("update", "delete")
    ),
    f"DROP TRIGGER IF EXISTS {HEAD}_forward",
    f"DROP TRIGGER IF EXISTS {HEAD}_no_delete",
]

_PG_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION jumin_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'operation log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION jumin_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.last_seq <> OLD.last_seq + 1 OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'operation log head may only advance by one'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END $$
    """,
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION jumin_audit_refuse()"
        for table in (ENTRY, TARGET)
    ),
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION jumin_audit_refuse()"
        for table in (ENTRY, TARGET, HEAD)
    ),
    f"CREATE OR REPLACE TRIGGER {HEAD}_forward BEFORE UPDATE ON {HEAD} "
    "FOR EACH ROW EXECUTE FUNCTION jumin_audit_head_forward()",
    f"CREATE OR REPLACE TRIGGER {HEAD}_no_delete BEFORE DELETE ON {HEAD} "
    "FOR EACH ROW EXECUTE FUNCTION jumin_audit_refuse()",
]
_PG_UNINSTALL = [
    *(f"DROP TRIGGER IF EXISTS {t}_no_change ON {t}" for t in (ENTRY, TARGET)),
    *(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}" for t in (ENTRY, TARGET, HEAD)),
    f"DROP TRIGGER IF EXISTS {HEAD}_forward ON {HEAD}",
    f"DROP TRIGGER IF EXISTS {HEAD}_no_delete ON {HEAD}",
]


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_UNINSTALL
    if vendor == "postgresql":
        return _PG_INSTALL if install else _PG_UNINSTALL
    raise NotImplementedError(f"operation-log triggers are not defined for {vendor}")


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=True):
            cursor.execute(sql)


def uninstall(connection: Any) -> None:
    """Remove the triggers. Only tests (tamper simulation, flushing) call this."""
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=False):
            cursor.execute(sql)
