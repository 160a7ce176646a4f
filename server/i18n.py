"""Page messages in zh-CN (default) and English, read from Babel .po catalogs at start."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LOCALE_DIR = Path(__file__).parent / "locale"


def normalise_language(value: str | None) -> str:
    if value and value.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


@cache
def translations(language: str) -> Translations:
    """Messages are written in English in the code; the zh-CN catalog translates them."""
    folder = "zh_CN" if language == "zh-CN" else "en"
    po = LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return Translations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=folder)
    # Compile in memory: no generated .mo files in the repository.
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def gettext_for(language: str) -> Callable[..., str]:
    table = translations(normalise_language(language))

    def gettext(message: str, **params: object) -> str:
        text = table.gettext(message)
        return text % params if params else text

    return gettext
