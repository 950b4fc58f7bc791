"""Reading an action's parameters: presence, types and ranges, each failure a KMS MissingParameter or
InvalidParameter naming the parameter (never echoing its value: it may be plaintext or key material)."""

import base64
import binascii
import json
import re
from dataclasses import dataclass

from localcloud.kms import errors

_INTEGER = re.compile(r"^-?\d{1,12}$")
_INTERVAL = re.compile(r"^(\d{1,9})([dhms])$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    def slice(self, queryset):
        start = (self.number - 1) * self.size
        return queryset[start : start + self.size]

    def envelope(self, total: int) -> dict:
        return {"PageNumber": self.number, "PageSize": self.size, "TotalCount": total}


class Params:
    """The request's parameters by name (query and form body; the last duplicate wins)."""

    def __init__(self, values: dict[str, str]):
        self._values = values

    def _get(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is not None and "\0" in value:  # PostgreSQL text cannot hold NUL; no KMS value has one
            raise errors.invalid(name, "It must not contain NUL characters.")
        return value

    def optional(self, name: str, default: str | None = None) -> str | None:
        value = self._get(name)
        return default if value is None or value == "" else value

    def required(self, name: str, *, allow_empty: bool = False) -> str:
        value = self._get(name) if allow_empty else self.optional(name)
        if value is None:
            raise errors.missing(name)
        return value

    def choice(self, name: str, allowed, default: str | None = None) -> str | None:
        value = self.optional(name, default)
        if value is not None and value not in allowed:
            raise errors.invalid(name, f"Valid values: {', '.join(allowed)}.")
        return value

    def integer(self, name: str, minimum: int, maximum: int, default: int | None = None) -> int | None:
        value = self.optional(name)
        if value is None:
            return default
        if not _INTEGER.match(value) or not minimum <= int(value) <= maximum:
            raise errors.invalid(name, f"It must be an integer from {minimum} to {maximum}.")
        return int(value)

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.optional(name)
        if value is None:
            return default
        # The SDK sends Python booleans as True/False; hand-written requests send true/false.
        if value.lower() not in ("true", "false"):
            raise errors.invalid(name, "It must be true or false.")
        return value.lower() == "true"

    def base64(self, name: str, *, required: bool = True) -> bytes | None:
        value = self.required(name) if required else self.optional(name)
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise errors.invalid(name, "It must be Base64-encoded.") from None

    def json(self, name: str, expected_type: type):
        value = self.optional(name)
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise errors.invalid(name, "It must be a JSON document.") from None
        if not isinstance(parsed, expected_type):
            raise errors.invalid(name, f"It must be a JSON {'object' if expected_type is dict else 'array'}.")
        return parsed

    def page(self) -> Page:
        return Page(
            self.integer("PageNumber", 1, 10**9, default=1),
            self.integer("PageSize", 1, MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE),
        )

    def interval_seconds(self, name: str, minimum: int, maximum: int) -> int | None:
        """`7d`, `168h`, `604800s`: KMS rotation periods, an integer and a unit."""
        value = self.optional(name)
        if value is None:
            return None
        match = _INTERVAL.match(value)
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)] if match else -1
        if not minimum <= seconds <= maximum:
            raise errors.invalid(name, f"It must be from {minimum // 86400}d to {maximum // 86400}d, like 30d.")
        return seconds
