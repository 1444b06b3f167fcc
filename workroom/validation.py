"""Reading JSON request bodies field by field, with one clear error per bad field (422)."""

from __future__ import annotations

import builtins
from datetime import date, datetime
from typing import Any

from workroom.clock import parse_iso
from workroom.errors import ApiError, invalid

_MISSING = object()


class Fields:
    """A JSON object whose fields are read with a type, bounds, and a 422 that names the field."""

    def __init__(self, data: Any, prefix: builtins.str = "") -> None:
        if not isinstance(data, dict):
            raise ApiError(400, "bad_json", f"{prefix or 'The body'} must be a JSON object.")
        self.data = data
        self.prefix = prefix

    def _name(self, key: builtins.str) -> builtins.str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def _get(self, key: builtins.str, required: builtins.bool) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise ApiError(422, "missing_field", f"{self._name(key)} is required.")
            return _MISSING
        return value

    # The readers are named after the JSON types they read, so in this class `str`, `int`, `bool`
    # and `list` are methods: annotations spell the built-in types `builtins.<type>`.
    def str(self, key: builtins.str, *, required: builtins.bool = True, max_len: builtins.int = 10_000,
            min_len: builtins.int = 1, default: builtins.str | None = None,
            choices: tuple[builtins.str, ...] | None = None) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            raise invalid(self._name(key), "must be a string")
        value = value.strip()
        if len(value) < min_len:
            raise invalid(self._name(key), "must not be empty")
        if len(value) > max_len:
            raise ApiError(422, "too_long", f"{self._name(key)} is longer than {max_len} characters.")
        if choices is not None and value not in choices:
            raise invalid(self._name(key), f"must be one of {', '.join(choices)}")
        return value

    def int(self, key: builtins.str, *, required: builtins.bool = True, minimum: builtins.int | None = None,
            maximum: builtins.int | None = None, default: builtins.int | None = None) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(self._name(key), "must be an integer")
        if minimum is not None and value < minimum:
            raise invalid(self._name(key), f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise invalid(self._name(key), f"must be at most {maximum}")
        return value

    def bool(self, key: builtins.str, *, required: builtins.bool = False, default: builtins.bool = False) -> builtins.bool:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            raise invalid(self._name(key), "must be true or false")
        return value

    def datetime(self, key: builtins.str, *, required: builtins.bool = False) -> datetime | None:
        value = self.str(key, required=required, max_len=64)
        if value is None:
            return None
        try:
            return parse_iso(value)
        except ValueError:
            raise invalid(self._name(key), "must be an ISO 8601 time") from None

    def date(self, key: builtins.str, *, required: builtins.bool = False) -> date | None:
        value = self.str(key, required=required, max_len=32)
        if value is None:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise invalid(self._name(key), "must be an ISO 8601 date") from None

    def email(self, key: builtins.str, *, required: builtins.bool = True) -> Any:
        value = self.str(key, required=required, max_len=320)
        if value is not None and ("@" not in value or value.startswith("@") or value.endswith("@") or " " in value):
            raise invalid(self._name(key), "must be an email address")
        return value

    def object(self, key: builtins.str, *, required: builtins.bool = True) -> "Fields | None":
        value = self._get(key, required)
        if value is _MISSING:
            return None
        return Fields(value, self._name(key)) if isinstance(value, dict) else _raise(invalid(self._name(key), "must be an object"))

    def list(self, key: builtins.str, *, required: builtins.bool = False,
             max_items: builtins.int = 1000) -> builtins.list[Any]:
        value = self._get(key, required)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            raise invalid(self._name(key), "must be a list")
        if len(value) > max_items:
            raise ApiError(422, "too_many", f"{self._name(key)} has more than {max_items} items.")
        return value

    def objects(self, key: builtins.str, *, required: builtins.bool = False, max_items: builtins.int = 1000) -> builtins.list["Fields"]:
        return [Fields(item, f"{self._name(key)}[{i}]") for i, item in enumerate(self.list(key, required=required, max_items=max_items))]


def _raise(error: ApiError) -> Any:
    raise error
