"""The index's one-writer lock, and how a lock left by a dead writer is broken.

The lock is an ``flock`` on ``write.lock``: the kernel drops it when its holder dies — unless processes the holder
forked still have the file open (the indexing processes of ``search rebuild --procs 2`` whose parent was killed).
So the writer records itself beside the lock in ``write.lock.holder`` (its pid and the process's start time, which
tells a reused pid apart). A writer that finds the lock taken by a process that no longer exists, or whose pid now
belongs to another process, removes the lock file and takes a new one (logging that it did): whatever still holds
the old file holds nothing anyone waits for. Taking the lock and recording the holder happen under a short second
lock (``write.lock.break``), so a breaker never mistakes a new writer that has not recorded itself yet for the old one.
The holder's host name is recorded too: with the index on a shared mount (several hosts) a writer of another host
cannot be looked up here, so its lock is never broken (the file server drops a dead client's lock itself).
"""

import fcntl
import json
import logging
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from catalogue.search.backend import IndexUnavailable

log = logging.getLogger(__name__)

LOCK = "write.lock"
HOLDER = "write.lock.holder"
BREAK = "write.lock.break"


@dataclass(frozen=True)
class Holder:
    pid: int
    start: str | None  # the process's start time (Linux: clock ticks after boot), None where unknown
    host: str | None = None  # the host it runs on (None: recorded before hosts were)

    def alive(self) -> bool:
        if self.host is not None and self.host != socket.gethostname():
            return True  # another host's process: only its flock tells, and that is held
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # someone else's process: it exists
        state = _proc_stat(self.pid)
        if state is None:
            return True  # no /proc: existence is all we know
        if state[0] in ("Z", "X"):  # a zombie has died
            return False
        return self.start is None or state[19] == self.start


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def me() -> Holder:
    state = _proc_stat(os.getpid())
    return Holder(os.getpid(), state[19] if state else None, socket.gethostname())


def read_holder(root: Path) -> Holder | None:
    try:
        data = json.loads((root / HOLDER).read_text())
        return Holder(int(data["pid"]), data.get("start"), data.get("host"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _try_flock(path: Path) -> int | None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


@contextmanager
def _breaking(root: Path):
    fd = os.open(root / BREAK, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _acquire_once(root: Path) -> int | None:
    """The lock's descriptor, with this process recorded as its holder; or None, having broken a dead one's lock
    if that is what held it (the caller tries again at once)."""
    with _breaking(root):
        fd = _try_flock(root / LOCK)
        if fd is not None:
            holder = me()
            temporary = root / f"{HOLDER}.{os.getpid()}"
            temporary.write_text(json.dumps({"pid": holder.pid, "start": holder.start, "host": holder.host}))
            os.replace(temporary, root / HOLDER)
            return fd
        holder = read_holder(root)
        if holder is not None and not holder.alive():
            log.warning(
                "Search index: the write lock was held by process %s, which no longer exists; lock broken", holder.pid
            )
            (root / LOCK).unlink(missing_ok=True)
            (root / HOLDER).unlink(missing_ok=True)
        return None


def dead_holder(root: Path) -> Holder | None:
    """The recorded holder when the lock is taken and that holder is dead (what ``search check`` reports)."""
    if not (root / LOCK).exists():
        return None
    fd = _try_flock(root / LOCK)
    if fd is not None:
        os.close(fd)
        return None
    holder = read_holder(root)
    return holder if holder is not None and not holder.alive() else None


@contextmanager
def write_lock(root: Path, timeout: float):
    """Hold the index's write lock; :raise IndexUnavailable: a live writer holds it for longer than ``timeout``."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while (fd := _acquire_once(root)) is None:
            if time.monotonic() >= deadline:
                holder = read_holder(root)
                by = f" (process {holder.pid})" if holder else ""
                raise IndexUnavailable(f"the search index is being written by another process{by}")
            time.sleep(0.05)
    except OSError as e:
        raise IndexUnavailable(f"cannot lock {root}: {e}") from e
    try:
        yield
    finally:
        if read_holder(root) == me():
            (root / HOLDER).unlink(missing_ok=True)
        os.close(fd)  # the last descriptor of the file: the flock goes with it
