"""Typed readers for environment settings that fail loudly on malformed values."""

import base64
import binascii
import math
import os
import re
import secrets
from collections.abc import Collection
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from console.startup import StartRefused

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_choice(name: str, default: str, choices: Collection[str]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {os.environ[name]!r}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of {sorted(TRUE_WORDS | FALSE_WORDS)}, got {raw!r}")


def env_int(name: str, default: int | None, *, minimum: int = 0, maximum: int = 2**31) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


RATE_PERIODS = ("second", "minute", "hour", "day")


def env_rate(name: str, default: str) -> str:
    """A request rate as DRF's throttles read it, e.g. "10/minute": checked here, else it would fail per request."""
    raw = os.environ.get(name, "").strip() or default
    count, _, period = raw.partition("/")
    if not count.isdigit() or period not in RATE_PERIODS:
        raise ImproperlyConfigured(f"{name} must be a count per {'|'.join(RATE_PERIODS)}, e.g. 10/minute; got {raw!r}")
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_probabilities(name: str, kinds: Collection[str]) -> str:
    """A `kind:probability,...` list such as "503:0.05,reset:0.01", returned as written once it parses.

    Kept as a string so that its reader can parse it again (parse_probabilities) after a test changed it.
    """
    raw = os.environ.get(name, "")
    parse_probabilities(name, raw, kinds)
    return raw


def parse_probabilities(name: str, raw: str, kinds: Collection[str]) -> dict[str, float]:
    """kind -> probability from `raw`: each kind one of `kinds` at most once, each probability in [0, 1],
    their sum at most 1. An empty value is no kinds."""
    probabilities: dict[str, float] = {}
    for entry in raw.split(","):
        if not entry.strip():
            continue
        kind, separator, number = (part.strip() for part in entry.partition(":"))
        if not separator or not kind or not number:
            raise ImproperlyConfigured(f"{name}: {entry.strip()!r} is not kind:probability, e.g. 503:0.05")
        if kind not in kinds:
            raise ImproperlyConfigured(f"{name}: unknown kind {kind!r} in {entry.strip()!r}; known: {', '.join(kinds)}")
        if kind in probabilities:
            raise ImproperlyConfigured(f"{name}: {kind!r} is given more than once")
        try:
            probability = float(number)
        except ValueError:
            probability = math.nan
        if not 0 <= probability <= 1:
            raise ImproperlyConfigured(f"{name}: probability in {entry.strip()!r} must be a number from 0 to 1")
        probabilities[kind] = probability
    if math.fsum(probabilities.values()) > 1 + 1e-9:
        raise ImproperlyConfigured(f"{name}: probabilities in {raw.strip()!r} add up to more than 1")
    return probabilities


def given_secret(name: str) -> str:
    """The secret from the environment variable `name`, or from the file `<name>_FILE` names (a mounted secret;
    its trailing newline ignored); "" when neither is set. The value is never printed."""
    value = os.environ.get(name, "")
    file_name = os.environ.get(f"{name}_FILE", "")
    if value and file_name:
        raise StartRefused(f"{name} and {name}_FILE are both set: give the secret one way only.")
    if not file_name:
        return value
    try:
        value = Path(file_name).read_text().rstrip("\r\n")
    except OSError as error:
        raise StartRefused(f"{name}_FILE names {file_name}, which cannot be read: {error.strerror}.") from None
    if not value:
        raise StartRefused(f"{name}_FILE names {file_name}, which is empty.")
    return value


# How to make each secret a shared database needs, told when it is missing (docs/operations.md, "Secrets").
SECRET_RECIPES = {
    "SECRET_KEY": "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'",
    "CONSOLE_ROOT_KEY": "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'",
}


def shared_secrets(*names: str) -> list[str]:
    """The secrets every host must share, each given in the environment or by a file; a start without one of
    them is refused, naming every one missing, since a secret generated here would differ from the other hosts'."""
    values = [given_secret(name) for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise StartRefused(
            "DATABASE_URL names a shared database, so every host must be given the same secrets; missing: "
            + ", ".join(missing)
            + ".\n"
            + "\n".join(
                f"{name}: set {name}, or {name}_FILE to the path of a file holding it (a mounted secret). "
                f"Make one once with {SECRET_RECIPES[name]} and give every host the same value."
                for name in missing
            )
        )
    return values


def persistent_secret(name: str, path: Path, generate) -> str:
    """The secret as given (`given_secret`), else from `path`, else generated into `path` with mode 0600.

    Several processes start at once under honcho, so the first writer wins atomically (link of a
    fully written temporary file) and everyone else reads what it wrote. The value is never printed.
    """
    value = given_secret(name)
    if value:
        return value
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(generate())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    value = path.read_text().strip()
    if not value:
        raise ImproperlyConfigured(f"{name}: {path} is empty; delete it to generate a new one")
    return value


def generate_key_b64() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def decode_key_b64(name: str, value: str) -> bytes:
    """A 32-byte key given as base64; the message names the variable, never the value."""
    try:
        key = base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise StartRefused(f"{name} is not valid base64") from None
    if len(key) != 32:
        raise StartRefused(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def env_domain(name: str) -> str:
    """A DNS name to put host labels in front of (`<bucket>.<name>`), lower-cased without a trailing dot; empty if
    unset. An IP address is refused: no label can go in front of one."""
    raw = os.environ.get(name, "")
    domain = raw.strip().lower().rstrip(".")
    if not domain:
        return ""
    labels = domain.split(".")
    if len(domain) > 253 or not all(HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ImproperlyConfigured(f"{name} must be a host name such as localcloud.internal, got {raw!r}")
    return domain
