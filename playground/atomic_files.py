"""Writing a file so that no crash, kill or second writer leaves it half written.

The bytes go to a temporary file beside the target, named after it, this process's id and
a random part (`.NAME.PID.RANDOM.tmp`, so two processes saving one file never share one),
synced, then renamed over the target; the old file can be kept as NAME.bak the same way.
A save that was killed leaves its temporary file behind: the next save of that file, or
`remove_leftovers` at start, removes those whose process is gone.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

CHUNK = 64 * 1024
SUFFIX = ".tmp"
_writing: set[str] = set()  # this process's temporary files in use (saves run in threads)


def temporary_name(target: Path) -> Path:
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}{SUFFIX}")
    _writing.add(temp.name)
    return temp


def write_atomically(path: str | os.PathLike, data: bytes, keep_backup: bool = True) -> None:
    """Temp file in the same folder, written and fsynced, then renamed over the old file;
    the old one is kept as PATH.bak first. A crash at any moment leaves a whole old file."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    remove_leftovers(target)
    temp = temporary_name(target)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, _file_mode(target))
        view = memoryview(data)
        for start in range(0, len(data), CHUNK):
            os.write(fd, view[start:start + CHUNK])
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if keep_backup and target.exists():
            _backup(target)
        os.replace(temp, target)
        _sync_folder(folder)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    finally:
        _writing.discard(temp.name)


def _file_mode(target: Path) -> int:
    """The old file's permissions, else what the umask gives a new file."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def _backup(target: Path) -> None:
    """PATH.bak becomes the old file, atomically too (a hard link, else a copy), staged
    under a name of this save's own."""
    backup = target.with_name(target.name + ".bak")
    staged = temporary_name(backup)
    try:
        try:
            os.link(target, staged)
        except OSError:
            staged.write_bytes(target.read_bytes())
        os.replace(staged, backup)
    finally:
        if staged.exists():
            staged.unlink()
        _writing.discard(staged.name)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some systems cannot open a folder; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _left_over(middle: str) -> bool:
    """PID.RANDOM of a process that is gone; one part only is an older version's name."""
    pid, dot, rest = middle.partition(".")
    if not dot:
        return True
    if not (pid.isascii() and pid.isdigit()) or "." in rest:
        return False
    return int(pid) == os.getpid() or not _alive(int(pid))


def remove_leftovers(target: str | os.PathLike) -> list[Path]:
    """Delete the temporary files of saves of TARGET (and of its backup) whose process is
    gone; a save still running in another process keeps its own. Returns what went."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for name in (target.name, target.name + ".bak"):
        prefix = f".{name}."
        for entry in entries:
            if not entry.name.startswith(prefix) or not entry.name.endswith(SUFFIX) or \
                    entry.name in _writing or not _left_over(entry.name[len(prefix):-4]):
                continue
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed
