"""Wires cunyi together: settings, database, middleware and the one explicit list of routes."""

from __future__ import annotations

import gc
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from server.api import admin as admin_api
from server.api import auth, visits
from server.api import coverage as coverage_api
from server.api import flags as flags_api
from server.api import push as push_api
from server.api import reminders as reminders_api
from server.api import sync as sync_api
from server.db import tortoise_config
from server.errors import (
    ApiError,
    api_error_handler,
    database_error_classes,
    database_error_handler,
    http_error_handler,
    server_error_handler,
)
from server.openapi import openapi_json
from server.pages import (
    assignments,
    compliance,
    county,
    dashboard,
    devices,
    exemptions,
    exports,
    imports,
    session,
    users,
    village,
)
from server.pages import flags as flag_pages
from server.pages import webhook as webhook_page
from server.scheduler import ReminderScheduler
from server.security import BodyLimit, SecurityHeaders
from server.settings import Settings, load_settings

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
STATIC_DIR = Path(__file__).resolve().parent / "static"
GC_YOUNG = 50_000  # objects allocated between young-generation collections (default 700)
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".mjs")


def routes() -> list[Route | Mount]:
    return [
        # API (SPEC §6, §7)
        Route("/api/openapi.json", openapi_json, methods=["GET"]),
        Route("/api/auth/login", auth.login, methods=["POST"]),
        Route("/api/auth/logout", auth.logout, methods=["POST"]),
        Route("/api/me", auth.me, methods=["GET"]),
        Route("/api/admin/import", admin_api.import_data, methods=["POST"]),
        # Reminders (SPEC §11)
        Route("/api/push/key", push_api.public_key, methods=["GET"]),
        Route("/api/push/subscribe", push_api.subscribe, methods=["POST"]),
        Route("/api/push/unsubscribe", push_api.unsubscribe, methods=["POST"]),
        Route("/api/reminders", reminders_api.list_reminders, methods=["GET"]),
        Route("/api/reminders/{id}/read", reminders_api.mark_read, methods=["POST"]),
        Route("/api/townships/{code}/webhook", reminders_api.put_webhook, methods=["PUT"]),
        Route("/api/sync/push", sync_api.push, methods=["POST"]),
        Route("/api/sync/pull", sync_api.pull, methods=["GET"]),
        Route("/api/visits/{id}", visits.visit_detail, methods=["GET"]),
        Route("/api/visits/{id}/resolve-overlap", flags_api.resolve, methods=["POST"]),
        Route("/api/visits/{id}/dismiss", flags_api.dismiss, methods=["POST"]),
        # Coverage (SPEC §7)
        Route("/api/coverage", coverage_api.coverage, methods=["GET"]),
        Route("/api/coverage/{village}", coverage_api.village_coverage, methods=["GET"]),
        Route("/api/compliance", coverage_api.compliance, methods=["GET"]),
        # Pages (SPEC §10)
        Route("/", session.home, methods=["GET"]),
        Route("/login", session.login_page, methods=["GET"]),
        Route("/login", session.login_submit, methods=["POST"]),
        Route("/logout", session.logout_submit, methods=["POST"]),
        Route("/township/{code}/webhook", webhook_page.webhook_page, methods=["GET"]),
        Route("/township/{code}/webhook", webhook_page.webhook_submit, methods=["POST"]),
        Route("/township/{code}", dashboard.township_dashboard, methods=["GET"]),
        Route("/village/{code}", village.village_detail, methods=["GET"]),
        Route("/township/{code}/compliance", compliance.doctor_compliance, methods=["GET"]),
        Route("/township/{code}/flags", flag_pages.flag_queue, methods=["GET"]),
        Route("/township/{code}/flags/{id}/resolve", flag_pages.resolve_submit, methods=["POST"]),
        Route("/township/{code}/flags/{id}/dismiss", flag_pages.dismiss_submit, methods=["POST"]),
        Route("/township/{code}/exemptions", exemptions.exemptions_page, methods=["GET"]),
        Route("/township/{code}/exemptions", exemptions.create_exemption, methods=["POST"]),
        Route(
            "/township/{code}/exemptions/{id:int}/remove", exemptions.remove_exemption, methods=["POST"]
        ),
        Route("/township/{code}/users", users.users_page, methods=["GET"]),
        Route("/township/{code}/users", users.create_user, methods=["POST"]),
        Route("/township/{code}/users/{id}/password", users.reset_password, methods=["POST"]),
        Route("/township/{code}/devices", devices.devices_page, methods=["GET"]),
        Route("/township/{code}/devices/{id:int}/revoke", devices.revoke_submit, methods=["POST"]),
        Route("/township/{code}/export.{format}", exports.township_export, methods=["GET"]),
        Route("/county/", county.county_list, methods=["GET"]),
        Route("/county/{code}", county.county_view, methods=["GET"]),
        Route("/county/{code}/export.{format}", exports.county_export, methods=["GET"]),
        Route("/import", imports.import_page, methods=["GET"]),
        Route("/import", imports.import_submit, methods=["POST"]),
        Route("/township/{code}/assignments", assignments.assignments_page, methods=["GET"]),
        Route("/township/{code}/assignments", assignments.create_assignment, methods=["POST"]),
        Route("/township/{code}/assignments/{id}/end", assignments.end_assignment, methods=["POST"]),
        Route("/township/{code}/assignments/{id}/slots", assignments.change_slots, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        # The phone app (SPEC §9)
        Mount("/app", StaticFiles(directory=PWA_DIR, html=True), name="app"),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            # The reminder scheduler (SPEC §11); CUNYI_SCHEDULER=0 turns it off (tests).
            scheduler = ReminderScheduler(settings) if settings.scheduler else None
            # Garbage collection took ~15% of a push's CPU, most of it re-scanning the modules,
            # models and routes loaded at startup: move them out of the collector's sight, and
            # let the young generation grow larger than a push's 500 records before a pass.
            gc.collect()
            gc.freeze()
            gc.set_threshold(GC_YOUNG, 20, 20)
            if scheduler is not None:
                scheduler.start()
            try:
                yield
            finally:
                if scheduler is not None:
                    await scheduler.stop()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(BodyLimit),
            Middleware(SecurityHeaders),
            Middleware(GZipMiddleware, minimum_size=1024),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="cunyi_session",
                same_site="lax",
                https_only=False,
                max_age=14 * 24 * 3600,
            ),
        ],
        exception_handlers={
            ApiError: api_error_handler,
            HTTPException: http_error_handler,
            **{cls: database_error_handler for cls in database_error_classes()},
            Exception: server_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
