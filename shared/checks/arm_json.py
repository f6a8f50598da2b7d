"""Read a JSON object from an ARM result the way a client of a modelAsString API must.

Strict about types: a number must be a JSON integer (``true`` is not 1, ``1.5`` is not a count),
a string must be a string, a list a list. Tolerant about everything else: unknown properties are
ignored, ``null`` is read as absent (as ARM itself does), property names match case-insensitively
when the exact name is absent, and text longer than ``MAX_TEXT`` is cut rather than rejected.
"""

from __future__ import annotations

from typing import Any

from shared.results import MAX_TEXT

from .base import InvalidArmResult

INT32_MAX = 2**31 - 1


def show(value: Any) -> str:
    """A short, safe rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def canonical(value: str, known: tuple[str, ...]) -> str:
    """The known enum spelling of ``value`` (case-insensitive), else ``value`` as ARM sent it."""
    wanted = value.strip().lower()
    for option in known:
        if option.lower() == wanted:
            return option
    return value


class ArmObject:
    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise InvalidArmResult(f"{path or 'result'}: must be a JSON object (got {show(data)})")
        self.data = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        if key in self.data:
            return self.data[key]
        for name, value in self.data.items():
            if isinstance(name, str) and name.lower() == key.lower():
                return value
        return None

    def text(self, key: str) -> str | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidArmResult(f"{self.at(key)}: must be a string (got {show(value)})")
        return value[:MAX_TEXT]

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise InvalidArmResult(f"{self.at(key)}: is required")
        if not value.strip():
            raise InvalidArmResult(f"{self.at(key)}: must not be empty")
        return value

    def count(self, key: str) -> int | None:
        """An int32 count or milliseconds value, never negative."""
        value = self.get(key)
        if value is None:
            return None
        if type(value) is not int:
            raise InvalidArmResult(f"{self.at(key)}: must be an integer (got {show(value)})")
        if not 0 <= value <= INT32_MAX:
            raise InvalidArmResult(f"{self.at(key)}: must be within 0..{INT32_MAX} (got {show(value)})")
        return value

    def items(self, key: str) -> list[Any]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidArmResult(f"{self.at(key)}: must be a list (got {show(value)})")
        return value

    def objects(self, key: str) -> list[ArmObject]:
        return [ArmObject(item, f"{self.at(key)}[{i}]") for i, item in enumerate(self.items(key))]

    def texts(self, key: str) -> list[str]:
        result = []
        for i, item in enumerate(self.items(key)):
            if not isinstance(item, str):
                raise InvalidArmResult(f"{self.at(key)}[{i}]: must be a string (got {show(item)})")
            result.append(item[:MAX_TEXT])
        return result
