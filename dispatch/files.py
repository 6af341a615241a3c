"""Files appear whole or not at all: written under a temporary name, then renamed.

The temporary file is created with mode 0o666 less the process umask, as any file a program
writes (``tempfile.mkstemp`` would make it 0600, and the rename would keep that): outputs are as
readable by the user's group as the user's umask says.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

TEMPORARY_SUFFIX = ".tmp"


def temporary_beside(path: Path) -> Path:
    """A new, empty, hidden file next to ``path`` (``.<name>.<random>.tmp``), created with
    mode 0o666 so that the umask applies."""
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMPORARY_SUFFIX}")
        try:
            handle = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        os.close(handle)
        return temporary
    raise FileExistsError(f"no free temporary name next to {path}")


def _fsync_directory(path: Path) -> None:
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:  # some file systems do not open directories; the rename is still atomic
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def write_atomic(path: Path, write: Callable[[Path], object], *, durable: bool = False) -> Path:
    """Call ``write`` on a temporary file next to ``path``, then rename it over ``path``.

    A failure (or an interrupt) removes the temporary file and leaves ``path`` as it was.
    ``durable``: flush the file and its folder to disk before returning (batch parts, which a
    manifest line then vouches for).
    """
    temporary = temporary_beside(path)
    try:
        write(temporary)
        if durable:
            with open(temporary, "rb+") as written:
                os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_directory(path.parent)
    return path
