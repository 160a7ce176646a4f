"""POST /api/admin/import (SPEC §7): every check with its path, all-or-nothing, upsert counts,
and Chinese names through JSON, CSV and XLSX."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook

from server.models import (
    Assignment,
    Change,
    County,
    CoverageWeek,
    Exemption,
    Township,
    User,
    Village,
)
from server.settings import MAX_IMPORT_BYTES
from sync.weeks import week_of
from tests.world import login, make_user, make_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fixture_bundle() -> dict[str, Any]:
    return json.loads((FIXTURES / "bundle.json").read_text(encoding="utf-8"))


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """A deployment-wide admin (no county) of a world that already holds 融水镇 and 和睦镇."""
    await make_world()
    admin = await make_user("admin-gx", "覃处长", "13800009999", "admin")
    return await login(client, admin, device_id="office-pc")


async def post_bundle(
    client: httpx.AsyncClient, headers: dict[str, str], bundle: dict[str, Any]
) -> httpx.Response:
    return await client.post("/api/admin/import", json=bundle, headers=headers)


def problems(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] == "invalid_import"
    return {d["path"]: d["message"] for d in body["details"]}


async def row_counts() -> tuple[int, ...]:
    return (
        await County.all().count(),
        await Township.all().count(),
        await Village.all().count(),
        await User.all().count(),
        await Assignment.all().count(),
        await Exemption.all().count(),
        await Change.all().count(),
    )


# --- applying ---------------------------------------------------------------------------


async def test_a_bundle_is_imported_with_counts_created_per_key(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)

    response = await post_bundle(client, headers, fixture_bundle())

    assert response.status_code == 200, response.text
    counts = response.json()["counts"]
    assert counts["counties"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert counts["townships"]["created"] == 1
    assert counts["villages"]["created"] == 3
    assert counts["users"]["created"] == 3
    assert counts["assignments"]["created"] == 2
    assert counts["exemptions"]["created"] == 1
    village = await Village.get(code="450225102202")
    assert (village.name, village.population, village.needs_coverage) == ("大年村", 1460, False)
    patrol = await Assignment.get(id="sf-2")
    assert patrol.slots == [{"weekday": 2, "half": "am"}, {"weekday": 5, "half": "pm"}]
    assert patrol.end == date(2026, 12, 31)
    exemption = await Exemption.get(village_id="450225102203", week="2026-W07")
    assert exemption.reason == "春节放假（苗年后）"


async def test_importing_again_updates_by_code_and_id(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    bundle = fixture_bundle()
    await post_bundle(client, headers, bundle)
    bundle["villages"][0]["population"] = 2400
    bundle["assignments"][1]["slots"] = [{"weekday": 3, "half": "am"}]
    bundle["exemptions"][0]["reason"] = "台风“海葵”"
    for user in bundle["users"]:
        del user["password"]

    response = await post_bundle(client, headers, bundle)

    assert response.status_code == 200, response.text
    counts = response.json()["counts"]
    assert counts["villages"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert counts["assignments"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert counts["exemptions"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert counts["users"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert (await Village.get(code="450225102201")).population == 2400
    assert (await Assignment.get(id="sf-2")).slots == [{"weekday": 3, "half": "am"}]
    assert await Exemption.filter(village_id="450225102203").count() == 1
    assert (await Exemption.get(village_id="450225102203")).reason == "台风“海葵”"


async def test_passwords_are_stored_as_argon2id_hashes_and_kept_when_left_out(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    bundle = fixture_bundle()
    await post_bundle(client, headers, bundle)
    first_hash = (await User.get(id="gx-0452")).password_hash
    for user in bundle["users"]:
        del user["password"]
    bundle["users"][1]["name"] = "杨春花"

    await post_bundle(client, headers, bundle)

    doctor = await User.get(id="gx-0452")
    assert first_hash.startswith("$argon2id$") and "三防-村医-2026" not in first_hash
    assert doctor.password_hash == first_hash
    assert doctor.name == "杨春花"
    signed_in = await client.post(
        "/api/auth/login",
        json={"phone": "13977200452", "password": "三防-村医-2026", "device_id": "p"},
    )
    assert signed_in.status_code == 200


async def test_a_user_without_id_gets_a_uuid_and_is_matched_by_phone_next_time(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    user = {"name": "潘医生", "phone": "13977200460", "role": "doctor", "township": "450225100",
            "password": "潘-2026-村医"}
    await post_bundle(client, headers, {"users": [user]})
    made = await User.get(phone="13977200460")

    again = await post_bundle(client, headers, {"users": [{**user, "name": "潘小梅"}]})

    assert len(made.id) == 36 and made.id.count("-") == 4
    assert again.json()["counts"]["users"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert (await User.get(id=made.id)).name == "潘小梅"
    assert await User.filter(phone="13977200460").count() == 1


async def test_the_import_appends_a_change_for_each_township_village_assignment_and_exemption(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    before = await Change.all().count()

    await post_bundle(client, headers, fixture_bundle())

    rows = await Change.filter(seq__gt=before).values("type", "entity_id", "township", "user_id")
    kinds = sorted((r["type"], r["entity_id"]) for r in rows if r["type"] != "coverage")
    exemption = await Exemption.get(village_id="450225102203")
    assert kinds == sorted(
        [("township", "450225102"), ("village", "450225102201"), ("village", "450225102202"),
         ("village", "450225102203"), ("assignment", "sf-1"), ("assignment", "sf-2"),
         ("exemption", f"450225102203:{exemption.week}")]
    )
    pulled = (await client.get("/api/sync/pull", params={"limit": 1000}, headers=headers)).json()
    [exempt] = [c for c in pulled["changes"] if c["type"] == "exemption"]
    assert (exempt["deleted"], exempt["data"]["village"]) == (False, "450225102203")
    assignment = next(r for r in rows if r["entity_id"] == "sf-1")
    assert (assignment["township"], assignment["user_id"]) == ("450225102", "gx-0452")


async def test_an_unchanged_reimport_appends_no_changes(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    bundle = fixture_bundle()
    await post_bundle(client, headers, bundle)
    for user in bundle["users"]:
        del user["password"]
    before = await Change.all().count()

    await post_bundle(client, headers, bundle)

    assert await Change.all().count() == before


async def test_an_imported_assignment_recomputes_the_weeks_it_covers(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    today = datetime.now(UTC).date()
    start = today - timedelta(days=14)
    bundle = {"assignments": [{"id": "new-1", "doctor": "doc-1", "village": "450225100202",
                               "kind": "roster", "start": start.isoformat()}]}

    response = await post_bundle(client, headers, bundle)

    assert response.status_code == 200, response.text
    this_week = week_of(datetime.now(UTC))
    rows = await CoverageWeek.filter(village_id="450225100202").values_list("week", flat=True)
    assert this_week in rows
    assert len(rows) >= 3


# --- all or nothing ---------------------------------------------------------------------


async def test_one_bad_row_rejects_the_whole_bundle_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    bundle = fixture_bundle()
    bundle["villages"].append(
        {"code": "450225199201", "township": "450225199", "name": "错村"}
    )
    before = await row_counts()

    response = await post_bundle(client, headers, bundle)

    found = problems(response)
    assert found["villages[3].township"] == "unknown township 450225199"
    assert await row_counts() == before
    assert not await Village.filter(code="450225102201").exists()


async def test_every_problem_is_listed_not_just_the_first(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    bundle = {
        "villages": [
            {"code": "45022510020", "township": "450225100", "name": "短码村"},
            {"code": "450225101299", "township": "450225100", "name": "错镇村"},
            {"code": "450225100299", "township": "450225100"},
        ]
    }

    found = problems(await post_bundle(client, headers, bundle))

    assert found == {
        "villages[0].code": "45022510020 is not a 12-digit village code",
        "villages[1].code": "village 450225101299 does not start with its township's code 450225100",
        "villages[2].name": "required",
    }


async def test_codes_are_checked_at_every_level(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    bundle = {
        "counties": [{"code": "45022", "name": "五位县"}],
        "townships": [
            {"code": "450226100", "county": "450225", "name": "外县镇"},
            {"code": "450225300", "county": "450299", "name": "无县镇"},
        ],
    }

    found = problems(await post_bundle(client, headers, bundle))

    assert found["counties[0].code"] == "45022 is not a 6-digit county code"
    assert found["townships[0].code"] == (
        "township 450226100 does not start with its county's code 450225"
    )
    assert found["townships[1].county"] == "unknown county 450299"


async def test_references_may_point_to_rows_of_the_same_bundle(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    bundle = {
        "counties": [{"code": "450226", "name": "融安县"}],
        "townships": [{"code": "450226100", "county": "450226", "name": "长安镇"}],
        "villages": [{"code": "450226100201", "township": "450226100", "name": "大乐村"}],
    }

    response = await post_bundle(client, headers, bundle)

    assert response.status_code == 200, response.text
    assert (await Village.get(code="450226100201")).name == "大乐村"


async def test_phones_must_be_unique_in_the_bundle_and_against_the_database(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    bundle = {
        "users": [
            {"id": "n-1", "name": "黄医生", "phone": "13977200470", "role": "doctor",
             "township": "450225100", "password": "黄-2026-村医"},
            {"id": "n-2", "name": "黄二医生", "phone": "13977200470", "role": "doctor",
             "township": "450225100", "password": "黄-2026-村医"},
            {"id": "n-3", "name": "冒名医生", "phone": "13800000004", "role": "doctor",
             "township": "450225100", "password": "冒-2026-村医"},
            # The same user keeping their own phone is not a duplicate.
            {"id": "doc-1", "name": "韦医生", "phone": "13800000004", "role": "doctor",
             "township": "450225100"},
        ]
    }

    found = problems(await post_bundle(client, headers, bundle))

    assert found == {
        "users[1].phone": "phone 13977200470 is also at users[0]",
        "users[2].phone": "phone 13800000004 is already used by user doc-1",
    }


async def test_roles_qualifications_kinds_and_required_fields_are_checked(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    bundle = {
        "users": [
            {"id": "x-1", "name": "陆医生", "phone": "13977200480", "role": "nurse",
             "township": "450225100", "password": "p-2026-陆"},
            {"id": "x-2", "name": "陆二", "phone": "13977200481", "role": "doctor",
             "qualification": "shaman", "township": "450225100", "password": "p-2026-陆"},
            {"id": "x-3", "name": "陆三", "phone": "13977200482", "role": "doctor"},
            {"id": "x" * 65, "name": "长号", "phone": "13977200483", "role": "doctor",
             "township": "450225100", "password": "p-2026-陆"},
        ],
        "assignments": [
            {"id": "a-x", "doctor": "doc-1", "village": "450225100201", "kind": "visit",
             "start": "2026-03-01"},
            {"id": "a-y", "doctor": "sup-1", "village": "450225100201", "kind": "roster",
             "start": "2026-03-01"},
            {"id": "a-z", "doctor": "nobody", "village": "450225100299", "kind": "roster"},
        ],
    }

    found = problems(await post_bundle(client, headers, bundle))

    assert found["users[0].role"].startswith("unknown role nurse")
    assert found["users[1].qualification"].startswith("unknown qualification shaman")
    assert found["users[2].township"] == "required for a doctor"
    assert found["users[2].password"] == "required for a new user"
    assert found["users[3].id"] == "longer than 64 characters"
    assert found["assignments[0].kind"] == "unknown kind visit; expected roster or patrol"
    assert found["assignments[1].doctor"] == "user sup-1 is not a doctor"
    assert found["assignments[2].doctor"] == "unknown user nobody"
    assert found["assignments[2].village"] == "unknown village 450225100299"
    assert found["assignments[2].start"] == "required"


async def test_patrol_slots_must_be_valid_and_roster_assignments_have_none(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    base = {"doctor": "doc-2", "village": "450225100202", "start": "2026-03-02"}
    bundle = {
        "assignments": [
            {**base, "id": "s-1", "kind": "patrol",
             "slots": [{"weekday": 8, "half": "am"}, {"weekday": 2, "half": "noon"}]},
            {**base, "id": "s-2", "kind": "patrol",
             "slots": [{"weekday": 2, "half": "am"}, {"weekday": 2, "half": "am"}]},
            {**base, "id": "s-3", "kind": "patrol", "slots": "周二上午"},
            {**base, "id": "s-4", "doctor": "doc-1", "kind": "roster",
             "slots": [{"weekday": 1, "half": "am"}]},
        ]
    }

    found = problems(await post_bundle(client, headers, bundle))

    assert found["assignments[0].slots[0].weekday"] == "must be 1 (Monday) to 7 (Sunday)"
    assert found["assignments[0].slots[1].half"] == "must be am or pm"
    assert found["assignments[1].slots[1]"] == "slot 2am is listed twice"
    assert found["assignments[2].slots"] == "'周二上午' is not a slot such as 2am or 5pm"
    assert found["assignments[3].slots"] == "a roster assignment has no patrol slots"


async def test_dates_must_be_real_and_the_end_not_before_the_start(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    base = {"doctor": "doc-1", "village": "450225100201", "kind": "roster"}
    bundle = {
        "assignments": [
            {**base, "id": "d-1", "start": "2026-06-01", "end": "2026-05-31"},
            {**base, "id": "d-2", "start": "2026-02-30"},
            {**base, "id": "d-3", "start": "2026/03/01"},
        ]
    }

    found = problems(await post_bundle(client, headers, bundle))

    assert found["assignments[0].end"] == "2026-05-31 is before the start 2026-06-01"
    assert found["assignments[1].start"] == "2026-02-30 is not a date"
    assert found["assignments[2].start"] == "must be a date written 2026-03-01"


async def test_exemption_weeks_must_be_iso_weeks_and_unique_per_village(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    bundle = {
        "exemptions": [
            {"village": "450225100201", "week": "2026-W54", "reason": "台风"},
            {"village": "450225100201", "week": "2026-W30", "reason": "台风"},
            {"village": "450225100201", "week": "2026-W30", "reason": "洪水"},
            {"village": "450225100201", "week": "2026-W31"},
        ]
    }

    found = problems(await post_bundle(client, headers, bundle))

    assert found["exemptions[0].week"].startswith("not an ISO week '2026-W54'")
    assert found["exemptions[2].week"] == "duplicate of exemptions[1]"
    assert found["exemptions[3].reason"] == "required"


async def test_unknown_keys_fields_and_wrong_types_are_named(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)

    unknown_key = await post_bundle(client, headers, {"hospitals": []})
    wrong = await post_bundle(
        client,
        headers,
        {"villages": [{"code": "450225100299", "township": "450225100", "name": ["古"],
                       "townshp": "450225100", "population": "很多"}], "users": {}},
    )

    assert list(problems(unknown_key)) == ["hospitals"]
    assert problems(wrong) == {"users": "must be a list"}
    items = await post_bundle(
        client, headers,
        {"villages": [{"code": "450225100299", "township": "450225100", "name": ["古"],
                       "townshp": "450225100", "population": "很多"}]},
    )
    found = problems(items)
    assert found["villages[0].name"] == "must be text"
    assert found["villages[0].townshp"].startswith("unknown field")
    assert found["villages[0].population"] == "must be a whole number"


# --- scope and access -------------------------------------------------------------------


async def test_an_admin_of_one_county_cannot_import_into_another(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.admin)  # 蓝局长, scoped to 450225
    bundle = {
        "counties": [{"code": "450226", "name": "融安县"}],
        "townships": [{"code": "450226100", "county": "450226", "name": "长安镇"}],
        "villages": [
            {"code": "450226100201", "township": "450226100", "name": "大乐村"},
            {"code": "450225100209", "township": "450225100", "name": "本县新村"},
        ],
        "users": [{"id": "adm-x", "name": "外县局长", "phone": "13977200490", "role": "admin",
                   "password": "外县-2026-局长"}],
    }

    found = problems(await post_bundle(client, headers, bundle))

    assert found == {
        "counties[0].code": "outside your county 450225",
        "townships[0].code": "outside your county 450225",
        "villages[0].code": "outside your county 450225",
        "users[0].county": "outside your county 450225",
    }
    assert not await Village.filter(code="450225100209").exists()


async def test_an_admin_of_the_county_imports_inside_it(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.admin)

    response = await post_bundle(
        client, headers,
        {"villages": [{"code": "450225100209", "township": "450225100", "name": "本县新村"}]},
    )

    assert response.status_code == 200, response.text


async def test_doctors_and_supervisors_may_not_import(client: httpx.AsyncClient) -> None:
    world = await make_world()
    bundle = {"villages": [{"code": "450225100209", "township": "450225100", "name": "本县新村"}]}

    for user in (world.doctor, world.supervisor):
        headers = await login(client, user)
        response = await post_bundle(client, headers, bundle)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert not await Village.filter(code="450225100209").exists()


async def test_an_import_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/admin/import", json={})

    assert response.status_code == 401


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)

    response = await client.post(
        "/api/admin/import", content=b'{"villages": [', headers={**headers, "content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


async def test_a_body_over_the_import_limit_is_413(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)

    response = await client.post(
        "/api/admin/import",
        content=b" " * (MAX_IMPORT_BYTES + 1),
        headers={**headers, "content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


# --- CSV and XLSX -----------------------------------------------------------------------


async def test_a_csv_file_with_a_bom_keeps_chinese_names_exactly(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    await post_bundle(client, headers, fixture_bundle())
    content = (FIXTURES / "villages.csv").read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")

    response = await client.post(
        "/api/admin/import", files={"file": ("villages.csv", content, "text/csv")}, headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["counts"]["villages"]["created"] == 3
    names = {v.code: v for v in await Village.filter(code__in=["450225102204", "450225102205", "450225102206"])}
    assert names["450225102204"].name == "良寨村"
    assert names["450225102206"].name == "“高坡”屯村"
    assert names["450225102206"].needs_coverage is True
    assert names["450225102205"].needs_coverage is False
    assert names["450225102205"].lat is None
    assert names["450225102204"].lat == 25.4012


async def test_a_csv_without_bom_sent_raw_is_read_the_same(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    content = "code,township,name\n450225100209,450225100,古鼎新寨村\n".encode()

    response = await client.post(
        "/api/admin/import?filename=villages.csv",
        content=content,
        headers={**headers, "content-type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    assert (await Village.get(code="450225100209")).name == "古鼎新寨村"


async def test_csv_problems_name_the_file_and_row(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    content = (
        b"id,doctor,village,kind,start,slots\n"
        b"c-1,doc-2,450225100202,patrol,2026-03-02,2am 5pm\n"
        b"c-2,doc-2,450225100202,patrol,2026-03-02,9am\n"
    )

    response = await client.post(
        "/api/admin/import", files={"file": ("assignments.csv", content, "text/csv")}, headers=headers
    )

    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details == [
        {"path": "assignments[1].slots", "message": "'9am' is not a slot such as 2am or 5pm",
         "source": "assignments.csv row 3"}
    ]
    assert not await Assignment.filter(id="c-1").exists()


async def test_a_csv_must_be_named_after_a_bundle_key(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)

    response = await client.post(
        "/api/admin/import", files={"file": ("村名单.csv", b"code\n", "text/csv")}, headers=headers
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "file"


def workbook_of(bundle: dict[str, list[dict[str, Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for key, rows in bundle.items():
        sheet = book.create_sheet(key)
        header = sorted({name for row in rows for name in row})
        sheet.append(header)
        for row in rows:
            value = [row.get(name) for name in header]
            sheet.append([json.dumps(v) if isinstance(v, list) else v for v in value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_an_xlsx_workbook_imports_every_sheet_with_chinese_names_exactly(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_headers(client)
    bundle = copy.deepcopy(fixture_bundle())
    bundle["villages"][0]["code"] = 450225102201  # typed as a number in Excel
    bundle["users"][0]["phone"] = 13977200451
    bundle["assignments"][0]["start"] = datetime(2026, 3, 2)  # an Excel date cell
    del bundle["assignments"][0]["end"]

    response = await client.post(
        "/api/admin/import",
        files={"file": ("融水.xlsx", workbook_of(bundle), XLSX)},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    counts = response.json()["counts"]
    assert counts["villages"]["created"] == 3 and counts["users"]["created"] == 3
    assert (await Village.get(code="450225102201")).name == "三防村"
    assert (await User.get(id="gx-0451")).phone == "13977200451"
    assert (await Assignment.get(id="sf-1")).start == date(2026, 3, 2)
    assert (await Assignment.get(id="sf-2")).slots[1] == {"weekday": 5, "half": "pm"}
    assert (await Exemption.get(village_id="450225102203")).reason == "春节放假（苗年后）"


async def test_xlsx_problems_name_the_sheet_and_row(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    content = workbook_of(
        {"villages": [{"code": "450225100209", "township": "450225100", "name": "好村"},
                      {"code": "450225199210", "township": "450225199", "name": "坏村"}]}
    )

    response = await client.post(
        "/api/admin/import", files={"file": ("villages.xlsx", content, XLSX)}, headers=headers
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"path": "villages[1].township", "message": "unknown township 450225199",
         "source": "villages.xlsx sheet villages row 3"}
    ]

