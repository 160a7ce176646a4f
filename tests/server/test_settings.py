"""Settings from the environment (SPEC §8) and the keys made and kept on first start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.settings import load_settings


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CUNYI_SECRET_KEY", "CUNYI_VAPID_PRIVATE_KEY", "CUNYI_TZ", "CUNYI_DATABASE_URL",
                 "CUNYI_DUTY_MIN_HOURS", "CUNYI_MIN_TENURE_DAYS"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "数据"
    monkeypatch.setenv("CUNYI_DATA_DIR", str(data))
    return data


def test_keys_are_made_once_with_mode_0600_and_reused(fresh: Path) -> None:
    first = load_settings()
    keys = fresh / "keys.json"
    made = keys.read_text()

    second = load_settings()

    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert second.secret_key == first.secret_key and len(first.secret_key) >= 32
    assert second.vapid_private_key == first.vapid_private_key
    assert second.vapid_public_key == first.vapid_public_key
    assert keys.read_text() == made


def test_keys_from_the_environment_win_over_the_kept_file(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = load_settings()
    monkeypatch.setenv("CUNYI_SECRET_KEY", "共享-secret-for-several-hosts")

    settings = load_settings()

    assert settings.secret_key == "共享-secret-for-several-hosts"
    assert settings.vapid_private_key == kept.vapid_private_key


def test_the_default_database_is_a_sqlite_file_in_wal_mode_under_the_data_dir(fresh: Path) -> None:
    settings = load_settings()

    assert settings.database_url.startswith(f"sqlite://{fresh}/")
    assert "journal_mode=WAL" in settings.database_url
    assert not settings.is_postgres


def test_a_postgres_url_is_taken_from_the_environment(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUNYI_DATABASE_URL", "postgres://cunyi@127.0.0.1:5432/cunyi")

    settings = load_settings()

    assert settings.is_postgres
    assert settings.database_url == "postgres://cunyi@127.0.0.1:5432/cunyi"


def test_the_time_zone_defaults_to_shanghai_and_comes_from_cunyi_tz(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = load_settings()
    monkeypatch.setenv("CUNYI_TZ", "Asia/Urumqi")

    chosen = load_settings()

    assert default.tz == "Asia/Shanghai"
    assert chosen.tz == "Asia/Urumqi"


def test_an_unknown_time_zone_fails_at_start_naming_it(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUNYI_TZ", "Asia/Liuzhou")

    with pytest.raises(Exception, match="Asia/Liuzhou"):
        load_settings()


def test_policy_numbers_default_to_the_spec_and_are_overridden_by_cunyi_names(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = load_settings().policy
    monkeypatch.setenv("CUNYI_DUTY_MIN_HOURS", "7.5")
    monkeypatch.setenv("CUNYI_MIN_TENURE_DAYS", "200")

    policy = load_settings().policy

    assert (default.duty_min_hours, default.patrol_min_hours, default.min_tenure_days) == (6.0, 4.0, 183)
    assert (default.duty_days_per_week, default.patrol_visits_per_week) == (5, 2)
    assert policy.duty_min_hours == 7.5
    assert policy.min_tenure_days == 200
    assert policy.patrol_min_hours == 4.0
