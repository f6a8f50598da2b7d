"""``nwcheck replay``: move poison messages back to their queue once the cause is fixed.

The moving is ``shared.replay``'s (the app's own poison records are unwrapped to the original
message; a message the Functions host poisoned goes back as it is). ``--dry-run`` only peeks.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from shared.cli.common import (
    OK,
    add_output,
    add_storage,
    azure_errors,
    command,
    positive,
    queue_name,
    use_storage,
)

KINDS = ("requests", "urgent", "polls", "results", "alerts")
PEEK_MAX = 32  # what a queue shows without taking messages


def add_parser(sub: Any) -> None:
    p = command(
        sub, "replay", help="move poison messages back to their queue",
        description="Move the messages of QUEUE-poison back to QUEUE, after the cause that poisoned them is "
        "fixed. QUEUE is a queue name, or one of requests, urgent, polls, results, alerts for the app's "
        "queue of that kind ($REQUESTS_QUEUE, ... or nwcheck-<kind>).")
    p.add_argument("queue", metavar="QUEUE", help="the queue to refill from QUEUE-poison (a name or a kind)")
    p.add_argument("--limit", type=positive(int), default=1000, metavar="N",
                   help="move at most N messages (default: 1000)")
    p.add_argument("--dry-run", action="store_true",
                   help=f"move nothing: say how many would move and show the first {PEEK_MAX}")
    add_storage(p)
    add_output(p)
    p.set_defaults(func=run)


def _describe(content: str) -> dict[str, Any]:
    """What a poison message is: the app's record (reason, queue, message) or a message the host gave up on."""
    from shared.replay import original

    try:
        record = json.loads(content)
    except ValueError:
        record = None
    message = original(content)
    reason = record.get("reason") if isinstance(record, dict) and message != content else None
    return {"reason": reason or "the Functions host gave up after its last delivery", "message": message}


def run(args: argparse.Namespace) -> int:
    from azure.core.exceptions import ResourceNotFoundError

    from shared import replay, storage
    from shared.cli.common import CONNECTION, table

    use_storage(args.connection_string)
    name = queue_name(args.queue) if args.queue in KINDS else args.queue
    poison_name = f"{name}-poison"
    with azure_errors(f"could not read {poison_name}"):
        queue = storage.queue_client(CONNECTION, name)
        poison = storage.queue_client(CONNECTION, poison_name)
        try:
            if args.dry_run:
                count = poison.get_queue_properties().approximate_message_count or 0
                peeked = list(poison.peek_messages(max_messages=max(1, min(PEEK_MAX, args.limit))))
            else:
                moved = replay.replay(queue, poison, args.limit)
        except ResourceNotFoundError:
            print(f"{poison_name} does not exist: nothing to move")
            return OK
    if not args.dry_run:
        if args.output == "json":
            print(json.dumps({"queue": name, "poison": poison_name, "moved": moved, "dryRun": False}))
        else:
            print(f"moved {moved} message(s) from {poison_name} back to {name}")
        return OK
    would = min(count, args.limit)
    shown = [{"id": m.id, "inserted": m.inserted_on.isoformat() if m.inserted_on else None,
              "dequeueCount": m.dequeue_count, **_describe(m.content)} for m in peeked]
    if args.output == "json":
        print(json.dumps({"queue": name, "poison": poison_name, "moved": 0, "dryRun": True, "wouldMove": would,
                          "messages": shown}, indent=2))
        return OK
    print(f"dry run: would move {would} message(s) from {poison_name} back to {name}; nothing moved")
    if shown:
        rows = [(m["inserted"] or "", str(m["dequeueCount"]), str(m["reason"])[:100], m["message"][:80])
                for m in shown]
        print(table(("inserted", "deliveries", "reason", "message"), rows))
        if count > len(shown):
            print(f"(the first {len(shown)} of about {count})")
    return OK
