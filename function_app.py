"""nwcheck's Azure Functions app: a switchboard.

Each function decodes its trigger, calls one function in ``shared.runtime`` and returns. All the
domain code lives in ``shared/`` so it is testable without the Functions host.

- ``sweep`` (timer, ``%TIMER_SCHEDULE%``): one check request per target due this minute.
- ``check_requests`` (queue ``%REQUESTS_QUEUE%``): validate a request, start the operation.
- ``check_urgent_requests`` (queue ``%URGENT_QUEUE%``): the same for investigations and other
  high-priority requests, on their own queue so that a sweep's backlog does not delay them.
- ``check_steps`` (queue ``%POLLS_QUEUE%``, written only by the app): poll or retry, until one result.
- ``ingest`` (timer, ``%INGEST_SCHEDULE%``): results into Log Analytics in batches; alerts;
  investigations whose checks are done; and, hourly, old investigations out of Table storage.
- ``topology`` (timer, ``%TOPOLOGY_SCHEDULE%``): refresh the inventory of NICs, subnets and NSGs
  that links an alerted resource to the targets it involves.
- ``investigate`` (HTTP POST ``/api/investigations``, function key): an Azure Monitor alert (common
  alert schema) or a simple request → a bundle of checks on the urgent queue; 202 with their ids.
- ``investigation`` (HTTP GET ``/api/investigations/{id}``, function key): its status and summary.
"""

from __future__ import annotations

import datetime as dt

import azure.functions as func

from shared import runtime

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
CONNECTION = runtime.CONNECTION


@app.timer_trigger(arg_name="timer", schedule="%TIMER_SCHEDULE%", run_on_startup=False, use_monitor=True)
@app.queue_output(arg_name="requests", queue_name="%REQUESTS_QUEUE%", connection=CONNECTION)
def sweep(timer: func.TimerRequest, requests: func.Out[list[str]]) -> None:
    requests.set(runtime.sweep(dt.datetime.now(dt.UTC), past_due=bool(timer.past_due)))


@app.queue_trigger(arg_name="msg", queue_name="%REQUESTS_QUEUE%", connection=CONNECTION)
def check_requests(msg: func.QueueMessage) -> None:
    runtime.handle_request(msg.get_body(), msg.id or "", msg.dequeue_count or 1)


@app.queue_trigger(arg_name="msg", queue_name="%URGENT_QUEUE%", connection=CONNECTION)
def check_urgent_requests(msg: func.QueueMessage) -> None:
    runtime.handle_request(msg.get_body(), msg.id or "", msg.dequeue_count or 1, urgent=True)


@app.queue_trigger(arg_name="msg", queue_name="%POLLS_QUEUE%", connection=CONNECTION)
def check_steps(msg: func.QueueMessage) -> None:
    runtime.handle_step(msg.get_body(), msg.id or "", msg.dequeue_count or 1)


@app.timer_trigger(arg_name="timer", schedule="%INGEST_SCHEDULE%", run_on_startup=False, use_monitor=False)
def ingest(timer: func.TimerRequest) -> None:
    runtime.ingest()


@app.timer_trigger(arg_name="timer", schedule="%TOPOLOGY_SCHEDULE%", run_on_startup=False, use_monitor=True)
def topology(timer: func.TimerRequest) -> None:
    runtime.refresh_topology()


def _json(status: int, text: str) -> func.HttpResponse:
    return func.HttpResponse(text, status_code=status, mimetype="application/json")


@app.route(route="investigations", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def investigate(req: func.HttpRequest) -> func.HttpResponse:
    answer = runtime.investigate(req.get_body(), req.headers.get("content-type"), req.headers.get("content-length"))
    return _json(answer.status, answer.text())


@app.route(route="investigations/{id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def investigation(req: func.HttpRequest) -> func.HttpResponse:
    answer = runtime.investigation(req.route_params.get("id", ""))
    return _json(answer.status, answer.text())
