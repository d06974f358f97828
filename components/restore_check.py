"""What a restored database must hold before the restore counts as verified: the check query.

One SQL text, run by the scheduled restore job inside the throwaway cluster (`psql -v ON_ERROR_STOP=1`)
and by the tests against a real restored server. It raises an error, so psql exits non-zero and the run
fails, unless the database it connects to (the app database: connecting fails if it was not restored)
has the configured table with at least one row, or, with no table configured, at least one table of its
own. Its one result row says what was restored: the database, the number of user tables, and the commit
time of the last transaction replayed from the archive (`pg_last_xact_replay_timestamp()`, which keeps
that value after recovery ends, until the server restarts).
"""

from __future__ import annotations

USER_TABLES = ("SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
               "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
               "AND n.nspname NOT LIKE 'pg_toast%'")


def check_sql(table: str | None) -> str:
    """The check for `table` (`schema.table`, validated as bare identifiers by the config), or for any table.

    The table name is a literal inside the DO block, never spliced into dynamic SQL unchecked: the
    config accepts only bare lowercase identifiers, and `to_regclass` resolves it before it is read."""
    if table is None:
        guard = (f"IF ({USER_TABLES}) = 0 THEN "
                 "RAISE EXCEPTION 'restore check: the restored database has no tables'; END IF;")
    else:
        guard = (f"IF to_regclass('{table}') IS NULL THEN "
                 f"RAISE EXCEPTION 'restore check: table {table} is missing from the restored database'; END IF; "
                 f"IF NOT EXISTS (SELECT 1 FROM {table} LIMIT 1) THEN "
                 f"RAISE EXCEPTION 'restore check: table {table} is empty in the restored database'; END IF;")
    return (f"DO $check$ BEGIN {guard} END $check$; "
            f"SELECT current_database() AS database, ({USER_TABLES}) AS tables, "
            "pg_last_xact_replay_timestamp() AS last_replayed_commit;")
