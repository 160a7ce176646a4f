"""The real `cunyi` console script (SPEC §8) in a subprocess, on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]
CUNYI = Path(sys.executable).parent / "cunyi"
FIXTURES = ROOT / "tests" / "fixtures" / "import"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "cli.sqlite3"
    return {
        **os.environ,
        "CUNYI_DATA_DIR": str(tmp_path / "data"),
        "CUNYI_DATABASE_URL": f"sqlite://{database}",
        "CUNYI_SCHEDULER": "0",
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CUNYI), *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def query(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    path = env["CUNYI_DATABASE_URL"].removeprefix("sqlite://")
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_create_user_prints_the_new_id_and_refuses_a_used_phone(env: dict[str, str]) -> None:
    first = run(env, "create-user", "--role", "admin", "--name", "蓝局长", "--phone", "13800000001",
                "--password", "局长-2026")
    second = run(env, "create-user", "--role", "admin", "--name", "冒名", "--phone", "13800000001",
                 "--password", "x-2026")

    assert first.returncode == 0, first.stderr
    user_id = first.stdout.strip()
    assert query(env, "SELECT id, name FROM app_user") == [(user_id, "蓝局长")]
    assert second.returncode != 0
    assert "13800000001" in second.stderr
    assert query(env, "SELECT count(*) FROM app_user") == [(1,)]


def test_import_of_a_json_bundle_then_a_csv_prints_a_summary(env: dict[str, str]) -> None:
    bundle = run(env, "import", str(FIXTURES / "bundle.json"))
    csv = run(env, "import", str(FIXTURES / "villages.csv"))

    assert bundle.returncode == 0, bundle.stderr
    assert "villages: 3 created, 0 updated, 0 unchanged" in bundle.stdout
    assert csv.returncode == 0, csv.stderr
    assert "villages: 3 created" in csv.stdout
    names = dict(query(env, "SELECT code, name FROM village"))
    assert names["450225102201"] == "三防村"
    assert names["450225102206"] == "“高坡”屯村"


def test_import_of_an_xlsx_workbook(env: dict[str, str], tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "counties"
    sheet.append(["code", "name"])
    sheet.append(["450225", "融水苗族自治县"])
    townships = book.create_sheet("townships")
    townships.append(["code", "county", "name"])
    townships.append([450225101, 450225, "和睦镇"])
    path = tmp_path / "融水.xlsx"
    book.save(path)

    result = run(env, "import", str(path))

    assert result.returncode == 0, result.stderr
    assert query(env, "SELECT code, county_id, name FROM township") == [
        ("450225101", "450225", "和睦镇")
    ]


def test_an_invalid_file_prints_every_problem_and_changes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    bundle = json.loads((FIXTURES / "bundle.json").read_text(encoding="utf-8"))
    bundle["villages"][2]["township"] = "450225199"
    bundle["users"][2]["phone"] = bundle["users"][1]["phone"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")

    result = run(env, "import", str(path))

    assert result.returncode == 1
    assert "villages[2].township: unknown township 450225199" in result.stderr
    assert "users[2].phone: phone 13977200452 is also at users[1]" in result.stderr
    assert query(env, "SELECT count(*) FROM village") == [(0,)]


def test_demo_fills_an_empty_database_and_refuses_a_full_one(env: dict[str, str]) -> None:
    first = run(env, "demo")
    second = run(env, "demo")

    assert first.returncode == 0, first.stderr
    assert "13900000001" in first.stdout and "demo-admin-2026" in first.stdout
    assert second.returncode != 0
    assert "already has villages" in second.stderr
    assert query(env, "SELECT count(*) FROM village") == [(30,)]


def test_demo_when_empty_builds_only_once_and_prints_the_logins_both_times(
    env: dict[str, str],
) -> None:
    command = [sys.executable, "-m", "server.demo", "--when-empty"]

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    visits = query(env, "SELECT count(*) FROM visit")
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "demo county" in first.stdout
    assert "not adding the demo county" in second.stdout
    for output in (first.stdout, second.stdout):
        assert "13900100001" in output and "demo-2026" in output
    assert query(env, "SELECT count(*) FROM visit") == visits
