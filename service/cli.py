"""`sophmate-ledger`: serve, worker, migrate, projections, openapi, token."""

from __future__ import annotations

import argparse
import json
import re
import sys

from service import (
    cli_demo,
    cli_projections,
    cli_prune,
    cli_verify,
    cli_webhooks,
    cli_worker,
    kek_rotation,
)
from service.auth.principal import Role
from service.cli_database import check_schema_now, database_urls
from service.settings import Settings, get_settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from service.database import SchemaBehind, migrate
    from service.logs import configure_logging
    from service.serving import serve

    configure_logging(settings.log_level)
    with database_urls(settings) as (owner_url, app_url):
        if args.migrate:
            migrate(owner_url, settings.app_role)
        try:
            check_schema_now(app_url, settings)
        except SchemaBehind as behind:
            print(f"refusing to serve: {behind}", file=sys.stderr)
            return 2
        base = f"http://{settings.host}:{settings.port}"
        embedded = settings.database_url is None
        where = f"embedded Postgres in {settings.data_dir}" if embedded else "LEDGER_DATABASE_URL"
        print(
            f"\nSophMate Ops Ledger on {base}  (API docs: {base}/docs)\n"
            f"Database: {where}\n"
            "A development token:\n"
            "  .venv/bin/sophmate-ledger token --sub alice --role administrator --site acme-shop\n"
            f"Ctrl-C stops the service{' and the embedded Postgres' if embedded else ''}.\n",
            file=sys.stderr,
            flush=True,
        )
        # Returns on SIGTERM as on Ctrl-C, so leaving this block stops the embedded Postgres.
        serve(settings.model_copy(update={"database_url": app_url}), workers=args.workers)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from service.database import head_revision, migrate

    with database_urls(settings) as (owner_url, _):
        migrate(owner_url, settings.app_role)
    print(f"schema at {head_revision()}")
    return 0


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> int:
    from service.openapi import openapi_document

    text = json.dumps(openapi_document(), indent=2) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def parse_ttl(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError("ttl is a number with an optional s, m, h or d")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.tokens import mint_token

    if settings.env == "production":
        print(
            "refusing: development tokens are not issued when LEDGER_ENV=production",
            file=sys.stderr,
        )
        return 2
    if args.ttl > settings.token_max_lifetime_seconds:
        limit = settings.token_max_lifetime_seconds
        print(
            f"refusing: --ttl is above LEDGER_TOKEN_MAX_LIFETIME_SECONDS ({limit})", file=sys.stderr
        )
        return 2
    if not args.site and args.agency is None:
        print(
            "warning: no --site (nor --agency): this token can reach no site's data",
            file=sys.stderr,
        )
    print(
        mint_token(
            settings.jwt_secret,
            sub=args.sub,
            roles=args.role,
            sites=args.site,
            agency=args.agency,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=args.ttl,
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sophmate-ledger", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="HTTP processes sharing one socket (default 1); the first runs the subscribers",
    )
    serve.set_defaults(run=cmd_serve)
    cli_worker.add_parser(sub)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    cli_projections.add_parser(sub)
    cli_verify.add_parser(sub)
    cli_demo.add_parser(sub)
    cli_prune.add_parser(sub)
    kek_rotation.add_parser(sub)
    cli_webhooks.add_parser(sub)
    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.add_argument("--output", "-o", help="write to this file instead of stdout")
    openapi.set_defaults(run=cmd_openapi)
    token = sub.add_parser("token", help="print a development token signed with LEDGER_JWT_SECRET")
    token.add_argument("--sub", required=True)
    token.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        metavar="ROLE",
        help=f"repeat for several roles: {', '.join(r.value for r in Role)}",
    )
    token.add_argument("--site", action="append", default=[], help="repeat for several sites")
    token.add_argument("--agency")
    token.add_argument("--ttl", type=parse_ttl, default=3600, help="e.g. 900, 30m, 1h (default 1h)")
    token.set_defaults(run=cmd_token)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as error:
        print(f"configuration refused: {error}", file=sys.stderr)
        return 2
    code: int = args.run(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
