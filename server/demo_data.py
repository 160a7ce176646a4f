"""The demo county's data, made by pure functions: an import bundle and the pushes its doctors'
phones would have sent over eight weeks (seeded, so every run makes the same county)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sync.weeks import previous_week, week_dates, week_of, zone

ADMIN_PASSWORD = "demo-admin-2026"
STAFF_PASSWORD = "demo-2026"  # demo only: printed by `cunyi demo`, documented in README
WEEKS = 8
SEED = 42

COUNTY = ("450225", "融水苗族自治县")
# (code, name, centre lat, lon, village names); villages 6 and 7 of each have a strong clinic.
TOWNSHIPS = [
    ("450225100", "融水镇", 25.066, 109.256,
     "古鼎村 新国村 水东村 东良村 大浪村 小桑村 石门村 寿星村 田头村 雨卜村"),
    ("450225101", "和睦镇", 25.151, 109.301,
     "和睦村 下坎村 大洞村 石碑村 沙子村 立新村 良友村 古益村 木洞村 新安村"),
    ("450225102", "三防镇", 25.382, 108.998,
     "三防村 大年村 本底村 良寨村 培洞村 汪洞村 纳行村 大云村 梓山村 小东村"),
]
POPULATIONS = (1830, 1210, 2650, 940, 1470, 3020, 2210, 760, 1105, 1390)

# Logins printed by the demo: (role label, user id).
LOGINS = (
    ("admin 县卫健局管理员", "demo-admin"),
    ("supervisor 融水镇卫生院", "demo-sup-100"),
    ("rostered doctor 派驻医生", "demo-wei"),
    ("patrol doctor 巡诊医生", "demo-qin"),
)

# Doctors: (id, name, phone, township, qualification).
DOCTORS = [
    ("demo-wei", "韦医生", "13900100001", "450225100", "village_doctor"),
    ("demo-mo", "莫医生", "13900100002", "450225100", "assistant_physician"),
    ("demo-qin", "覃医生", "13900100003", "450225100", "licensed_physician"),
    ("demo-liang", "梁医生", "13900100004", "450225100", "village_doctor"),
    ("demo-jia", "贾医生", "13900101001", "450225101", "village_doctor"),
    ("demo-lan", "蓝医生", "13900101002", "450225101", "licensed_physician"),
    ("demo-shi", "石医生", "13900101003", "450225101", "village_doctor"),
    ("demo-yang", "杨医生", "13900102001", "450225102", "village_doctor"),
    ("demo-long", "龙医生", "13900102002", "450225102", "assistant_physician"),
    ("demo-pan", "潘医生", "13900102003", "450225102", "other"),
]
SUPERVISORS = [
    ("demo-sup-100", "陈院长", "13900100000", "450225100"),
    ("demo-sup-101", "黄院长", "13900101000", "450225101"),
    ("demo-sup-102", "吴院长", "13900102000", "450225102"),
]
# Assignments: (id, doctor, village, kind, slots "2am 5pm" or None for roster).
ASSIGNMENTS = [
    ("demo-a1", "demo-wei", "450225100201", "roster", None),
    ("demo-a2", "demo-mo", "450225100202", "roster", None),  # planned for 150 days: short_tenure
    ("demo-a3", "demo-qin", "450225100203", "patrol", "2am 5pm"),
    ("demo-a4", "demo-qin", "450225100204", "patrol", "3am 6pm"),
    ("demo-a5", "demo-liang", "450225100208", "patrol", ""),  # no published schedule
    ("demo-a6", "demo-jia", "450225101201", "roster", None),
    ("demo-a7", "demo-lan", "450225101202", "patrol", "1am 4am"),
    ("demo-a8", "demo-lan", "450225101203", "patrol", "2pm 5am"),
    ("demo-a9", "demo-shi", "450225101204", "roster", None),
    ("demo-a10", "demo-yang", "450225102201", "roster", None),
    ("demo-a11", "demo-long", "450225102203", "patrol", "2am 4pm"),
    ("demo-a12", "demo-pan", "450225102204", "roster", None),
]
NOT_SYNCED = "demo-jia"  # has not synced since last week ended: last week stays provisional
LATE = "demo-yang"  # one week's visits reach the server more than 7 days after the week
SKEWED = "demo-pan"  # one push from a phone whose clock was 40 minutes fast
UNASSIGNED_VISITS = ("demo-shi", "450225101205")  # a week of duty where he holds no assignment
SERVICES = ("consultation", "bp_check", "glucose_check", "chronic_followup", "health_education",
            "vaccination", "maternal_child")


def village_rows() -> list[dict[str, Any]]:
    rows = []
    for code, _, lat, lon, names in TOWNSHIPS:
        for n, name in enumerate(names.split()):
            rows.append({
                "code": f"{code}{201 + n:03d}",
                "township": code,
                "name": name,
                "population": POPULATIONS[n],
                "needs_coverage": n not in (5, 6),
                "lat": round(lat + 0.011 * (n % 4) - 0.015, 4),
                "lon": round(lon + 0.013 * (n // 4) - 0.012, 4),
            })
    return rows


def demo_bundle(first_week: str) -> dict[str, list[dict[str, Any]]]:
    """The county as an import bundle; assignments start well before `first_week`."""
    first_monday = week_dates(first_week)[0]
    long_ago = first_monday - timedelta(weeks=20)
    users: list[dict[str, Any]] = [{
        "id": "demo-admin", "name": "蓝局长", "phone": "13900000001", "role": "admin",
        "county": COUNTY[0], "password": ADMIN_PASSWORD,
    }]
    for uid, name, phone, township in SUPERVISORS:
        users.append({"id": uid, "name": name, "phone": phone, "role": "supervisor",
                      "township": township, "password": STAFF_PASSWORD})
    for uid, name, phone, township, qualification in DOCTORS:
        users.append({"id": uid, "name": name, "phone": phone, "role": "doctor",
                      "township": township, "qualification": qualification,
                      "password": STAFF_PASSWORD})
    assignments = []
    for aid, doctor, village, kind, slots in ASSIGNMENTS:
        start = first_monday - timedelta(weeks=2) if aid == "demo-a2" else long_ago
        row: dict[str, Any] = {"id": aid, "doctor": doctor, "village": village, "kind": kind,
                               "start": start.isoformat(), "end": None}
        if aid == "demo-a2":
            row["end"] = (start + timedelta(days=150)).isoformat()
        if slots is not None:
            row["slots"] = slots
        assignments.append(row)
    exempt_week = week_of_monday(first_monday + timedelta(weeks=3))
    return {
        "counties": [{"code": COUNTY[0], "name": COUNTY[1]}],
        "townships": [{"code": c, "county": COUNTY[0], "name": n} for c, n, *_ in TOWNSHIPS],
        "villages": village_rows(),
        "users": users,
        "assignments": assignments,
        "exemptions": [{"village": "450225102201", "week": exempt_week,
                        "reason": "台风“桦加沙”过境，道路塌方停诊"}],
    }


def week_of_monday(monday: date) -> str:
    year, number, _ = monday.isocalendar()
    return f"{year:04d}-W{number:02d}"


# --- visits ------------------------------------------------------------------------------


@dataclass
class PlannedVisit:
    doctor: str
    village: str
    kind: str
    started_at: datetime
    ended_at: datetime | None
    far: bool = False


@dataclass
class PushBatch:
    """One push of one doctor's phone, sent at `now`."""

    doctor: str
    now: datetime
    body: dict[str, Any]


def _at(day: date, hour: float, tz: str) -> datetime:
    minutes = round(hour * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone(tz))


def _slots(text: str | None) -> list[tuple[int, str]]:
    return [(int(t[0]), t[1:]) for t in (text or "").split()]


def planned_visits(weeks: list[str], now: datetime, tz: str, rng: random.Random) -> list[PlannedVisit]:
    """Eight weeks of realistic work, with the gaps SPEC §4 and §5 are about."""
    visits: list[PlannedVisit] = []
    the_partial_week, the_missed_week = weeks[-3], weeks[-4]
    for _aid, doctor, village, kind, slot_text in ASSIGNMENTS:
        for week in weeks:
            for day in week_dates(week):
                weekday = day.isoweekday()
                if kind == "roster":
                    if (doctor, week) == (UNASSIGNED_VISITS[0], weeks[-5]):
                        continue  # sent to help at another village that week (below)
                    if weekday > 5 or rng.random() < 0.06:
                        continue  # weekends off, and the odd missed day
                    start = 8 + rng.choice((0, 0.25, 0.5))
                    if doctor == "demo-wei" and week == the_partial_week and weekday == 5:
                        hours = 5.0  # Friday afternoon off: a 5 h day does not count
                    else:
                        hours = 8.5 + rng.choice((0, 0.25, 0.5))
                    if doctor == "demo-wei" and week == weeks[-2] and weekday == 3:
                        # A lunch break splits the day: 08:00-11:30 and 13:00-16:00 add up.
                        visits.append(PlannedVisit(doctor, village, "duty", _at(day, 8, tz), _at(day, 11.5, tz)))
                        visits.append(PlannedVisit(doctor, village, "duty", _at(day, 13, tz), _at(day, 16, tz)))
                        continue
                    ended: datetime | None = _at(day, start + hours, tz)
                    if doctor == LATE and week == weeks[-2] and weekday == 3:
                        ended = None  # forgot to check out: stays `open`
                    visits.append(PlannedVisit(doctor, village, "duty", _at(day, start, tz), ended))
                else:
                    slots = _slots(slot_text) or [(2, "am"), (5, "pm")]
                    for slot_day, half in slots:
                        if slot_day != weekday:
                            continue
                        if doctor == "demo-long" and week == the_missed_week:
                            continue  # the whole week missed: uncovered
                        if rng.random() < 0.08:
                            continue
                        start = (8.5 if half == "am" else 14.0) + rng.choice((0, 0.25))
                        if doctor == "demo-long" and week == weeks[-2]:
                            start = 19.0 - 4.5 if half == "am" else 8.0  # off schedule
                        hours = 4.25 if rng.random() > 0.1 else 3.0  # sometimes cut short
                        visits.append(PlannedVisit(doctor, village, "patrol", _at(day, start, tz),
                                                   _at(day, start + hours, tz)))
    # A week of duty where the doctor holds no assignment: kept, flagged `unassigned`.
    doctor, village = UNASSIGNED_VISITS
    for day in week_dates(weeks[-5])[:5]:
        visits.append(PlannedVisit(doctor, village, "duty", _at(day, 8, tz), _at(day, 17, tz)))
    # The same doctor at two villages at once: both visits flagged `overlap`.
    wednesday = week_dates(weeks[-6])[2]
    visits.append(PlannedVisit("demo-lan", "450225101202", "patrol", _at(wednesday, 8.5, tz),
                               _at(wednesday, 12.75, tz)))
    visits.append(PlannedVisit("demo-lan", "450225101203", "patrol", _at(wednesday, 11, tz),
                               _at(wednesday, 15.25, tz)))
    # A check-in 5 km from the village.
    far_day = week_dates(weeks[-7])[1]
    visits.append(PlannedVisit("demo-qin", "450225100203", "patrol", _at(far_day, 8.5, tz),
                               _at(far_day, 12.75, tz), far=True))
    return [v for v in visits if v.started_at <= now and (v.ended_at is None or v.ended_at <= now)]


def push_batches(visits: list[PlannedVisit], weeks: list[str], now: datetime, tz: str,
                 rng: random.Random) -> list[PushBatch]:
    """Each doctor's phone syncs on Sunday evening and again now; see the named exceptions."""
    villages = {v["code"]: v for v in village_rows()}
    by_doctor_week: dict[tuple[str, str], list[PlannedVisit]] = {}
    for visit in visits:
        by_doctor_week.setdefault((visit.doctor, week_of(visit.started_at, tz)), []).append(visit)
    late_week, late_sent_with = weeks[-4], weeks[-2]
    last_week = previous_week(week_of(now, tz))
    batches: list[PushBatch] = []
    for doctor, *_ in DOCTORS:
        for week in weeks:
            sunday_evening = _at(week_dates(week)[6], 20, tz)
            sent_at = min(sunday_evening, now)
            if doctor == NOT_SYNCED and week > last_week:
                continue  # this phone has not synced since last week ended
            if doctor == LATE and week == late_week:
                continue  # held on the phone; sent two weeks later
            records = list(by_doctor_week.get((doctor, week), []))
            if doctor == LATE and week == late_sent_with:
                records = by_doctor_week.get((doctor, late_week), []) + records
            if not records and sent_at < now:
                continue
            device_id = f"demo-phone-{doctor}"
            device_time = sent_at
            if doctor == SKEWED and week == weeks[-6]:
                device_time = sent_at + timedelta(minutes=40)
            body = {
                "device_id": device_id,
                "device_time": device_time.isoformat(),
                "device": {"app_version": "1.0.0", "outbox": 0, "storage_used_mb": 2.5,
                           "storage_quota_mb": 512.0},
                "records": [_record(v, villages[v.village], device_id, n, rng)
                            for n, v in enumerate(records)],
            }
            batches.append(PushBatch(doctor, sent_at.astimezone(UTC), body))
    batches.sort(key=lambda b: b.now)
    return batches


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _record(visit: PlannedVisit, village: dict[str, Any], device_id: str, n: int,
            rng: random.Random) -> dict[str, Any]:
    made = visit.ended_at or visit.started_at
    millis = int(made.timestamp() * 1000)
    lat, lon = village["lat"], village["lon"]
    if visit.far:
        lat += 0.045  # about 5 km north
    return {
        "type": "visit",
        "id": _uuid(rng),
        "change_id": _uuid(rng),
        "base_rev": 0,
        "hlc": f"{millis:015d}-{n % 100000:05d}-{device_id}",
        "deleted": False,
        "data": {
            "village": visit.village,
            "kind": visit.kind,
            "started_at": visit.started_at.isoformat(),
            "ended_at": visit.ended_at.isoformat() if visit.ended_at else None,
            "patients_seen": rng.randint(2, 28),
            "services": sorted(rng.sample(SERVICES, rng.randint(1, 3))),
            "notes": rng.choice(("", "", "随访高血压患者", "入户随访两名糖尿病患者", "发放健康教育资料")),
            "location": {"lat": round(lat + rng.uniform(-0.002, 0.002), 5),
                         "lon": round(lon + rng.uniform(-0.002, 0.002), 5),
                         "accuracy_m": rng.choice((8, 15, 30, 65))},
        },
    }


def demo_weeks(now: datetime, tz: str) -> list[str]:
    """The eight weeks ending with the current one."""
    current = week_of(now, tz)
    weeks = [current]
    while len(weeks) < WEEKS:
        weeks.insert(0, previous_week(weeks[0]))
    return weeks
