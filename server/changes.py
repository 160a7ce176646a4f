"""The change log a pull reads: one row per change to anything a phone or page may pull.

Why a pull never skips a change, on PostgreSQL too: sequence numbers are handed out when a row is
inserted but become visible when its transaction commits, so a reader could see seq 11 while seq
10 is still uncommitted, move its cursor past 10 and never see it. Every writer therefore appends
its change rows as the LAST step of its transaction, under a transaction-scoped advisory lock
that is held until commit: change rows are numbered in commit order, and any seq a reader can see
has every smaller seq already committed. PostgreSQL makes a commit visible before it releases
the transaction's locks, so the next writer's seq can only be seen after this one's.
tests/server/test_pull_concurrency.py fails without this lock (checked by removing it).

Lock order, to never deadlock: a writer takes its other advisory locks (a doctor's pushes 4514,
village-weeks 4513) BEFORE this one, and nothing after it. On SQLite writers are serialised by
the database itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from server.rawsql import Dialect

CHANGE_LOG_LOCK = 4512  # pg_advisory_xact_lock key for the change log

# Types shared by everyone in a township, and types only their `user_id` may pull.
SHARED_TYPES = ("township", "village", "exemption", "coverage")
PERSONAL_TYPES = ("visit", "assignment", "reminder")


@dataclass(frozen=True)
class ChangeNote:
    type: str
    entity_id: str
    township: str | None = None
    county: str | None = None
    user_id: str | None = None


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


async def append_changes(
    notes: list[ChangeNote], connection: BaseDBAsyncClient | None = None
) -> None:
    """Append change rows; call inside the writer's transaction, after its other writes."""
    if not notes:
        return
    connection = connection or connections.get("default")
    sql = Dialect(connection)
    if sql.postgres:
        await connection.execute_query(f"SELECT pg_advisory_xact_lock({CHANGE_LOG_LOCK})")
    # Raw rows, not Change objects: a push appends hundreds (server/rawsql.py). One statement
    # inserts them in list order, so their seqs keep the notes' order.
    at = sql.moment(datetime.now(UTC))  # models.Change.created_at is auto_now_add
    await sql.insert_many(
        "change",
        ("type", "entity_id", "township", "county", "user_id", "created_at"),
        [(n.type, n.entity_id, n.township, n.county, n.user_id, at) for n in notes],
    )
