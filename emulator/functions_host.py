"""A local stand-in for the Functions host (Core Tools cannot be installed here), for development
and tests. It is not a host: it drives the functions exactly as ``function_app.py`` registers them.

From the app's own function metadata (``app.get_functions()``: trigger types, queue names with
``%SETTING%`` expressions, connection setting names, the schedule) and ``host.json`` (batch size,
``maxDequeueCount``, ``visibilityTimeout``, ``messageEncoding``), against Azurite it:

- receives up to ``batchSize`` messages per queue trigger, with a lease, and decodes them (base64);
- runs the function with a real ``azure.functions`` QueueMessage carrying the dequeue count;
- deletes the message on success; on failure makes it visible again after ``visibilityTimeout``,
  or moves it to ``<queue>-poison`` once ``dequeue_count >= maxDequeueCount`` (and skips a message
  already past it without running it), as the Storage Queues extension does;
- runs timer functions when told to (``tick``), and performs their queue output bindings;
- answers HTTP triggers at ``/api/<route>`` (route templates such as ``items/{id}``, the declared
  methods), with the host's key check for ``authLevel`` function/admin (``x-functions-key`` header
  or ``code`` query parameter), in process (``http``) or on a local port (``serve_http``).

Every invocation's wall time is recorded per function, for the benchmarks.

By default ``run_until`` handles messages one at a time, in the calling thread. With ``threads``
set it runs like one instance with one Python worker: each queue trigger keeps up to
``batchSize + newBatchThreshold`` messages leased (a new batch is received once no more than
``newBatchThreshold`` are left in flight), and the invocations run on a pool of ``threads``
threads (the worker's ``PYTHON_THREADPOOL_THREAD_COUNT``); timers run on the pool too, never two
runs of one timer at once.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest
from azure.storage.queue import QueueClient

_SETTING = re.compile(r"%([A-Za-z0-9_]+)%")


def resolve(value: str, env: Mapping[str, str]) -> str:
    """Binding expressions: ``%NAME%`` is the app setting NAME (a missing one is an error, as in the host)."""
    def setting(match: re.Match[str]) -> str:
        if match.group(1) not in env:
            raise KeyError(f"app setting {match.group(1)} is not set (binding expression {value!r})")
        return env[match.group(1)]
    return _SETTING.sub(setting, value)


_REGISTERED: dict[int, list[Any]] = {}


def registered_functions(app: func.FunctionApp) -> list[Any]:
    """``app.get_functions()``, which may be called only once per app object (it builds them)."""
    if id(app) not in _REGISTERED:
        _REGISTERED[id(app)] = list(app.get_functions())
    return _REGISTERED[id(app)]


class _Out:
    def __init__(self) -> None:
        self.value: Any = None

    def set(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


@dataclass
class Invocation:
    function: str
    seconds: float
    ok: bool


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _route_pattern(route: str) -> re.Pattern[str]:
    """``investigations/{id}`` → a regex with a named group per parameter (``{id:int}`` and ``{id?}`` too)."""
    parts = re.split(r"(\{[^}]+\})", route.strip("/"))
    regex = ""
    for part in parts:
        if part.startswith("{"):
            name = part[1:-1].split(":")[0].rstrip("?")
            regex += f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^/api/{regex}/?$", re.IGNORECASE)


@dataclass
class LocalHost:
    app: func.FunctionApp
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    host_json: Path = Path(__file__).resolve().parent.parent / "host.json"
    lease_s: int = 60  # the host leases for 10 minutes; shorter here so crash tests recover quickly
    retry_visibility_s: int | None = None  # None: host.json's visibilityTimeout
    threads: int | None = None  # None: one message at a time; N: one instance, a worker with N threads
    invocations: list[Invocation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # failures around invocations (concurrent mode)
    # The keys the host would keep in its secrets store: function keys, and the master key.
    function_keys: dict[str, str] = field(default_factory=lambda: {"default": secrets.token_urlsafe(32)})
    master_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def __post_init__(self) -> None:
        queues = json.loads(self.host_json.read_text()).get("extensions", {}).get("queues", {})
        self.batch_size = int(queues.get("batchSize", 16))
        self.new_batch_threshold = int(queues.get("newBatchThreshold", self.batch_size // 2))
        self.max_dequeue = int(queues.get("maxDequeueCount", 5))
        hms = [int(p) for p in str(queues.get("visibilityTimeout", "00:00:00")).split(":")]
        if self.retry_visibility_s is None:
            self.retry_visibility_s = hms[0] * 3600 + hms[1] * 60 + hms[2]
        self.base64 = queues.get("messageEncoding", "base64") == "base64"
        self.functions: dict[str, tuple[dict[str, Any], Callable[..., Any]]] = {}
        for function in registered_functions(self.app):
            meta = json.loads(function.get_function_json())
            self.functions[str(function.get_function_name())] = (meta, function.get_user_function())
        self._clients: dict[tuple[str, str], QueueClient] = {}
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._pool: ThreadPoolExecutor | None = None

    def _client(self, connection: str, name: str) -> QueueClient:
        """A raw client (the host does its own base64), the queue created on first use."""
        with self._lock:
            if (connection, name) not in self._clients:
                client = QueueClient.from_connection_string(self.env[connection], name)
                try:
                    client.create_queue()
                except ResourceExistsError:
                    pass
                self._clients[connection, name] = client
            return self._clients[connection, name]

    def _queue(self, binding: Mapping[str, Any]) -> QueueClient:
        return self._client(binding["connection"], resolve(binding["queueName"], self.env))

    def _trigger(self, name: str) -> dict[str, Any]:
        meta, _ = self.functions[name]
        return next(b for b in meta["bindings"] if b["direction"] == "IN" and b["type"].endswith("Trigger"))

    def _invoke(self, name: str, kwargs: dict[str, Any]) -> bool:
        _, user = self.functions[name]
        started = time.perf_counter()
        ok = True
        try:
            user(**kwargs)
        except Exception:  # a failed invocation is data for the queue semantics
            ok = False
        self.invocations.append(Invocation(name, time.perf_counter() - started, ok))
        return ok

    def _encode(self, text: str) -> str:
        return base64.b64encode(text.encode()).decode() if self.base64 else text

    def _decode(self, content: str) -> bytes:
        return base64.b64decode(content, validate=True) if self.base64 else content.encode()

    # ---- timers ----------------------------------------------------------------------------
    def tick(self, name: str, past_due: bool = False) -> int:
        """Run a timer function once and perform its queue output bindings; returns messages sent."""
        meta, _ = self.functions[name]
        outputs = {b["name"]: (b, _Out()) for b in meta["bindings"] if b["direction"] == "OUT"}
        trigger = self._trigger(name)
        kwargs: dict[str, Any] = {trigger["name"]: TimerRequest(past_due=past_due)}
        kwargs.update({arg: out for arg, (_, out) in outputs.items()})
        sent = 0
        if self._invoke(name, kwargs):
            for binding, out in outputs.values():
                values = out.get()
                for value in values if isinstance(values, list) else [] if values is None else [values]:
                    self._queue(binding).send_message(self._encode(value))
                    sent += 1
        return sent

    # ---- queue triggers --------------------------------------------------------------------
    def _queue_functions(self) -> list[str]:
        return [n for n in self.functions if self._trigger(n)["type"] == "queueTrigger"]

    def pump(self, name: str) -> int:
        """One poll of a queue trigger: run every message received (up to batchSize); returns how many."""
        trigger = self._trigger(name)
        queue = self._queue(trigger)
        handled = 0
        for message in queue.receive_messages(max_messages=self.batch_size, visibility_timeout=self.lease_s):
            handled += 1
            self._handle(name, message)
        return handled

    def _handle(self, name: str, message: Any) -> None:
        """One received message: run the function, then delete, retry later, or poison it."""
        trigger = self._trigger(name)
        queue = self._queue(trigger)
        poison = self._client(trigger["connection"], f"{queue.queue_name}-poison")
        dequeue_count = message.dequeue_count or 1
        if dequeue_count > self.max_dequeue:
            self._poison(queue, poison, message)
            return
        try:
            body = self._decode(message.content)
        except ValueError:
            ok = False  # the host cannot bind it either: it fails until poisoned
        else:
            trigger_message = QueueMessage(  # type: ignore[no-untyped-call]
                id=message.id, body=body, dequeue_count=dequeue_count, pop_receipt=message.pop_receipt)
            ok = self._invoke(name, {trigger["name"]: trigger_message})
        if ok:
            queue.delete_message(message)
        elif dequeue_count >= self.max_dequeue:
            self._poison(queue, poison, message)
        else:
            queue.update_message(message, visibility_timeout=self.retry_visibility_s or 0)

    # ---- one instance, concurrently --------------------------------------------------------
    def _finished(self, name: str, future: Future[Any]) -> None:
        with self._lock:
            self._in_flight[name] -= 1
        error = future.exception()
        if error is not None:  # storage failed around the invocation: the lease expires, it comes back
            self.errors.append(f"{name}: {type(error).__name__}: {error}")

    def _dispatch(self, name: str) -> int:
        """Lease a new batch for a queue trigger when few enough are in flight; returns how many."""
        assert self._pool is not None
        with self._lock:
            if self._in_flight.get(name, 0) > self.new_batch_threshold:
                return 0
        queue = self._queue(self._trigger(name))
        messages = list(queue.receive_messages(max_messages=self.batch_size, visibility_timeout=self.lease_s))
        for message in messages:
            with self._lock:
                self._in_flight[name] = self._in_flight.get(name, 0) + 1
            future = self._pool.submit(self._handle, name, message)
            future.add_done_callback(functools.partial(self._finished, name))
        return len(messages)

    def in_flight(self) -> int:
        with self._lock:
            return sum(self._in_flight.values())

    # ---- HTTP triggers ---------------------------------------------------------------------
    def http(self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes = b"") -> HttpAnswer:
        """One request, as the host would route it: 404 for no route, 405 for a method not declared,
        401 without a valid key where the function's authLevel asks for one."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        matched_route = False
        for name in self.functions:
            trigger = self._trigger(name)
            if trigger["type"] != "httpTrigger":
                continue
            match = _route_pattern(trigger.get("route") or name).match(parts.path)
            if match is None:
                continue
            matched_route = True
            if method.upper() not in [m.upper() for m in trigger.get("methods") or ("GET", "POST")]:
                continue
            level = str(trigger.get("authLevel", "FUNCTION")).upper()
            key = lowered.get("x-functions-key") or query.get("code")
            allowed = {self.master_key} | (set(self.function_keys.values()) if level == "FUNCTION" else set())
            if level != "ANONYMOUS" and key not in allowed:
                return HttpAnswer(401, {}, b"")
            request = func.HttpRequest(method.upper(), url, headers=dict(headers or {}), params=query,
                                       route_params=match.groupdict(), body=body)
            started = time.perf_counter()
            try:
                response = self.functions[name][1](**{trigger["name"]: request})
                ok = True
            except Exception:  # the host answers 500 for an unhandled exception
                response, ok = func.HttpResponse(status_code=500), False
            self.invocations.append(Invocation(name, time.perf_counter() - started, ok))
            answer_headers = dict(response.headers)
            if response.mimetype:
                answer_headers.setdefault("Content-Type", response.mimetype)
            return HttpAnswer(response.status_code, answer_headers, response.get_body() or b"")
        return HttpAnswer(405 if matched_route else 404, {}, b"")

    def serve_http(self) -> tuple[str, ThreadingHTTPServer]:
        """Serve the HTTP triggers on 127.0.0.1 (a free port); returns the base URL and the server
        (``shutdown()`` it). Requests run on the server's threads, alongside ``pump``."""
        host = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = host.http(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}", server

    @staticmethod
    def _poison(queue: QueueClient, poison: QueueClient, message: Any) -> None:
        poison.send_message(message.content)  # a new message with the original body, as the host does
        queue.delete_message(message)

    def run_until(self, done: Callable[[], bool], timeout_s: float, idle_sleep_s: float = 0.2,
                  timers: Mapping[str, float] | None = None) -> bool:
        """Pump every queue trigger (and tick ``timers``, name → every N seconds) until ``done()`` or the
        timeout; sleeps only when all were idle. With ``threads``, returns once the invocations in
        flight have finished too."""
        if self.threads is not None:
            return self._run_concurrently(done, timeout_s, idle_sleep_s, timers or {})
        deadline = time.monotonic() + timeout_s
        next_tick = {name: 0.0 for name in timers or {}}
        while time.monotonic() < deadline:
            if done():
                return True
            busy = sum(self.pump(name) for name in self._queue_functions())
            for name, every in (timers or {}).items():
                if time.monotonic() >= next_tick[name]:
                    self.tick(name)
                    next_tick[name] = time.monotonic() + every
            if busy == 0:
                time.sleep(idle_sleep_s)
        return done()

    def _run_concurrently(self, done: Callable[[], bool], timeout_s: float, idle_sleep_s: float,
                          timers: Mapping[str, float]) -> bool:
        deadline = time.monotonic() + timeout_s
        next_tick = {name: 0.0 for name in timers}
        running: dict[str, Future[Any]] = {}
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="localhost-worker")
        try:
            while time.monotonic() < deadline:
                if done():
                    return True
                busy = 0
                for name in self._queue_functions():
                    try:
                        busy += self._dispatch(name)
                    except Exception as exc:  # storage unreachable: the host logs it and polls again
                        self.errors.append(f"{name}: receive: {type(exc).__name__}: {exc}")
                for name, every in timers.items():
                    previous = running.get(name)
                    if time.monotonic() >= next_tick[name] and (previous is None or previous.done()):
                        running[name] = self._pool.submit(self.tick, name)
                        next_tick[name] = time.monotonic() + every
                if busy == 0:
                    time.sleep(idle_sleep_s)
            return done()
        finally:
            self._pool.shutdown(wait=True)
            self._pool = None
