"""The policy numbers of SPEC §4 and §5, with the SPEC's defaults; a deployment may change them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    # 桂政办发〔2023〕53号 一(一): rostered doctors at least 5 days a week ...
    duty_days_per_week: int = 5
    duty_min_hours: float = 6.0
    # ... patrol at least twice a week, at least half a day each time.
    patrol_visits_per_week: int = 2
    patrol_min_hours: float = 4.0
    # ... and the same administrative village for at least half a year in a row.
    min_tenure_days: int = 183
    adherence_threshold: float = 0.75
    adherence_weeks: int = 4
    # Visit checks of SPEC §5.
    far_from_village_km: float = 3.0
    clock_skew_minutes: int = 10
    future_minutes: int = 10
    late_days: int = 7
    max_visit_hours: int = 16
    max_patients_seen: int = 500
    max_notes_chars: int = 2000


DEFAULT_POLICY = Policy()
