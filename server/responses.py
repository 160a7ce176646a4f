"""The JSON responses of every API handler."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


class JSONResponse(StarletteJSONResponse):
    """Starlette's JSONResponse rendered by orjson: the same compact UTF-8 JSON, several times
    faster for a push's 500 results or a pull's 1000 records."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
