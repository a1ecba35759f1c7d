"""`sophmate-ledger receive-webhooks`: a development endpoint that verifies and prints deliveries.

For trying subscriptions out on a laptop (the README's webhooks walkthrough), not for
production: it answers 200 to every delivery whose Standard Webhooks signature verifies with the
secret given, 401 to any other, and with `--fail N` answers 503 to the first N deliveries, to
watch retries and redelivery happen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from service.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    receive = sub.add_parser(
        "receive-webhooks",
        help="a development webhook endpoint that verifies and prints each delivery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    receive.add_argument("--port", type=int, default=8787)
    receive.add_argument("--host", default="127.0.0.1")
    receive.add_argument(
        "--secret-env",
        default="WEBHOOK_SECRET",
        help="the environment variable holding the whsec_ secret (default WEBHOOK_SECRET)",
    )
    receive.add_argument("--fail", type=int, default=0, help="answer 503 to the first N")
    receive.set_defaults(run=cmd_receive)


def cmd_receive(args: argparse.Namespace, settings: Settings) -> int:
    from service.webhooks.signing import signature_header

    secret = os.environ.get(args.secret_env, "")
    if not secret.startswith("whsec_"):
        print(f"set {args.secret_env} to the subscription's whsec_ secret", file=sys.stderr)
        return 2
    failures = [args.fail]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            webhook_id = self.headers.get("webhook-id", "")
            stamp = self.headers.get("webhook-timestamp", "")
            given = set(self.headers.get("webhook-signature", "").split(" "))
            fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= 300
            ok = fresh and bool(given & {signature_header([secret], webhook_id, int(stamp), body)})
            status = 401 if not ok else 503 if failures[0] > 0 else 200
            if ok and failures[0] > 0:
                failures[0] -= 1
            event = json.loads(body) if ok else {}
            print(
                f"{status} {webhook_id} {event.get('type', '?')} {event.get('stream_id', '')} "
                f"v{event.get('stream_version', '?')} leaf={event.get('leaf_index')}",
                flush=True,
            )
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"receiving webhooks on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
