"""Reading an import file into one bundle: a JSON bundle, an XLSX workbook (one sheet per bundle
key, header row = field names) or one CSV file named after its bundle key (`villages.csv`)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any

BUNDLE_KEYS = ("counties", "townships", "villages", "users", "assignments", "exemptions")


@dataclass(frozen=True)
class Problem:
    """One reason an import is refused: where (`villages[3].township`) and why."""

    path: str
    message: str
    source: str | None = None  # the file and row of a CSV/XLSX item, e.g. "villages.csv row 5"

    def as_json(self) -> dict[str, str]:
        body = {"path": self.path, "message": self.message}
        if self.source:
            body["source"] = self.source
        return body

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.path}: {self.message}"


class InvalidImport(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the import")
        self.problems = problems


@dataclass
class Bundle:
    """Items per bundle key as read (values not yet checked), and where each came from."""

    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sources: dict[tuple[str, int], str] = field(default_factory=dict)

    def source(self, key: str, index: int) -> str | None:
        return self.sources.get((key, index))

    def size(self) -> int:
        return sum(len(rows) for rows in self.items.values())


def read_bundle(filename: str, content: bytes) -> Bundle:
    """The bundle in a file, chosen by its extension; InvalidImport when it cannot be read."""
    name = PurePath(filename).name
    suffix = PurePath(name).suffix.lower()
    if suffix == ".json":
        return bundle_from_json(content)
    if suffix == ".csv":
        return bundle_from_csv(name, content)
    if suffix == ".xlsx":
        return bundle_from_xlsx(name, content)
    raise InvalidImport(
        [Problem("file", f"{name}: expected a .json bundle, a .csv or an .xlsx file")]
    )


def bundle_from_value(value: Any) -> Bundle:
    """A bundle from parsed JSON: an object whose keys are bundle keys and values lists of objects."""
    if not isinstance(value, dict):
        raise InvalidImport([Problem("bundle", "must be a JSON object with bundle keys")])
    bundle = Bundle()
    problems: list[Problem] = []
    for key, rows in value.items():
        if key not in BUNDLE_KEYS:
            problems.append(Problem(str(key), f"unknown key; expected one of {', '.join(BUNDLE_KEYS)}"))
            continue
        if not isinstance(rows, list):
            problems.append(Problem(key, "must be a list"))
            continue
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                problems.append(Problem(f"{key}[{index}]", "must be an object"))
        bundle.items[key] = [row if isinstance(row, dict) else {} for row in rows]
    if problems:
        raise InvalidImport(problems)
    return bundle


def bundle_from_json(content: bytes) -> Bundle:
    try:
        value = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidImport([Problem("file", "not UTF-8 text")]) from exc
    except json.JSONDecodeError as exc:
        raise InvalidImport([Problem("file", f"not valid JSON: {exc}")]) from exc
    return bundle_from_value(value)


def _key_of(name: str, what: str) -> str:
    key = name.strip().lower()
    if key not in BUNDLE_KEYS:
        raise InvalidImport(
            [Problem("file", f"{what} {name!r} is not named after a bundle key ({', '.join(BUNDLE_KEYS)})")]
        )
    return key


def bundle_from_csv(filename: str, content: bytes) -> Bundle:
    key = _key_of(PurePath(filename).stem, "CSV file")
    try:
        text = content.decode("utf-8-sig")  # Excel writes a BOM; both forms are UTF-8
    except UnicodeDecodeError as exc:
        raise InvalidImport(
            [Problem("file", f"{filename} is not UTF-8; save it as “CSV UTF-8”")]
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    bundle = Bundle(items={key: []})
    for cells in reader:
        if header is None:
            header = [cell.strip() for cell in cells]
            continue
        row = {
            name: cell.strip()
            for name, cell in zip(header, cells, strict=False)
            if name and cell.strip()
        }
        if not row:
            continue
        bundle.sources[(key, len(bundle.items[key]))] = f"{filename} row {reader.line_num}"
        bundle.items[key].append(row)
    return bundle


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


def bundle_from_xlsx(filename: str, content: bytes) -> Bundle:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken or non-XLSX file
        raise InvalidImport([Problem("file", f"{filename} is not a readable XLSX workbook")]) from exc
    bundle = Bundle()
    try:
        for sheet in workbook.worksheets:
            key = _key_of(sheet.title, "sheet")
            rows = bundle.items.setdefault(key, [])
            header: list[str] | None = None
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if header is None:
                    header = [str(v).strip() if v is not None else "" for v in values]
                    continue
                row = {
                    name: _cell(value)
                    for name, value in zip(header, values, strict=False)
                    if name and _cell(value) is not None
                }
                if not row:
                    continue
                bundle.sources[(key, len(rows))] = f"{filename} sheet {sheet.title} row {number}"
                rows.append(row)
    finally:
        workbook.close()
    return bundle
