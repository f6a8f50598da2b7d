"""Move poison messages back to their queue once the cause is fixed.

    python -m shared.replay nwcheck-results [--limit 100]    (storage from NwcheckStorage)

A message the app poisoned itself is ``{"reason", "queue", "message"}``: the original message is
sent back. A message the Functions host poisoned is the original body: it is sent back as it is.
"""

from __future__ import annotations

import argparse
import json
import sys

from azure.storage.queue import QueueClient

from shared import storage

CONNECTION = "NwcheckStorage"


def original(content: str) -> str:
    """The message to send back: unwrapped from the app's poison record, or as it is."""
    try:
        record = json.loads(content)
    except ValueError:
        return content
    if isinstance(record, dict) and set(record) == {"reason", "queue", "message"} and isinstance(
            record["message"], str):
        return record["message"]
    return content


def replay(queue: QueueClient, poison: QueueClient, limit: int = 1000) -> int:
    moved = 0
    while moved < limit:
        page = list(poison.receive_messages(max_messages=min(32, limit - moved), visibility_timeout=60))
        if not page:
            break
        for message in page:
            storage.send_text(queue, original(message.content))
            poison.delete_message(message)  # after the send: a crash between them duplicates, never loses
            moved += 1
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("queue", help="the queue to refill from <queue>-poison, e.g. nwcheck-results")
    parser.add_argument("--limit", type=int, default=1000, help="move at most this many messages")
    args = parser.parse_args(argv)
    moved = replay(storage.queue_client(CONNECTION, args.queue),
                   storage.queue_client(CONNECTION, f"{args.queue}-poison"), args.limit)
    print(f"moved {moved} message(s) from {args.queue}-poison back to {args.queue}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
