"""Database triggers that make tables append-only, on SQLite and PostgreSQL.

``append_only(connection, table)`` makes a table refuse UPDATE, DELETE (and TRUNCATE on
PostgreSQL); the register's history uses it too. The operation log's tables are append-only
and its head row may only move forward one entry at a time. In production the application's
database role must not own these tables, so that it cannot drop the triggers either
(see docs/adr/0003).
"""

from __future__ import annotations

from typing import Any

ENTRY = "audit_operationlogentry"
TARGET = "audit_operationlogtarget"
HEAD = "audit_operationloghead"
ARCHIVE = "audit_archivestate"

# The column of each log table that names the entry's position.
_SEQ_COLUMN = {ENTRY: "seq", TARGET: "entry_id"}
_ARCHIVED_THROUGH = f"COALESCE((SELECT archived_through FROM {ARCHIVE} WHERE id = 1), 0)"  # noqa: S608

_PG_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION jumin_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'append-only table: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$
"""


def _install_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only table: {op} on {table} refused'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        return [
            _PG_REFUSE_FUNCTION,
            f"CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION jumin_refuse_change()",
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jumin_refuse_change()",
        ]
    raise NotImplementedError(f"append-only triggers are not defined for {vendor}")


def _uninstall_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ]
    raise NotImplementedError(f"append-only triggers are not defined for {vendor}")


def _head_install_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {HEAD}_forward BEFORE UPDATE ON {HEAD} "
            "WHEN NEW.last_seq <> OLD.last_seq + 1 OR NEW.id <> OLD.id "
            "BEGIN SELECT RAISE(ABORT, 'operation log head may only advance by one'); END",
            f"CREATE TRIGGER IF NOT EXISTS {HEAD}_no_delete BEFORE DELETE ON {HEAD} "
            "BEGIN SELECT RAISE(ABORT, 'operation log head cannot be deleted'); END",
        ]
    return [
        _PG_REFUSE_FUNCTION,
        """
        CREATE OR REPLACE FUNCTION jumin_audit_head_forward() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.last_seq <> OLD.last_seq + 1 OR NEW.id <> OLD.id THEN
            RAISE EXCEPTION 'operation log head may only advance by one'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$
        """,
        f"CREATE OR REPLACE TRIGGER {HEAD}_forward BEFORE UPDATE ON {HEAD} "
        "FOR EACH ROW EXECUTE FUNCTION jumin_audit_head_forward()",
        f"CREATE OR REPLACE TRIGGER {HEAD}_no_delete BEFORE DELETE ON {HEAD} "
        "FOR EACH ROW EXECUTE FUNCTION jumin_refuse_change()",
        f"CREATE OR REPLACE TRIGGER {HEAD}_no_truncate BEFORE TRUNCATE ON {HEAD} "
        "FOR EACH STATEMENT EXECUTE FUNCTION jumin_refuse_change()",
    ]


def _head_uninstall_sql(vendor: str) -> list[str]:
    sql = [f"DROP TRIGGER IF EXISTS {HEAD}_forward", f"DROP TRIGGER IF EXISTS {HEAD}_no_delete"]
    if vendor == "postgresql":
        sql = [f"{s} ON {HEAD}" for s in sql]
        sql.append(f"DROP TRIGGER IF EXISTS {HEAD}_no_truncate ON {HEAD}")
    return sql


def _execute(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def append_only(connection: Any, table: str) -> None:
    """Make ``table`` refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE."""
    _execute(connection, _install_sql(connection.vendor, table))


def allow_changes(connection: Any, table: str) -> None:
    """Undo ``append_only``. Only tests (tamper simulation, flushing) call this."""
    _execute(connection, _uninstall_sql(connection.vendor, table))


def _log_table_install_sql(vendor: str, table: str) -> list[str]:
    """Entries and their index: no UPDATE ever; DELETE only of archived entries
    (``seq <= archived_through``, see ``services.archive``); no TRUNCATE."""
    column = _SEQ_COLUMN[table]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only table: UPDATE on {table} refused'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"WHEN OLD.{column} > {_ARCHIVED_THROUGH} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only table: DELETE on {table} refused"
            " (not archived)'); END",
        ]
    if vendor == "postgresql":
        function = f"jumin_audit_{table}_guard"
        return [
            _PG_REFUSE_FUNCTION,
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' AND OLD.{column} <= {_ARCHIVED_THROUGH} THEN
                RETURN OLD;
              END IF;
              RAISE EXCEPTION 'append-only table: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
            END $$
            """,
            f"CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jumin_refuse_change()",
        ]
    raise NotImplementedError(f"append-only triggers are not defined for {vendor}")


def _archive_install_sql(vendor: str) -> list[str]:
    """The archive mark only moves forward and is never deleted."""
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {ARCHIVE}_forward BEFORE UPDATE ON {ARCHIVE} "
            "WHEN NEW.archived_through < OLD.archived_through OR NEW.id <> OLD.id "
            "BEGIN SELECT RAISE(ABORT, 'operation log archive mark may only advance'); END",
            f"CREATE TRIGGER IF NOT EXISTS {ARCHIVE}_no_delete BEFORE DELETE ON {ARCHIVE} "
            "BEGIN SELECT RAISE(ABORT, 'operation log archive mark cannot be deleted'); END",
        ]
    return [
        _PG_REFUSE_FUNCTION,
        """
        CREATE OR REPLACE FUNCTION jumin_audit_archive_forward() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.archived_through < OLD.archived_through OR NEW.id <> OLD.id THEN
            RAISE EXCEPTION 'operation log archive mark may only advance'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$
        """,
        f"CREATE OR REPLACE TRIGGER {ARCHIVE}_forward BEFORE UPDATE ON {ARCHIVE} "
        "FOR EACH ROW EXECUTE FUNCTION jumin_audit_archive_forward()",
        f"CREATE OR REPLACE TRIGGER {ARCHIVE}_no_delete BEFORE DELETE ON {ARCHIVE} "
        "FOR EACH ROW EXECUTE FUNCTION jumin_refuse_change()",
        f"CREATE OR REPLACE TRIGGER {ARCHIVE}_no_truncate BEFORE TRUNCATE ON {ARCHIVE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION jumin_refuse_change()",
    ]


def _archive_uninstall_sql(vendor: str) -> list[str]:
    sql = [
        f"DROP TRIGGER IF EXISTS {ARCHIVE}_forward",
        f"DROP TRIGGER IF EXISTS {ARCHIVE}_no_delete",
    ]
    if vendor == "postgresql":
        sql = [f"{s} ON {ARCHIVE}" for s in sql]
        sql.append(f"DROP TRIGGER IF EXISTS {ARCHIVE}_no_truncate ON {ARCHIVE}")
    return sql


def _has_archive_table(connection: Any) -> bool:
    return ARCHIVE in connection.introspection.table_names()


def install(connection: Any) -> None:
    """The operation log's triggers."""
    for table in (ENTRY, TARGET):
        _execute(connection, _log_table_install_sql(connection.vendor, table))
    _execute(connection, _head_install_sql(connection.vendor))
    if _has_archive_table(connection):
        _execute(connection, _archive_install_sql(connection.vendor))


def uninstall(connection: Any) -> None:
    """Remove the operation log's triggers. Only tests (and migrations) call this."""
    for table in (ENTRY, TARGET):
        allow_changes(connection, table)
    _execute(connection, _head_uninstall_sql(connection.vendor))
    if _has_archive_table(connection):
        _execute(connection, _archive_uninstall_sql(connection.vendor))
