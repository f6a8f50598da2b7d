"""``nwcheck enqueue``: put one check request on the requests queue, as another service would.

The request is built and validated by ``shared.producer`` (contract version 1), exactly as the app
validates it; an invalid one is printed and nothing is sent. Without ``--check-id`` a fresh
``cli-...`` id is chosen and printed, so the result can be found (it is the ``CheckId`` of its row).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shared.cli.common import (
    CONNECTION,
    OK,
    CliError,
    azure_errors,
    command,
    queue_name,
    read_target_list,
    setting,
)


def add_parser(sub: Any) -> None:
    p = command(
        sub, "enqueue", help="send a check request to the requests queue",
        description="Send one check request (contract version 1) to the app's requests queue: a stored target "
        "by name, or an inline target definition from a file. The request is validated as the app validates "
        "it; an invalid one is printed and nothing is sent.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--target", metavar="NAME", help="the name of a target in the app's target list")
    what.add_argument("--inline", metavar="FILE", help="a file (JSON or YAML) holding one target definition")
    p.add_argument("--check-id", metavar="ID", help="the check's id (default: a new cli-... id)")
    p.add_argument("--correlation-id", metavar="ID", help="your id for this request (an alert id, a ticket)")
    p.add_argument("--reply-to", metavar="QUEUE", help="a queue that also receives the result message")
    p.add_argument("--priority", choices=("normal", "high"), default="normal",
                   help="high goes on the urgent queue ($URGENT_QUEUE or nwcheck-urgent), which the app drains apart "
                        "from the sweep's backlog (default: normal)")
    p.add_argument("--targets", metavar="FILE",
                   help="with --target: refuse a name that is not in this target list (default: $TARGETS_PATH if "
                        "set, else the name is not checked here; the app checks it)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--connection-string", metavar="CS",
                       help=f"the storage account's connection string (default: ${CONNECTION}, or the "
                            f"identity-based {CONNECTION}__queueServiceUri with DefaultAzureCredential)")
    where.add_argument("--queue-url", metavar="URL",
                       help="the requests queue's URL (https://ACCOUNT.queue.core.windows.net/QUEUE), "
                            "reached with DefaultAzureCredential (Storage Queue Data Message Sender)")
    p.add_argument("--queue", metavar="NAME",
                   help="the queue (default: $REQUESTS_QUEUE or nwcheck-requests; with --priority high, "
                        "$URGENT_QUEUE or nwcheck-urgent)")
    p.set_defaults(func=run)


def split_queue_url(url: str) -> tuple[str, str]:
    """(account URL, queue name) of a queue URL; the account may sit in the path (Azurite, path-style)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if parts.scheme != "https" or not parts.netloc or "/" not in path or parts.query:
        # https only: a token is never sent over plain http (the storage SDK refuses it too)
        raise CliError(f"--queue-url: expected https://ACCOUNT.queue.core.windows.net/QUEUE, got {url!r}")
    account_path, name = path.rsplit("/", 1)
    if not name:
        raise CliError(f"--queue-url: no queue name in {url!r}")
    return urlunsplit((parts.scheme, parts.netloc, account_path, "", "")), name


def _inline(path: str) -> dict[str, Any]:
    from shared.target_list import TargetListError, load_document

    try:
        data = load_document(Path(path).read_bytes(), source=path)
    except OSError as exc:
        raise CliError(f"{path}: cannot read the inline target: {exc.strerror or exc}") from None
    except TargetListError as exc:
        raise CliError(str(exc)) from None
    if not isinstance(data, dict):
        raise CliError(f"{path}: must hold one target definition (a mapping), not {type(data).__name__}")
    return data


def run(args: argparse.Namespace) -> int:
    from azure.identity import DefaultAzureCredential

    from shared import storage
    from shared.messages import BadMessage
    from shared.producer import build_request, queue_for, requests_queue, send_request

    if args.queue_url and args.queue:
        raise CliError("--queue-url names the queue already; leave out --queue")
    if args.target is not None:
        listed = args.targets or setting("TARGETS_PATH", "")
        if listed and read_target_list(listed).by_name(args.target) is None:
            raise CliError(f"no target named {args.target!r} in {listed}")
    check_id = args.check_id or f"cli-{uuid.uuid4().hex[:20]}"
    try:
        request = build_request(target=args.target, inline=_inline(args.inline) if args.inline else None,
                                check_id=check_id, correlation_id=args.correlation_id, reply_to=args.reply_to,
                                priority=args.priority)
    except (BadMessage, storage.MessageTooLarge) as exc:
        raise CliError(f"invalid request, nothing sent: {exc}") from None
    with azure_errors("could not send the request"):
        if args.queue_url:
            account, name = split_queue_url(args.queue_url)
            queue = requests_queue(account, name, DefaultAzureCredential())
        else:
            if args.connection_string:
                target, credential = args.connection_string, None
            else:
                target, credential = storage.service_endpoint(CONNECTION, "queue")
            name = args.queue or queue_for(request, queue_name("requests"), queue_name("urgent"))
            queue = requests_queue(target, name, credential)
        send_request(queue, request)
    print(f"enqueued check {check_id} on {name}: {json.dumps(request, separators=(',', ':'))}")
    if sys.stdout.isatty():
        print("its result goes to the results queue and Log Analytics (CheckId column)"
              + (f", and to {args.reply_to}" if args.reply_to else ""))
    return OK
