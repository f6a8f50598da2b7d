"""The Logs Ingestion API of a data collection endpoint.

``POST /dataCollectionRules/{immutableId}/streams/{stream}?api-version=2023-01-01``, gzip or plain
JSON arrays, a bearer token for ``https://monitor.azure.com``. Every row is validated against the
stream declaration of its data collection rule, which is loaded from the same ``infra/tables/*.json``
files the Bicep and the app read. Accepted rows are kept so tests can query them.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.faults import Faults
from emulator.httpserver import Reply, Request
from emulator.tokens import MONITOR_AUDIENCES, TokenIssuer, TokenRejected

MAX_BODY_BYTES = 1024 * 1024  # 1 MB per call, compressed and uncompressed
MAX_FIELD_BYTES = 64 * 1024  # longer string values are truncated, as Azure does
API_VERSIONS = frozenset({"2023-01-01", "2021-11-01-preview"})
TABLES_DIR = Path(__file__).resolve().parent.parent / "infra" / "tables"
_PATH = re.compile(r"^/dataCollectionRules/([^/]+)/streams/([^/]+)$", re.IGNORECASE)


def load_stream_declarations(directory: Path = TABLES_DIR) -> dict[str, dict[str, str]]:
    """Stream name → {column: type}, from the project's table files."""
    streams: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.json")):
        spec = json.loads(path.read_text())
        streams[spec["stream"]] = {c["name"]: c["type"] for c in spec["columns"]}
    return streams


def _type_error(value: Any, kind: str) -> str | None:
    """Why ``value`` is not a valid ``kind`` column value, or None. Nulls are always allowed."""
    if value is None or kind == "dynamic":
        return None
    if kind == "string":
        return None if isinstance(value, str) else "expected a string"
    if kind in ("int", "long"):
        return None if isinstance(value, int) and not isinstance(value, bool) else "expected an integer"
    if kind == "real":
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "expected a number"
    if kind == "boolean":
        return None if isinstance(value, bool) else "expected true or false"
    if kind == "datetime":
        if not isinstance(value, str):
            return "expected an ISO-8601 date-time string"
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "expected an ISO-8601 date-time string"
        return None
    return f"unsupported column type {kind}"


class _Rejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class IngestionService:
    issuer: TokenIssuer
    faults: Faults
    rule_id: str = "dcr-00000000000000000000000000000001"
    streams: dict[str, dict[str, str]] = field(default_factory=load_stream_declarations)
    name: str = "ingestion"
    rows: list[dict[str, Any]] = field(default_factory=list)  # {"stream":..., "row":..., "request":...}
    calls: int = 0
    truncated_fields: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rows_of(self, stream: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r["row"] for r in self.rows if r["stream"] == stream]

    def clear(self) -> None:
        with self._lock:
            self.rows.clear()
            self.calls = 0

    def handle(self, request: Request) -> Reply:
        fault = self.faults.take("ingestion", "upload")
        delay = 0.0
        if fault is not None:
            if fault.kind == "reset":
                return Reply(0, reset=True)
            if fault.kind == "slow":
                delay = fault.seconds
            else:
                headers = {"x-ms-error-code": fault.code}
                if fault.status in (429, 503) or fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 1)
                return Reply.json(fault.status, {"error": {"code": fault.code, "message": fault.message}}, headers)
        try:
            reply = self._upload(request)
        except TokenRejected as exc:
            reply = Reply.json(401, {"error": {"code": exc.code, "message": exc.message}},
                               {"x-ms-error-code": exc.code})
        except _Rejected as exc:
            reply = Reply.json(exc.status, {"error": {"code": exc.code, "message": exc.message}},
                               {"x-ms-error-code": exc.code})
        reply.delay_s = delay
        return reply

    def _upload(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if request.method != "POST" or match is None:
            raise _Rejected(404, "NotFound", f"No such endpoint: {request.method} {request.path}")
        self.issuer.verify(request.header("Authorization"), MONITOR_AUDIENCES)
        version = request.param("api-version")
        if version not in API_VERSIONS:
            raise _Rejected(400, "InvalidApiVersion", f"api-version must be one of {sorted(API_VERSIONS)}, "
                                                      f"not {version!r}.")
        rule_id, stream = match.group(1), match.group(2)
        if rule_id != self.rule_id:
            raise _Rejected(404, "NotFound", f"Data collection rule with immutable Id '{rule_id}' not found.")
        columns = self.streams.get(stream)
        if columns is None:
            raise _Rejected(404, "InvalidStream", f"Stream '{stream}' is not declared in data collection rule "
                                                  f"'{rule_id}'. Declared: {sorted(self.streams)}.")
        if len(request.body) > MAX_BODY_BYTES:
            raise _Rejected(413, "ContentLengthLimitExceeded", f"The request body is {len(request.body)} bytes; "
                                                               f"the limit is {MAX_BODY_BYTES}.")
        body = request.body
        if (request.header("Content-Encoding") or "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError):
                raise _Rejected(400, "InvalidContentEncoding", "The body is not valid gzip.") from None
            if len(body) > MAX_BODY_BYTES:
                raise _Rejected(413, "ContentLengthLimitExceeded", f"The uncompressed body is {len(body)} bytes; "
                                                                   f"the limit is {MAX_BODY_BYTES}.")
        try:
            rows = json.loads(body)
        except ValueError:
            raise _Rejected(400, "InvalidContentFormat", "The body is not valid JSON.") from None
        if not isinstance(rows, list):
            raise _Rejected(400, "InvalidContentFormat", "The body must be a JSON array of objects.")
        accepted = [self._validate_row(i, row, columns) for i, row in enumerate(rows)]
        request_id = str(uuid.uuid4())
        with self._lock:
            self.calls += 1
            self.rows.extend({"stream": stream, "row": row, "request": request_id} for row in accepted)
        return Reply(204, b"", {"x-ms-request-id": request_id})

    def _validate_row(self, index: int, row: Any, columns: dict[str, str]) -> dict[str, Any]:
        if not isinstance(row, dict):
            raise _Rejected(400, "InvalidContentFormat", f"Row {index} is not a JSON object.")
        unknown = sorted(set(row) - set(columns))
        if unknown:
            raise _Rejected(400, "InvalidColumn", f"Row {index}: columns not declared in the stream: {unknown}.")
        kept = {}
        for name, value in row.items():
            problem = _type_error(value, columns[name])
            if problem:
                raise _Rejected(400, "InvalidColumnType",
                                f"Row {index}: column '{name}' ({columns[name]}): {problem}, got {value!r:.80}.")
            if isinstance(value, str) and len(value.encode()) > MAX_FIELD_BYTES:
                value = value.encode()[:MAX_FIELD_BYTES].decode(errors="ignore")
                with self._lock:
                    self.truncated_fields += 1
            kept[name] = value
        return kept
