"""The import page: upload a JSON bundle, a CSV or an XLSX file; every problem is shown with its row."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from server.bundle_files import InvalidImport, Problem, read_bundle
from server.caller import Caller
from server.importer import import_bundle
from server.pages.access import N_, page, show
from server.settings import MAX_IMPORT_BYTES, Settings
from server.web import checked_form

# Decision: the importer scopes an import to a county, so importing is for admins; supervisors
# manage their township's people and assignments on the manage pages instead.
ROLES = ("admin",)
MAX_SHOWN = 500


@page(*ROLES)
async def import_page(request: Request, caller: Caller) -> Response:
    return show(request, "import.html", caller, {})


@page(*ROLES)
async def import_submit(request: Request, caller: Caller) -> Response:
    settings: Settings = request.app.state.settings
    form = await checked_form(request, max_size=MAX_IMPORT_BYTES)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems = [Problem("file", N_("Choose a file to import."))]
        return show(request, "import.html", caller, {"problems": problems}, status_code=422)
    content = await upload.read()
    try:
        bundle = read_bundle(upload.filename, content)
        counts = await import_bundle(
            bundle, settings=settings, scope_county=caller.user.county_id  # type: ignore[attr-defined]
        )
    except InvalidImport as exc:
        context = {
            "problems": exc.problems[:MAX_SHOWN],
            "more": max(0, len(exc.problems) - MAX_SHOWN),
            "total": len(exc.problems),
            "filename": upload.filename,
        }
        return show(request, "import.html", caller, context, status_code=422)
    return show(
        request,
        "import.html",
        caller,
        {"counts": {k: v for k, v in counts.items() if any(v.values())}, "filename": upload.filename},
    )
