"""Exemptions, staff and devices pages: each action's effect, its audit, and who may do it."""

from __future__ import annotations

import httpx

from server.models import AuditEntry, Change, CoverageWeek, Device, Exemption, User
from server.recompute import recompute
from server.settings import Settings
from tests.pages.support import sign_in, this_week
from tests.world import PASSWORD, login, make_world

GUDING = "450225100201"


async def test_an_exemption_makes_the_week_exempt_at_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    await recompute([(GUDING, this_week())], cause="test", settings=settings)
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/exemptions",
        data={"csrf": csrf, "village": GUDING, "week": this_week(), "reason": "台风“海葵”，道路中断"},
    )

    assert response.status_code == 303
    assert (await CoverageWeek.get(village_id=GUDING, week=this_week())).status == "exempt"
    assert await Change.filter(type="exemption", entity_id=f"{GUDING}:{this_week()}").exists()
    assert await AuditEntry.filter(action="exemption_created", actor="sup-1").exists()
    page = await client.get("/township/450225100/exemptions")
    assert "台风“海葵”，道路中断" in page.text


async def test_a_second_exemption_of_the_same_week_is_refused(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await Exemption.create(village_id=GUDING, week=this_week(), reason="春节")
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/exemptions",
        data={"csrf": csrf, "village": GUDING, "week": this_week(), "reason": "又一次"},
    )

    assert response.status_code == 422
    assert "已经豁免" in response.text
    assert await Exemption.filter(village_id=GUDING).count() == 1


async def test_removing_an_exemption_restores_the_computed_status(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await make_world()
    exemption = await Exemption.create(village_id=GUDING, week=this_week(), reason="春节")
    await recompute([(GUDING, this_week())], cause="test", settings=settings)
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        f"/township/450225100/exemptions/{exemption.id}/remove", data={"csrf": csrf, "reason": "录错了"}
    )

    assert response.status_code == 303
    assert not await Exemption.filter(village_id=GUDING).exists()
    assert (await CoverageWeek.get(village_id=GUDING, week=this_week())).status != "exempt"


async def test_a_supervisor_creates_a_doctor_who_can_then_sign_in(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/users",
        data={"csrf": csrf, "name": "潘医生", "phone": "13800000099", "id": "GX-0099",
              "qualification": "village_doctor", "role": "doctor", "password": "新密码-2026"},
    )
    token = await client.post(
        "/api/auth/login",
        json={"phone": "13800000099", "password": "新密码-2026", "device_id": "p-潘"},
    )

    assert response.status_code == 303
    created = await User.get(id="GX-0099")
    assert created.role == "doctor" and created.township_id == "450225100"  # type: ignore[attr-defined]
    assert created.password_hash.startswith("$argon2id$")
    assert token.status_code == 200


async def test_a_supervisor_may_not_create_a_supervisor(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/users",
        data={"csrf": csrf, "name": "黄院长", "phone": "13800000098", "qualification": "other",
              "role": "supervisor", "password": "新密码-2026"},
    )

    assert response.status_code == 422
    assert not await User.filter(phone="13800000098").exists()


async def test_a_reset_password_works_and_the_old_one_does_not(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/users/doc-1/password", data={"csrf": csrf, "password": "重置后的密码88"}
    )
    new = await client.post(
        "/api/auth/login", json={"phone": "13800000004", "password": "重置后的密码88", "device_id": "p1"}
    )
    old = await client.post(
        "/api/auth/login", json={"phone": "13800000004", "password": PASSWORD, "device_id": "p1"}
    )

    assert response.status_code == 303
    assert new.status_code == 200 and old.status_code == 401
    assert await AuditEntry.filter(action="password_reset", target="doc-1").exists()


async def test_a_short_password_is_refused(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/users/doc-1/password", data={"csrf": csrf, "password": "123"}
    )

    assert response.status_code == 422
    assert "密码至少需要 8 个字符。" in response.text


async def test_another_townships_doctor_password_cannot_be_reset(client: httpx.AsyncClient) -> None:
    world = await make_world()
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        "/township/450225100/users/doc-3/password", data={"csrf": csrf, "password": "abcdefgh123"}
    )

    assert response.status_code == 404
    assert (await client.post(
        "/api/auth/login", json={"phone": "13800000006", "password": PASSWORD, "device_id": "p"}
    )).status_code == 200


async def test_devices_page_shows_sync_state_of_each_phone(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await login(client, world.doctor, device_id="phone-韦")
    await Device.filter(device_id="phone-韦").update(
        app_version="1.4.2", outbox=3, storage_used_mb=12.5, storage_quota_mb=500
    )
    await sign_in(client, world.supervisor)

    html = (await client.get("/township/450225100/devices")).text

    assert "韦医生" in html and "红米 Note 12" in html
    assert "1.4.2" in html and "12.5 MB / 500 MB" in html
    assert "尚未同步" in html


async def test_revoking_a_lost_phone_stops_its_token_at_once(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.doctor, device_id="phone-丢失")
    device = await Device.get(device_id="phone-丢失")
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(
        f"/township/450225100/devices/{device.id}/revoke", data={"csrf": csrf}
    )
    after = await client.get("/api/me", headers=headers)

    assert response.status_code == 303
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "token_revoked"
    assert await AuditEntry.filter(action="device_revoked").exists()


async def test_another_townships_phone_cannot_be_revoked_by_url(client: httpx.AsyncClient) -> None:
    world = await make_world()
    headers = await login(client, world.other_doctor, device_id="phone-梁")
    device = await Device.get(device_id="phone-梁")
    csrf = await sign_in(client, world.supervisor)

    response = await client.post(f"/township/450225100/devices/{device.id}/revoke", data={"csrf": csrf})

    assert response.status_code == 403
    assert (await client.get("/api/me", headers=headers)).status_code == 200


async def test_manage_forms_without_csrf_are_refused(client: httpx.AsyncClient) -> None:
    world = await make_world()
    await login(client, world.doctor, device_id="phone-韦")
    device = await Device.get(device_id="phone-韦")
    exemption = await Exemption.create(village_id=GUDING, week=this_week(), reason="春节")
    await sign_in(client, world.supervisor)

    posts = [
        ("/township/450225100/exemptions", {"village": GUDING, "week": this_week(), "reason": "x"}),
        (f"/township/450225100/exemptions/{exemption.id}/remove", {}),
        ("/township/450225100/users", {"name": "x", "phone": "1380000", "password": "12345678"}),
        ("/township/450225100/users/doc-1/password", {"password": "12345678"}),
        (f"/township/450225100/devices/{device.id}/revoke", {}),
    ]
    statuses = [(await client.post(url, data=data)).status_code for url, data in posts]

    assert statuses == [403] * len(posts)
    assert (await Device.get(id=device.id)).revoked_at is None
    assert await Exemption.filter(id=exemption.id).exists()
