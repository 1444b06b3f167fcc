"""`workroom serve | smtp | worker | run | demo | token | migrate | verify`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Sequence

from workroom.config import ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        sys.exit(f"workroom: configuration error: {error}")


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = _settings()
    from workroom.db.migrate import upgrade

    upgrade(settings.database_url)
    print(f"migrated {settings.database_url.split('@')[-1]}")


def _default_base_url(args: argparse.Namespace) -> None:
    """Links in mail and the printed login links point where this process listens, unless the
    deployment says otherwise (a proxy, a public name)."""
    os.environ.setdefault("WORKROOM_BASE_URL", f"http://{args.host}:{args.port}")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    _default_base_url(args)
    settings = _settings()
    if settings.embedded:
        from workroom.db.migrate import upgrade

        upgrade(settings.database_url)
    uvicorn.run("workroom.app:create_app", factory=True, host=args.host, port=args.port,
                log_level="info", proxy_headers=True, ws_max_size=1024 * 1024)


def _serve_metrics(settings: Settings) -> None:
    """The worker and smtp processes have no web server for /metrics: with WORKROOM_METRICS_PORT,
    they serve their figures on that port of 127.0.0.1."""
    if settings.metrics_port:
        from workroom.metrics import serve_on_port

        serve_on_port(settings.metrics_port)


def cmd_worker(args: argparse.Namespace) -> None:
    from workroom.services import Services
    from workroom.worker import Worker

    async def main() -> None:
        services = Services(_settings())
        _serve_metrics(services.settings)
        await services.start()
        worker = Worker(services)
        try:
            await worker.run()
        finally:
            await services.stop()

    asyncio.run(main())


def cmd_smtp(args: argparse.Namespace) -> None:
    from workroom.email_bridge.smtp_server import serve_smtp
    from workroom.services import Services

    async def main() -> None:
        services = Services(_settings())
        _serve_metrics(services.settings)
        await services.start()
        try:
            await serve_smtp(services, host=args.host, port=args.port)
        finally:
            await services.stop()

    asyncio.run(main())


def cmd_demo(args: argparse.Namespace) -> None:
    settings = _settings()
    from workroom.db.migrate import upgrade

    upgrade(settings.database_url)
    asyncio.run(_demo(settings))


async def _demo(settings: Settings) -> None:
    from workroom.demo import demo_exists, demo_links, seed_demo
    from workroom.services import Services

    services = Services(settings)
    try:
        if not await demo_exists(services):
            room_id = await seed_demo(services)
            print(f"Seeded the demo room {room_id}.")
        print("\nDemo login links (open one in a browser; each person sees the same room):")
        for link in await demo_links(services):
            print(f"  {link.role:<10} {link.name:<16} {link.url}")
        print()
    finally:
        await services.stop()


def _require_free_port(host: str, port: int, how_to_change: str) -> None:
    """A port already taken (another `workroom run`?) stops start-up with one line, not a traceback."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            sys.exit(f"workroom: port {port} on {host} is already in use; {how_to_change}")


def cmd_run(args: argparse.Namespace) -> None:
    """The embedded shape: migrate, seed the demo once, then web + SMTP + worker in one process."""
    _default_base_url(args)
    settings = _settings()
    _require_free_port(args.host, args.port, "choose another with --port")
    _require_free_port(settings.smtp_host, settings.smtp_port, "choose another with WORKROOM_SMTP_PORT")
    import uvicorn

    from workroom.app import create_app
    from workroom.db.migrate import upgrade

    upgrade(settings.database_url)
    asyncio.run(_demo(settings))
    print(f"Workroom is running at {settings.base_url}/ (Ctrl+C stops it)")
    app = create_app(settings, run_worker=True, run_smtp=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws_max_size=1024 * 1024)


def cmd_token(args: argparse.Namespace) -> None:
    from workroom.auth import mint_token
    from workroom.clock import SystemClock
    from workroom.ids import new_id

    settings = _settings()
    token = mint_token(settings.secret, sub=args.sub or new_id("a"), email=args.email, name=args.name,
                       role=args.role, now=SystemClock().now(), ttl=timedelta(days=args.days))
    print(token)
    if args.link:
        print(f"{settings.base_url}/login?token={token}", file=sys.stderr)


def cmd_verify(args: argparse.Namespace) -> None:
    from workroom.rooms.record import verify_export

    try:
        document = json.loads(Path(args.file).read_text())
    except (OSError, ValueError) as error:
        sys.exit(f"workroom verify: cannot read {args.file}: {error}")
    problems = verify_export(document)
    if problems:
        for problem in problems:
            print(f"FAIL: {problem}")
        sys.exit(1)
    print(f"OK: {len(document['events'])} events, complete, in order and untampered "
          f"(head {document['chain']['head'][:16]}…)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workroom", description="Workroom collaboration server")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn, help_ in (("serve", cmd_serve, "run the web app (HTTP + WebSocket)"),
                            ("run", cmd_run, "embedded: web + SMTP + worker in one process, demo seeded")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.set_defaults(fn=fn)
    sub.add_parser("worker", help="deliver the outbox and fire timers").set_defaults(fn=cmd_worker)
    p = sub.add_parser("smtp", help="run the inbound SMTP bridge (replies by mail)")
    p.add_argument("--host", default=None, help="default: WORKROOM_SMTP_HOST (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="default: WORKROOM_SMTP_PORT (8025)")
    p.set_defaults(fn=cmd_smtp)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(fn=cmd_migrate)
    sub.add_parser("demo", help="seed the demo room and print login links").set_defaults(fn=cmd_demo)
    p = sub.add_parser("token", help="mint a login token")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", default="member", choices=("member", "support", "lead", "service"))
    p.add_argument("--sub", help="account id (default: a new one)")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--link", action="store_true", help="also print a login link on stderr")
    p.set_defaults(fn=cmd_token)
    p = sub.add_parser("verify", help="check an export: complete, in order, untampered")
    p.add_argument("file")
    p.set_defaults(fn=cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
