"""The words of the weekly reminders (SPEC §11), in zh-CN (the default) and English.

Pure text: each function takes plain data and returns (title, body) in the user's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server.i18n import normalise_language
from sync.model import Slot

CATALOG: dict[str, dict[str, str]] = {
    "zh-CN": {
        "weekly.title": "本周提醒 · {week}",
        "weekly.last_week": "上周（{week}）结果：",
        "weekly.no_last_week": "上周（{week}）没有您的派驻或巡诊任务。",
        "weekly.result": "{village} {kind}：{status}，{days}/{required} {unit}{provisional}",
        "weekly.this_week": "本周（{week}）要求：",
        "weekly.requirement": "{village} {kind}：至少 {required} {unit}",
        "weekly.slots": "，排班：{slots}",
        "weekly.no_slots": "，尚未排班",
        "weekly.none_this_week": "本周（{week}）没有您的任务。",
        "provisional": "（暂定：尚有记录未同步）",
        "summary.title": "上周覆盖情况 · {week}",
        "summary.body": "{township}：上周（{week}）有 {count} 个村未达到覆盖要求，其中 {provisional} 个尚未同步完，结果暂定。",
        "summary.all_covered": "{township}：上周（{week}）需要覆盖的村均已覆盖。",
        "summary.villages": "未覆盖：{names}",
        "nudge.title": "本周进度提醒 · {week}",
        "nudge.intro": "截至周四（按已同步的记录），本周还需：",
        "nudge.line": "{village} {kind}：已 {done}/{required} {unit}，还差 {needed} {unit}",
        "nudge.planned": "（剩余排班：{slots}）",
        "kind.roster": "派驻",
        "kind.patrol": "巡诊",
        "unit.roster": "天",
        "unit.patrol": "次",
        "status.covered": "已覆盖",
        "status.partial": "部分覆盖",
        "status.uncovered": "未覆盖",
        "status.unassigned": "未安排",
        "status.exempt": "已豁免",
        "status.self_served": "村卫生室自行服务",
        "slot": "{weekday}{half}",
        "half.am": "上午",
        "half.pm": "下午",
        "weekdays": "周一 周二 周三 周四 周五 周六 周日",
        "separator": "、",
        "more": "等 {count} 个村",
    },
    "en": {
        "weekly.title": "This week · {week}",
        "weekly.last_week": "Last week ({week}):",
        "weekly.no_last_week": "You had no duty or patrol assignment last week ({week}).",
        "weekly.result": "{village} {kind}: {status}, {days}/{required} {unit}{provisional}",
        "weekly.this_week": "This week ({week}) you need:",
        "weekly.requirement": "{village} {kind}: at least {required} {unit}",
        "weekly.slots": ", schedule: {slots}",
        "weekly.no_slots": ", no schedule yet",
        "weekly.none_this_week": "You have no assignment this week ({week}).",
        "provisional": " (provisional: records not synced yet)",
        "summary.title": "Last week's coverage · {week}",
        "summary.body": "{township}: {count} villages were not covered last week ({week}); {provisional} of them are provisional (not everyone has synced).",
        "summary.all_covered": "{township}: every village that needs coverage was covered last week ({week}).",
        "summary.villages": "Not covered: {names}",
        "nudge.title": "This week's progress · {week}",
        "nudge.intro": "As of Thursday (synced records), this week you still need:",
        "nudge.line": "{village} {kind}: {done}/{required} {unit} done, {needed} more needed",
        "nudge.planned": " (schedule left: {slots})",
        "kind.roster": "duty",
        "kind.patrol": "patrol",
        "unit.roster": "days",
        "unit.patrol": "patrols",
        "status.covered": "covered",
        "status.partial": "partly covered",
        "status.uncovered": "not covered",
        "status.unassigned": "nobody assigned",
        "status.exempt": "exempt",
        "status.self_served": "served by its own clinic",
        "slot": "{weekday} {half}",
        "half.am": "morning",
        "half.pm": "afternoon",
        "weekdays": "Mon Tue Wed Thu Fri Sat Sun",
        "separator": ", ",
        "more": "and {count} more",
    },
}
MAX_NAMES = 10  # a supervisor's summary names at most this many villages


@dataclass(frozen=True)
class VillageResult:
    village: str  # the village's name
    kind: str  # the doctor's assignment kind there: roster | patrol
    status: str
    days: int
    required: int
    provisional: bool


@dataclass(frozen=True)
class Requirement:
    village: str
    kind: str
    required: int
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class Shortfall:
    village: str
    kind: str
    done: int
    required: int
    needed: int
    planned: tuple[Slot, ...]


class Words:
    def __init__(self, language: str) -> None:
        self.table = CATALOG[normalise_language(language)]

    def __call__(self, key: str, **values: object) -> str:
        return self.table[key].format(**values)

    def slots(self, slots: Iterable[Slot]) -> str:
        names = self.table["weekdays"].split()
        ordered = sorted(set(slots), key=lambda s: (s.weekday, s.half))
        return self.table["separator"].join(
            self("slot", weekday=names[s.weekday - 1], half=self(f"half.{s.half}"))
            for s in ordered
        )


def weekly_text(
    language: str,
    week: str,
    last_week: str,
    results: Sequence[VillageResult],
    requirements: Sequence[Requirement],
) -> tuple[str, str]:
    """Monday's reminder to a doctor: last week's result per village, this week's requirement."""
    w = Words(language)
    lines: list[str] = []
    if results:
        lines.append(w("weekly.last_week", week=last_week))
        for r in results:
            lines.append(
                w(
                    "weekly.result",
                    village=r.village,
                    kind=w(f"kind.{r.kind}"),
                    status=w(f"status.{r.status}"),
                    days=r.days,
                    required=r.required,
                    unit=w(f"unit.{r.kind}"),
                    provisional=w("provisional") if r.provisional else "",
                )
            )
    else:
        lines.append(w("weekly.no_last_week", week=last_week))
    if requirements:
        lines.append(w("weekly.this_week", week=week))
        for q in requirements:
            line = w(
                "weekly.requirement",
                village=q.village,
                kind=w(f"kind.{q.kind}"),
                required=q.required,
                unit=w(f"unit.{q.kind}"),
            )
            if q.kind == "patrol":
                line += w("weekly.slots", slots=w.slots(q.slots)) if q.slots else w("weekly.no_slots")
            lines.append(line)
    else:
        lines.append(w("weekly.none_this_week", week=week))
    return w("weekly.title", week=week), "\n".join(lines)


def summary_text(
    language: str, last_week: str, township: str, not_covered: Sequence[str], provisional: int
) -> tuple[str, str]:
    """Monday's reminder to a supervisor: villages not covered last week, and how many are provisional."""
    w = Words(language)
    if not not_covered:
        return w("summary.title", week=last_week), w(
            "summary.all_covered", township=township, week=last_week
        )
    names = w.table["separator"].join(not_covered[:MAX_NAMES])
    if len(not_covered) > MAX_NAMES:
        names += " " + w("more", count=len(not_covered))
    body = "\n".join(
        [
            w(
                "summary.body",
                township=township,
                week=last_week,
                count=len(not_covered),
                provisional=provisional,
            ),
            w("summary.villages", names=names),
        ]
    )
    return w("summary.title", week=last_week), body


def nudge_text(language: str, week: str, shortfalls: Sequence[Shortfall]) -> tuple[str, str]:
    """Thursday's nudge: what is still needed this week, village by village."""
    w = Words(language)
    lines = [w("nudge.intro")]
    for s in shortfalls:
        line = w(
            "nudge.line",
            village=s.village,
            kind=w(f"kind.{s.kind}"),
            done=s.done,
            required=s.required,
            needed=s.needed,
            unit=w(f"unit.{s.kind}"),
        )
        if s.kind == "patrol" and s.planned:
            line += w("nudge.planned", slots=w.slots(s.planned))
        lines.append(line)
    return w("nudge.title", week=week), "\n".join(lines)
