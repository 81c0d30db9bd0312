"""Processes forked by an indexing writer die with the process that forked them.

``search rebuild --procs 2`` forks its indexing processes (multiprocessing, fork start method). If the parent was
killed they used to live on — hundreds of MB each, with the index's write lock inherited. Inside
:func:`children_die_with_parent`, every child forked asks the kernel (Linux ``prctl(PR_SET_PDEATHSIG)``) for
SIGKILL when its parent goes, and leaves at once if the parent is already gone. Elsewhere, the children watch
their parent's pid.
"""

import ctypes
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1
_parent: int | None = None  # the pid whose children must die with it, while a writer forks


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _after_fork_in_child() -> None:
    global _parent
    parent, _parent = _parent, None  # the child's own children are its business
    if parent is not None:
        _die_with(parent)


os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def children_die_with_parent():
    global _parent
    _parent = os.getpid()
    try:
        yield
    finally:
        _parent = None
