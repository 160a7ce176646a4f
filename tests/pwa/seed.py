"""Stand-in for `cunyi import` while server/importer.py is being written: upsert a SPEC §7 bundle
straight into the database of CUNYI_DATA_DIR / CUNYI_DATABASE_URL and note the changes a pull reads.

Run as `python -m tests.pwa.seed bundle.json`. The browser tests use `LiveServer.import_bundle`
instead as soon as the real importer exists (see conftest.seed_county).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from typing import Any

from tortoise import Tortoise

from server.changes import ChangeNote, append_changes
from server.db import open_database, upgrade_schema
from server.models import Assignment, County, Township, User, Village
from server.passwords import hash_password
from server.settings import load_settings


async def seed(bundle: dict[str, Any]) -> None:
    notes: list[ChangeNote] = []
    for c in bundle.get("counties", []):
        await County.update_or_create(code=c["code"], defaults={"name": c["name"]})
    for t in bundle.get("townships", []):
        await Township.update_or_create(
            code=t["code"], defaults={"name": t["name"], "county_id": t["county"]}
        )
        notes.append(ChangeNote("township", t["code"], township=t["code"], county=t["county"]))
    for v in bundle.get("villages", []):
        fields = {k: v.get(k) for k in ("name", "population", "needs_coverage", "lat", "lon")}
        await Village.update_or_create(code=v["code"], defaults={**fields, "township_id": v["township"]})
        notes.append(ChangeNote("village", v["code"], township=v["township"]))
    for u in bundle.get("users", []):
        await User.update_or_create(
            id=u["id"],
            defaults={
                "name": u["name"], "phone": u["phone"], "role": u["role"],
                "password_hash": hash_password(u["password"]),
                "township_id": u.get("township"), "county_id": u.get("county"),
                "qualification": u.get("qualification", "other"),
            },
        )
    townships = {v["code"]: v["township"] for v in bundle.get("villages", [])}
    for a in bundle.get("assignments", []):
        await Assignment.update_or_create(
            id=a["id"],
            defaults={
                "doctor_id": a["doctor"], "village_id": a["village"], "kind": a["kind"],
                "start": date.fromisoformat(a["start"]),
                "end": date.fromisoformat(a["end"]) if a.get("end") else None,
                "slots": a.get("slots", []),
            },
        )
        notes.append(ChangeNote("assignment", a["id"], township=townships.get(a["village"]),
                                user_id=a["doctor"]))
    await append_changes(notes)


async def main(path: str) -> None:
    settings = load_settings()
    await upgrade_schema(settings.database_url)
    await open_database(settings.database_url)
    try:
        await seed(json.loads(open(path, encoding="utf-8").read()))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
