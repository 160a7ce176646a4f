"""The test county the browser tests sign in to: 融水苗族自治县, 融水镇, 古鼎村 and 新国村."""

from __future__ import annotations

from typing import Any

PASSWORD = "村医-测试-2026"
WEI: dict[str, str] = {"id": "doc-1", "name": "韦医生", "phone": "13800000004"}  # rostered at 古鼎村, patrols 新国村
QIN: dict[str, str] = {"id": "doc-2", "name": "覃医生", "phone": "13800000005"}  # patrol doctor with fixed slots
GUDING: dict[str, Any] = {"code": "450225100201", "name": "古鼎村", "lat": 25.0681, "lon": 109.2563}
XINGUO: dict[str, Any] = {"code": "450225100202", "name": "新国村", "lat": 25.0912, "lon": 109.2211}

BUNDLE: dict[str, Any] = {
    "counties": [{"code": "450225", "name": "融水苗族自治县"}],
    "townships": [{"code": "450225100", "county": "450225", "name": "融水镇"}],
    "villages": [
        {**GUDING, "township": "450225100", "population": 1830, "needs_coverage": True},
        {**XINGUO, "township": "450225100", "population": 1210, "needs_coverage": True},
    ],
    "users": [
        {**WEI, "role": "doctor", "township": "450225100", "qualification": "village_doctor",
         "password": PASSWORD},
        {**QIN, "role": "doctor", "township": "450225100", "qualification": "licensed_physician",
         "password": PASSWORD},
        {"id": "sup-1", "name": "莫院长", "phone": "13800000002", "role": "supervisor",
         "township": "450225100", "password": PASSWORD},
    ],
    "assignments": [
        {"id": "asg-1", "doctor": "doc-1", "village": GUDING["code"], "kind": "roster",
         "start": "2026-06-01", "end": None, "slots": []},
        # 韦医生 also covers the neighbouring 新国村 on Saturday mornings.
        {"id": "asg-3", "doctor": "doc-1", "village": XINGUO["code"], "kind": "patrol",
         "start": "2026-06-01", "end": None, "slots": [{"weekday": 6, "half": "am"}]},
        {"id": "asg-2", "doctor": "doc-2", "village": XINGUO["code"], "kind": "patrol",
         "start": "2026-06-01", "end": None,
         "slots": [{"weekday": 2, "half": "am"}, {"weekday": 5, "half": "pm"}]},
        {"id": "asg-4", "doctor": "doc-2", "village": GUDING["code"], "kind": "patrol",
         "start": "2026-09-01", "end": "2027-02-28", "slots": [{"weekday": 3, "half": "pm"}]},
    ],
    "exemptions": [],
}
