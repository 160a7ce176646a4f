"""What the weekly reminders say, in the user's language (SPEC §11), and `cunyi remind --dry-run`."""

from __future__ import annotations

import pytest

from server.models import Change, Delivery, Reminder
from server.reminder_content import drafts_for
from server.reminders import make_reminders, remind_command
from server.settings import Settings
from tests.server.reminder_data import (
    MONDAY_0805,
    THURSDAY_1805,
    W46,
    W47,
    add_visit,
    day,
    store_coverage,
)
from tests.world import make_world


def by_user(drafts: list) -> dict:
    return {d.user.id: d for d in drafts}


async def test_a_doctor_gets_last_weeks_result_and_this_weeks_requirement_in_chinese(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    await store_coverage(world.villages[0], W46, "partial", duty=(4, 5))

    drafts = by_user(await drafts_for("weekly", W47, settings, MONDAY_0805))

    wei = drafts["doc-1"]
    assert wei.title == "本周提醒 · 2026-W47"
    assert "上周（2026-W46）结果：" in wei.body
    assert "古鼎村 派驻：部分覆盖，4/5 天" in wei.body
    assert "本周（2026-W47）要求：" in wei.body
    assert "古鼎村 派驻：至少 5 天" in wei.body
    assert wei.url == "/app/#/today"


async def test_a_patrol_doctor_reads_the_schedule_in_words(db: None, settings: Settings) -> None:
    world = await make_world()
    await store_coverage(world.villages[1], W46, "covered", mode="patrol", patrol=(2, 2))

    qin = by_user(await drafts_for("weekly", W47, settings, MONDAY_0805))["doc-2"]

    assert "新国村 巡诊：已覆盖，2/2 次" in qin.body
    assert "新国村 巡诊：至少 2 次，排班：周二上午、周五下午" in qin.body


async def test_an_english_speaking_doctor_gets_the_reminder_in_english(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    world.patrol_doctor.language = "en"
    await world.patrol_doctor.save()
    await store_coverage(
        world.villages[1], W46, "partial", mode="patrol", patrol=(1, 2), provisional=True
    )

    qin = by_user(await drafts_for("weekly", W47, settings, MONDAY_0805))["doc-2"]

    assert qin.title == "This week · 2026-W47"
    assert "新国村 patrol: partly covered, 1/2 patrols (provisional: records not synced yet)" in qin.body
    assert "新国村 patrol: at least 2 patrols, schedule: Tue morning, Fri afternoon" in qin.body


async def test_last_weeks_result_is_computed_when_no_coverage_row_is_stored_yet(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    for offset in range(-7, -2):  # Monday to Friday of 2026-W46, full duty days
        await add_visit(world.doctor, world.villages[0], "duty", day(offset), 8, 9)
    world.doctor.last_sync_at = MONDAY_0805
    await world.doctor.save()

    wei = by_user(await drafts_for("weekly", W47, settings, MONDAY_0805))["doc-1"]

    assert "古鼎村 派驻：已覆盖，5/5 天" in wei.body
    assert "暂定" not in wei.body


async def test_a_supervisor_gets_the_villages_not_covered_and_how_many_are_provisional(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    await store_coverage(world.villages[0], W46, "uncovered", duty=(0, 5), provisional=True)
    await store_coverage(world.villages[1], W46, "partial", mode="patrol", patrol=(1, 2))
    await store_coverage(world.villages[2], W46, "self_served", mode="none")

    drafts = by_user(await drafts_for("weekly", W47, settings, MONDAY_0805))

    mo = drafts["sup-1"]
    assert mo.title == "上周覆盖情况 · 2026-W46"
    assert "融水镇：上周（2026-W46）有 2 个村未达到覆盖要求，其中 1 个尚未同步完，结果暂定。" in mo.body
    assert "未覆盖：古鼎村、新国村" in mo.body
    assert mo.url == "/township/450225100"


async def test_a_supervisor_whose_villages_were_all_covered_is_told_so(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    await store_coverage(world.other_village, W46, "covered", duty=(5, 5))

    jia = by_user(await drafts_for("weekly", W47, settings, MONDAY_0805))["sup-2"]

    assert jia.body == "和睦镇：上周（2026-W46）需要覆盖的村均已覆盖。"


async def test_admins_and_doctors_without_assignments_get_no_weekly_reminder(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    from server.models import Assignment

    await Assignment.filter(doctor_id=world.other_doctor.id).delete()

    drafts = by_user(await drafts_for("weekly", W47, settings, MONDAY_0805))

    assert "admin-1" not in drafts
    assert "doc-3" not in drafts
    assert {"doc-1", "doc-2", "sup-1", "sup-2"} <= set(drafts)


async def test_the_thursday_nudge_goes_only_to_doctors_behind_pace(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    # 韦医生: Mon–Thu full duty days, on pace. 覃医生: missed Tuesday's patrol, behind.
    for offset in range(4):
        await add_visit(world.doctor, world.villages[0], "duty", day(offset), 8, 9)
    # 梁医生: only Monday and Tuesday, behind.
    for offset in range(2):
        await add_visit(world.other_doctor, world.other_village, "duty", day(offset), 8, 9)

    drafts = by_user(await drafts_for("nudge", W47, settings, THURSDAY_1805))

    assert set(drafts) == {"doc-2", "doc-3"}
    assert drafts["doc-2"].title == "本周进度提醒 · 2026-W47"
    assert "新国村 巡诊：已 0/2 次，还差 2 次（剩余排班：周五下午）" in drafts["doc-2"].body
    assert "和睦村 派驻：已 2/5 天，还差 3 天" in drafts["doc-3"].body


async def test_no_nudge_for_an_exempted_village_week(db: None, settings: Settings) -> None:
    world = await make_world()
    from server.models import Exemption

    await Exemption.create(village=world.villages[1], week=W47, reason="台风")

    drafts = by_user(await drafts_for("nudge", W47, settings, THURSDAY_1805))

    assert "doc-2" not in drafts


async def test_a_late_nudge_judges_pace_as_of_thursday_evening(
    db: None, settings: Settings
) -> None:
    world = await make_world()
    for offset in range(4):
        await add_visit(world.doctor, world.villages[0], "duty", day(offset), 8, 9)
    saturday = THURSDAY_1805.replace(day=21)

    drafts = by_user(await drafts_for("nudge", W47, settings, saturday))

    assert "doc-1" not in drafts


async def test_remind_dry_run_prints_the_reminders_and_writes_nothing(
    db: None, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_world()

    code = await remind_command(settings, week=W47, dry_run=True)

    out = capsys.readouterr().out
    assert code == 0
    assert "韦医生" in out and "本周提醒 · 2026-W47" in out
    assert "dry run" in out
    assert await Reminder.all().count() == 0
    assert await Delivery.all().count() == 0
    assert await Change.filter(type="reminder").count() == 0


async def test_remind_makes_the_weeks_reminders_and_a_second_run_makes_nothing(
    db: None, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_world()

    assert await remind_command(settings, week=W47) == 0
    first = await Reminder.all().count()
    assert await remind_command(settings, week=W47) == 0

    out = capsys.readouterr().out
    assert first == 5  # three doctors and two supervisors of 融水苗族自治县
    assert await Reminder.all().count() == first
    assert "2026-W47: made weekly 0; 5 already existed." in out


async def test_remind_refuses_a_week_that_is_not_an_iso_week(
    db: None, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await remind_command(settings, week="2026-W54") == 2
    assert "not an ISO week" in capsys.readouterr().out


async def test_make_reminders_writes_the_rows_without_sending_when_asked(
    db: None, settings: Settings
) -> None:
    await make_world()

    report = await make_reminders(settings, W47, ["weekly"], MONDAY_0805, send=False)

    assert report.made["weekly"] == await Reminder.filter(week=W47, kind="weekly").count()
