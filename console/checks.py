"""Start checks of the console's own: `manage.py check` and every management command run them, and the
worker, beat and web processes refuse to start on their errors (refuse_to_start)."""

import stat
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core import checks

from console import root_keys
from console.private_files import exposed_paths
from console.startup import StartRefused

PRIVATE_FILES_EXPOSED = "console.E001"
WRONG_ROOT_KEY = "console.E002"
# Enough to show the pattern of a wrong var/ without printing thousands of blob names.
NAMED_AT_MOST = 5


def private_roots() -> list[Path]:
    """var/, and localcloud's data and the SQLite database where they were configured to live outside it."""
    var_dir = Path(settings.VAR_DIR)
    roots = [var_dir]
    candidates = [Path(settings.LOCALCLOUD_DATA_DIR)]
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        candidates.append(Path(database["NAME"]))
    roots += [path for path in candidates if not path.is_relative_to(var_dir)]
    return roots


def private_files_errors() -> list[checks.Error]:
    return [
        checks.Error(
            f"{path} is open to group or others (mode {stat.filemode(mode)}): it must be the "
            "console user's alone, since it may hold secrets, sessions, API tokens or plaintext objects.",
            hint=f"chmod -R go-rwx {path}",
            obj=str(path),
            id=PRIVATE_FILES_EXPOSED,
        )
        for path, mode in islice(exposed_paths(private_roots()), NAMED_AT_MOST)
    ]


@checks.register(checks.Tags.security)
def check_private_files(app_configs=None, **kwargs) -> list[checks.Error]:
    return private_files_errors()


def root_key_errors() -> list[checks.Error]:
    message = root_keys.wrong_root_key_message()
    return [checks.Error(message, id=WRONG_ROOT_KEY)] if message else []


@checks.register(checks.Tags.security)
def check_root_key(app_configs=None, **kwargs) -> list[checks.Error]:
    """Every command, not only those given a database: the one start check that queries it, once, and that lets
    no command (migrate included) run against secrets it cannot open."""
    return root_key_errors()


def refuse_to_start() -> None:
    errors = private_files_errors() + root_key_errors()
    if errors:
        raise StartRefused(
            "\n".join(f"{error.id} {error.msg}" + (f" Fix: {error.hint}" if error.hint else "") for error in errors)
        )
