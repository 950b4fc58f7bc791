"""The subset of the RAM policy language localcloud enforces on access keys: pure functions, no database.

A document is `{"Version": "1", "Statement": [{"Effect", "Action", "Resource"}, ...]}`. `Action` and `Resource`
are a string or a list of strings with the wildcards `*` (any run of characters) and `?` (one character).
Actions match case-insensitively, as RAM matches them (`OSS:getobject` is `oss:GetObject`); resources match
exactly. An explicit Deny wins over any Allow, and whatever no statement allows is denied.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

ALLOW, DENY = "Allow", "Deny"
VERSION = "1"
STATEMENT_FIELDS = {"Effect", "Action", "Resource"}
# Explicit answers, so a denial can say which kind it was (OSS tells them apart: ImplicitDeny / ExplicitDeny).
ALLOWED, IMPLICIT_DENY, EXPLICIT_DENY = "Allowed", "ImplicitDeny", "ExplicitDeny"
MAX_DOCUMENT_CHARACTERS = 6144  # a RAM custom policy holds at most 6,144 characters


class PolicyError(ValueError):
    """A document this language cannot enforce; the message names the statement and field at fault."""


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def __post_init__(self):
        # Compiled once per parse (a key's policy is parsed once and cached): a check is two regex matches.
        object.__setattr__(self, "_actions", _alternatives(self.actions, ignore_case=True))
        object.__setattr__(self, "_resources", _alternatives(self.resources, ignore_case=False))

    def matches(self, action: str, resource: str) -> bool:
        return bool(self._actions.fullmatch(action)) and bool(self._resources.fullmatch(resource))


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    def decide(self, action: str, resource: str) -> str:
        """ALLOWED, EXPLICIT_DENY (a Deny statement matches) or IMPLICIT_DENY (no Allow statement matches)."""
        matching = [statement.effect for statement in self.statements if statement.matches(action, resource)]
        if DENY in matching:
            return EXPLICIT_DENY
        return ALLOWED if ALLOW in matching else IMPLICIT_DENY

    def allows(self, action: str, resource: str) -> bool:
        return self.decide(action, resource) == ALLOWED


def _wildcards(text: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def _alternatives(patterns: tuple[str, ...], *, ignore_case: bool) -> re.Pattern:
    body = "|".join(f"(?:{_wildcards(pattern)})" for pattern in patterns)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def parse(document: dict | str) -> Policy:
    """The policy of a document (a dict or its JSON text); raises PolicyError saying what is wrong."""
    if isinstance(document, str):
        if len(document) > MAX_DOCUMENT_CHARACTERS:
            raise PolicyError(f"The policy document is longer than {MAX_DOCUMENT_CHARACTERS} characters.")
        try:
            document = json.loads(document)
        except ValueError as error:
            raise PolicyError(f"The policy document is not JSON: {error}.") from None
    if not isinstance(document, dict):
        raise PolicyError("The policy document must be a JSON object with Version and Statement.")
    unknown = sorted(set(document) - {"Version", "Statement"})
    if unknown:
        raise PolicyError(f"The policy document has an unknown field {unknown[0]!r}: only Version and Statement.")
    if document.get("Version") != VERSION:
        raise PolicyError(f'The policy document needs "Version": "{VERSION}".')
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise PolicyError("The policy document needs a non-empty Statement list.")
    return Policy(tuple(_statement(number, item) for number, item in enumerate(statements, start=1)))


def _statement(number: int, item) -> Statement:
    where = f"Statement {number}"
    if not isinstance(item, dict):
        raise PolicyError(f"{where} must be an object with Effect, Action and Resource.")
    unknown = sorted(set(item) - STATEMENT_FIELDS)
    if unknown:
        raise PolicyError(f"{where} has the field {unknown[0]!r}, which localcloud does not enforce.")
    missing = sorted(STATEMENT_FIELDS - set(item))
    if missing:
        raise PolicyError(f"{where} has no {missing[0]}.")
    if item["Effect"] not in (ALLOW, DENY):
        raise PolicyError(f"{where}: Effect must be Allow or Deny, not {item['Effect']!r}.")
    actions, resources = _strings(where, "Action", item["Action"]), _strings(where, "Resource", item["Resource"])
    return Statement(item["Effect"], actions, resources)


def _strings(where: str, field: str, value) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise PolicyError(f"{where}: {field} must be a non-empty string or a list of non-empty strings.")
    if field == "Action":
        for action in values:
            if action != "*" and ":" not in action:
                raise PolicyError(f"{where}: the action {action!r} is not service:Name (e.g. oss:GetObject).")
    return tuple(values)
