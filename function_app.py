"""nwcheck's Azure Functions app: a switchboard.

Each function decodes its trigger, calls one function in ``shared.runtime`` and returns. All the
domain code lives in ``shared/`` so it is testable without the Functions host.

- ``sweep`` (timer, ``%TIMER_SCHEDULE%``): one check request per target due this minute.
- ``check_requests`` (queue ``%REQUESTS_QUEUE%``): validate a request, start the operation.
- ``check_steps`` (queue ``%POLLS_QUEUE%``, written only by the app): poll or retry, until one result.
- ``ingest`` (timer, ``%INGEST_SCHEDULE%``): results into Log Analytics in batches.
"""

from __future__ import annotations

import datetime as dt

import azure.functions as func

from shared import runtime

app = func.FunctionApp()
CONNECTION = runtime.CONNECTION


@app.timer_trigger(arg_name="timer", schedule="%TIMER_SCHEDULE%", run_on_startup=False, use_monitor=True)
@app.queue_output(arg_name="requests", queue_name="%REQUESTS_QUEUE%", connection=CONNECTION)
def sweep(timer: func.TimerRequest, requests: func.Out[list[str]]) -> None:
    requests.set(runtime.sweep(dt.datetime.now(dt.UTC), past_due=bool(timer.past_due)))


@app.queue_trigger(arg_name="msg", queue_name="%REQUESTS_QUEUE%", connection=CONNECTION)
def check_requests(msg: func.QueueMessage) -> None:
    runtime.handle_request(msg.get_body(), msg.id or "", msg.dequeue_count or 1)


@app.queue_trigger(arg_name="msg", queue_name="%POLLS_QUEUE%", connection=CONNECTION)
def check_steps(msg: func.QueueMessage) -> None:
    runtime.handle_step(msg.get_body(), msg.id or "", msg.dequeue_count or 1)


@app.timer_trigger(arg_name="timer", schedule="%INGEST_SCHEDULE%", run_on_startup=False, use_monitor=False)
def ingest(timer: func.TimerRequest) -> None:
    runtime.ingest()
