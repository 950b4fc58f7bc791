"""Start checks of the console's own: `manage.py check` and every management command run them, and the
worker, beat and web processes refuse to start on their errors (refuse_to_start_if_exposed)."""

import stat
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from console.private_files import exposed_paths

PRIVATE_FILES_EXPOSED = "console.E001"
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


def refuse_to_start_if_exposed() -> None:
    errors = private_files_errors()
    if errors:
        raise ImproperlyConfigured("\n".join(f"{error.id} {error.msg} Fix: {error.hint}" for error in errors))
