"""The target list as a document: its errors (:class:`TargetError`, :class:`TargetListError`) and
``load_document``, which reads JSON or YAML text into plain data, refusing duplicate keys."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from shared.target_list.patterns import MAX_BYTES


@dataclass(frozen=True)
class TargetError:
    """One problem: ``target`` is the target's name (None if it has none yet), ``index`` its place
    in ``targets`` (None for an inline target or the file itself), ``field`` a dotted path."""

    target: str | None
    field: str
    reason: str
    index: int | None = None

    def __str__(self) -> str:
        where = (f"targets[{self.target}]" if self.target is not None
                 else f"targets[#{self.index}]" if self.index is not None else "")
        dot = "." if where and self.field and not self.field.startswith("[") else ""
        path = f"{where}{dot}{self.field}"
        return f"{path}: {self.reason}" if path else self.reason


class TargetListError(ValueError):
    """The file, its defaults or an inline target cannot be used; ``errors`` says each reason."""

    def __init__(self, errors: Iterable[TargetError], source: str | None = None) -> None:
        self.errors = tuple(errors)
        self.source = source
        lead = f"{source}: " if source else ""
        super().__init__("\n".join(f"{lead}{error}" for error in self.errors))


class _Loader(yaml.SafeLoader):
    """safe_load that refuses duplicate keys (YAML would silently keep the last one).

    Aliases and merge keys stay allowed (yaml.safe_dump writes them for repeated objects): they share
    objects rather than copy them, and nothing here walks a structure deeper than the format's own
    nesting, so neither an alias bomb nor a self-referencing alias can make reading explode or loop.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<': the base class merges it
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable: the base class reports it
                continue
            if duplicate:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key {_show(key)}", key_node.start_mark)
        return super().construct_mapping(node, deep)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJsonKey(key)
        result[key] = value
    return result


class _DuplicateJsonKey(Exception):
    pass


def load_document(text: str | bytes, source: str = "<targets>") -> Any:
    """The plain data of a JSON or YAML text; TargetListError if it cannot be read safely."""

    def fail(reason: str) -> TargetListError:
        return TargetListError([TargetError(None, "", reason)], source)

    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise fail(f"is {size} bytes long; at most {MAX_BYTES} are accepted")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise fail(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateJsonKey as exc:
        raise fail(f"not valid JSON: duplicate key {_show(exc.args[0])}") from None
    except (ValueError, RecursionError) as exc:
        json_error = exc
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        if text.lstrip().startswith(("{", "[")) and isinstance(json_error, json.JSONDecodeError):
            raise fail(f"not valid JSON: {json_error}") from None
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise fail(f"not valid YAML: {exc.problem or exc.context}{where}") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise fail(f"not valid YAML: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _show(value: Any) -> str:
    """A short, safe rendering of a bad value for an error message (never recursive)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() < 64 else "a very large integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
