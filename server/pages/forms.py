"""Reading manage forms: a problem is shown again beside the form, in the reader's language."""

from __future__ import annotations

from datetime import date
from typing import Any

from server.pages.access import N_


class FormProblem(Exception):
    """A form the page shows again with this message (a translatable sentence) and its values."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = {key: str(value) for key, value in params.items()}


def parse_date(value: object, *, required: bool) -> date | None:
    text = str(value or "").strip()
    if not text:
        if required:
            raise FormProblem(N_("Enter a date."))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise FormProblem(N_("%(value)s is not a date like 2026-11-16."), value=text) from exc
