"""The `cunyi` command (SPEC §8). Every subcommand first creates or upgrades the schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable

from tortoise import Tortoise

from server.db import open_database, upgrade_schema
from server.models import ROLES, County, Township, User
from server.passwords import hash_password
from server.settings import Settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cunyi", description="村医 — village doctor coverage")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    create = commands.add_parser("create-user", help="create a user and print its id")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--phone", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--county")
    create.add_argument("--township")
    create.add_argument("--id", dest="user_id")

    load = commands.add_parser("import", help="import a JSON bundle, a CSV or an XLSX file")
    load.add_argument("file")

    commands.add_parser("demo", help="fill an empty database with a demo county")

    remind = commands.add_parser("remind", help="send the weekly reminders now")
    remind.add_argument("--week")
    remind.add_argument("--dry-run", action="store_true")

    commands.add_parser("rebuild-coverage", help="recompute every stored coverage row")

    args = parser.parse_args(argv)
    settings = load_settings()
    asyncio.run(upgrade_schema(settings.database_url))
    if args.command == "serve":
        return serve_forever(settings, args.host, args.port, args.workers)
    handlers: dict[str, Callable[[Settings, argparse.Namespace], Awaitable[int]]] = {
        "create-user": create_user,
        "import": import_file,
        "demo": demo,
        "remind": remind_now,
        "rebuild-coverage": rebuild_coverage,
    }
    return asyncio.run(with_database(settings, handlers[args.command], args))


async def with_database(
    settings: Settings,
    handler: Callable[[Settings, argparse.Namespace], Awaitable[int]],
    args: argparse.Namespace,
) -> int:
    await open_database(settings.database_url)
    try:
        return await handler(settings, args)
    finally:
        await Tortoise.close_connections()


def serve_forever(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    # Behind nginx every request comes from the proxy's address, which would pool the whole
    # province's failed sign-ins into one throttle key. CUNYI_FORWARDED_ALLOW_IPS names the
    # proxies whose X-Forwarded-For is believed (e.g. 127.0.0.1); unset, the header is ignored,
    # since anyone could write it.
    forwarded = os.environ.get("CUNYI_FORWARDED_ALLOW_IPS", "").strip()
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=bool(forwarded),
        forwarded_allow_ips=forwarded or None,
        log_level="info",
    )
    return 0


def fail(message: str) -> int:
    print(f"cunyi: {message}", file=sys.stderr)
    return 2


async def create_user(settings: Settings, args: argparse.Namespace) -> int:
    if await User.filter(phone=args.phone).exists():
        return fail(f"phone {args.phone} is already used by another user")
    county = township = None
    if args.county:
        county = await County.get_or_none(code=args.county)
        if county is None:
            return fail(f"unknown county {args.county}")
    if args.township:
        township = await Township.get_or_none(code=args.township)
        if township is None:
            return fail(f"unknown township {args.township}")
    if args.role in ("doctor", "supervisor") and township is None:
        return fail(f"a {args.role} needs --township")
    user_id = args.user_id or str(uuid.uuid4())
    if len(user_id) > 64 or await User.filter(id=user_id).exists():
        return fail(f"user id {user_id} is too long or already used")
    await User.create(
        id=user_id,
        name=args.name,
        phone=args.phone,
        password_hash=hash_password(args.password),
        role=args.role,
        county=county,
        township=township,
    )
    print(user_id)
    return 0


async def import_file(settings: Settings, args: argparse.Namespace) -> int:
    from server.importer import import_path

    return int(await import_path(settings, args.file))


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    from server.demo import make_demo

    return int(await make_demo(settings))


async def remind_now(settings: Settings, args: argparse.Namespace) -> int:
    from server.reminders import remind_command

    return int(await remind_command(settings, week=args.week, dry_run=args.dry_run))


async def rebuild_coverage(settings: Settings, args: argparse.Namespace) -> int:
    from server.recompute import rebuild_command

    return int(await rebuild_command(settings))




if __name__ == "__main__":
    sys.exit(main())
