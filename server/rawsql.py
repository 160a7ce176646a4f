"""Raw SQL for the hot paths (a push writes hundreds of rows), one code path for SQLite and
PostgreSQL, storing values exactly as Tortoise stores them so ORM reads elsewhere agree.

Building a Tortoise model object per row was a third of a push's time. Tortoise keeps, on SQLite:
a datetime as text in UTC, '2026-01-01 00:00:00+00:00' (`isoformat(" ")`), a date as
'2026-01-01', a boolean as 0/1 and JSON as compact text with ASCII escapes; on PostgreSQL
(asyncpg) datetimes and dates as objects, and JSON as that same text for its jsonb columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient


def to_json(value: Any) -> str:
    """Compact JSON text for a JSON column. The models' JSONFields write json.dumps' ASCII
    escapes and this writes UTF-8 (orjson, for a push's thousand values); both read back alike,
    and nothing compares the stored text."""
    return orjson.dumps(value).decode()


_TAG_LISTS: dict[tuple[str, ...], str] = {}


def tags_json(tags: Sequence[str]) -> str:
    """to_json of a short list of tags (services, flags): a push stores hundreds of the same few,
    so each is encoded once."""
    key = tuple(tags)
    text = _TAG_LISTS.get(key)
    if text is None:
        if len(_TAG_LISTS) >= 4096:  # phones choose the lists: keep the cache bounded
            _TAG_LISTS.clear()
        text = _TAG_LISTS[key] = to_json(list(key))
    return text


class Dialect:
    """Placeholders and stored values for one connection's database."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn
        self.postgres = conn.capabilities.dialect == "postgres"
        self._texts: dict[datetime, str] = {}  # a push's moments, each formatted once

    def marks(self, count: int, first: int = 1) -> list[str]:
        """`count` placeholders, numbered from `first` on PostgreSQL ($1, $2 …), `?` on SQLite."""
        if self.postgres:
            return [f"${n}" for n in range(first, first + count)]
        return ["?"] * count

    def moment(self, value: datetime | None) -> Any:
        if value is None or self.postgres:
            return value
        text = self._texts.get(value)
        if text is None:
            if len(self._texts) >= 10_000:  # one Dialect may write a whole rebuild
                self._texts.clear()
            # str(datetime) is isoformat(" "): what Tortoise's SQLite adapter writes. Equal
            # instants in other zones are equal keys, and have the same text in UTC.
            text = self._texts[value] = str(value.astimezone(UTC))
        return text

    def day(self, value: date | None) -> Any:
        return value if self.postgres or value is None else value.isoformat()

    async def insert_many(
        self,
        table: str,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
        *,
        conflict: Sequence[str] = (),
        update: Sequence[str] = (),
    ) -> None:
        """INSERT `rows` (values already stored-form: see `moment`, `day`, `to_json`) with one
        prepared statement; with `conflict`, an upsert that overwrites the `update` columns."""
        if not rows:
            return
        sql = (
            f'INSERT INTO "{table}" ({", ".join(columns)}) '
            f"VALUES ({', '.join(self.marks(len(columns)))})"
        )
        if conflict:
            sets = ", ".join(f"{c} = excluded.{c}" for c in update)
            sql += f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}"
        await self.conn.execute_many(sql, rows)  # type: ignore[arg-type]


def read_moment(value: Any) -> datetime | None:
    """A stored datetime as Tortoise reads it: aware, in UTC."""
    if value is None:
        return None
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def read_day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def read_json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value
