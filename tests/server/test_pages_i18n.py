"""Every page message has a zh-CN translation: templates' _("…") and server/pages' N_("…")."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

SERVER = Path(__file__).resolve().parents[2] / "server"
CATALOG = SERVER / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
IN_TEMPLATES = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
IN_PAGES = re.compile(r"""\bN_\(\s*"((?:[^"\\]|\\.)*)\"""")


def page_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((SERVER / "templates").rglob("*.html")):
        for match in IN_TEMPLATES.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(1) or match.group(2), path.name)
    for path in sorted((SERVER / "pages").glob("*.py")):
        for match in IN_PAGES.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(1), path.name)
    return found


def test_every_page_message_has_a_chinese_translation() -> None:
    with CATALOG.open("rb") as f:
        catalog = {m.id: m.string for m in read_po(f, locale="zh_CN") if m.id and not m.fuzzy}

    missing = {msg: where for msg, where in page_messages().items() if not catalog.get(msg)}

    assert missing == {}


def test_translations_keep_every_placeholder() -> None:
    placeholder = re.compile(r"%\((\w+)\)s")
    with CATALOG.open("rb") as f:
        pairs = [(m.id, m.string) for m in read_po(f, locale="zh_CN") if m.id and m.string]

    broken = [
        msgid for msgid, text in pairs
        if sorted(placeholder.findall(str(msgid))) != sorted(placeholder.findall(str(text)))
    ]

    assert broken == []


def test_the_scan_finds_messages_in_templates_and_pages() -> None:
    messages = page_messages()

    assert "Dashboard" in messages  # _nav.html
    assert "Overlap resolved; coverage is updated." in messages  # server/pages/flags.py
