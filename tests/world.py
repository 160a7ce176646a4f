"""A small realistic county for tests: 融水苗族自治县 with two townships, villages and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import httpx

from server.models import Assignment, County, Township, User, Village
from server.passwords import hash_password

PASSWORD = "村医-测试-2026"


@dataclass
class World:
    county: County
    township: Township
    other_township: Township
    villages: list[Village]
    other_village: Village
    admin: User
    supervisor: User
    other_supervisor: User
    doctor: User  # rostered (派驻)
    patrol_doctor: User  # patrol (巡诊)
    other_doctor: User  # another township


_password_hash: str | None = None


async def make_user(uid: str, name: str, phone: str, role: str, **kw: object) -> User:
    global _password_hash
    if _password_hash is None:
        _password_hash = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once
    return await User.create(
        id=uid, name=name, phone=phone, password_hash=_password_hash, role=role, **kw
    )


async def make_world() -> World:
    county = await County.create(code="450225", name="融水苗族自治县")
    township = await Township.create(code="450225100", county=county, name="融水镇")
    other = await Township.create(code="450225101", county=county, name="和睦镇")
    villages = [
        await Village.create(
            code="450225100201", township=township, name="古鼎村", population=1830,
            needs_coverage=True, lat=25.0681, lon=109.2563,
        ),
        await Village.create(
            code="450225100202", township=township, name="新国村", population=1210,
            needs_coverage=True, lat=25.0912, lon=109.2211,
        ),
        await Village.create(
            code="450225100203", township=township, name="水东村", population=2650,
            needs_coverage=False, lat=25.0650, lon=109.2400,
        ),
    ]
    other_village = await Village.create(
        code="450225101201", township=other, name="和睦村", population=980, needs_coverage=True
    )
    admin = await make_user("admin-1", "蓝局长", "13800000001", "admin", county=county)
    supervisor = await make_user("sup-1", "莫院长", "13800000002", "supervisor", township=township)
    other_sup = await make_user("sup-2", "贾院长", "13800000003", "supervisor", township=other)
    doctor = await make_user(
        "doc-1", "韦医生", "13800000004", "doctor", township=township,
        qualification="village_doctor",
    )
    patrol = await make_user(
        "doc-2", "覃医生", "13800000005", "doctor", township=township,
        qualification="licensed_physician",
    )
    other_doc = await make_user("doc-3", "梁医生", "13800000006", "doctor", township=other)
    await Assignment.create(
        id="asg-1", doctor=doctor, village=villages[0], kind="roster",
        start=date(2026, 6, 1), end=None, slots=[],
    )
    await Assignment.create(
        id="asg-2", doctor=patrol, village=villages[1], kind="patrol",
        start=date(2026, 6, 1), end=None,
        slots=[{"weekday": 2, "half": "am"}, {"weekday": 5, "half": "pm"}],
    )
    await Assignment.create(
        id="asg-3", doctor=other_doc, village=other_village, kind="roster",
        start=date(2026, 6, 1), end=None, slots=[],
    )
    return World(
        county, township, other, villages, other_village, admin, supervisor, other_sup,
        doctor, patrol, other_doc,
    )


async def login(client: httpx.AsyncClient, user: User, device_id: str = "phone-1") -> dict[str, str]:
    response = await client.post(
        "/api/auth/login",
        json={"phone": user.phone, "password": PASSWORD, "device_id": device_id,
              "device_name": "红米 Note 12"},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
