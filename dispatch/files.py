"""Files appear whole or not at all: written under a temporary name, then renamed.

The temporary file is created with mode 0o666 less the process umask, as any file a program
writes (``tempfile.mkstemp`` would make it 0600, and the rename would keep that): outputs are as
readable by the user's group as the user's umask says.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
from collections.abc import Callable, Mapping
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

    A failure (or an interrupt) removes the temporary file and leaves ``path`` as it was; an
    ``OSError`` names ``path`` (not the temporary file). ``durable``: flush the file and its
    folder to disk before returning (batch parts, which a manifest line then vouches for).
    """
    return write_atomic_all({path: write}, durable=durable)[0]


def write_atomic_all(
    writes: Mapping[Path, Callable[[Path], object]], *, durable: bool = False
) -> list[Path]:
    """Write a set of files that belong together (a run's schedule, streams and KPIs): each
    under a temporary name first, then all renamed. A failure in any write removes every
    temporary file and leaves every path as it was, so a set is never half old, half new.

    Raises
    ------
    OSError
        Of the kind the system raised, naming the path whose write failed.
    """
    for path in writes:  # the one thing that would fail only at the renames, after some
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    temporaries: dict[Path, Path] = {}
    current = next(iter(writes), Path())
    try:
        for current, write in writes.items():
            temporaries[current] = temporary = temporary_beside(current)
            write(temporary)
            if durable:
                with open(temporary, "rb+") as written:
                    os.fsync(written.fileno())
        for current, temporary in temporaries.items():
            os.replace(temporary, current)
    except BaseException as error:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno is not None:
            raise OSError(error.errno, error.strerror, str(current)) from error
        raise
    if durable:
        for folder in dict.fromkeys(path.parent for path in writes):
            _fsync_directory(folder)
    return list(writes)


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's contents, as hex (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
