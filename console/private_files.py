"""Files only the console's user may read: var/ holds the database (sessions, API tokens), the generated secrets,
localcloud's blobs (plaintext of unencrypted objects) and uploads waiting for their task.

Every process that writes there imports the settings first, which restrict the umask, so whatever a library
creates (SQLite's database and journals, redis-server's dump, blobs, collected static files) is 0600 and every
directory 0700. A var/ left readable by an older version or a careless copy is refused at start (exposed_paths).
"""

import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

PRIVATE_UMASK = 0o077
SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


def restrict_new_files() -> None:
    os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, mode 0600 whatever the umask and whatever mode it had."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def exposed_paths(roots: Iterable[Path]) -> Iterator[tuple[Path, int]]:
    """Each of `roots` (a directory walked whole, or a file) and what it holds that group or others may use,
    with its mode.

    Symbolic links are not followed: their own mode means nothing, and what they point to is not var/'s.
    """
    for root in roots:
        if not root.exists():
            continue
        if mode := _shared_mode(root):
            yield root, mode
        if not root.is_dir():
            continue
        for directory, subdirectories, files in os.walk(root):
            for name in (*subdirectories, *files):
                path = Path(directory) / name
                if mode := _shared_mode(path):
                    yield path, mode


def _shared_mode(path: Path) -> int | None:
    """The mode of `path` when group or others have any right to it, else None."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:  # removed while the walk went on, e.g. a finished upload
        return None
    return mode if not stat.S_ISLNK(mode) and mode & SHARED_BITS else None
