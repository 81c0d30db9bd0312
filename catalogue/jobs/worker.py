"""Running the queue: a worker process (``flask --app catalogue jobs work``) or a thread of the server process.

With ``JOBS_IN_PROCESS = True`` one background thread of the server process runs the jobs. It is started after the
response has been sent (the visitor never waits for a job) of the process's first request, and of every request
whose commit queued a job. It runs every due job; while jobs wait for a retry or for the lease of a job another
worker holds, it sleeps until the earliest of them; when no job is queued or running it ends. A command (say
``seed-demo``) that queues a job leaves it to the server or to ``jobs work``: a thread of a command would die with it.
With several server processes set ``JOBS_IN_PROCESS = False`` and run ``jobs work`` beside them.
"""

import logging
import signal
import threading
import time

import click
from flask import Flask, current_app, g, has_app_context, has_request_context

from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.jobs import queue

log = logging.getLogger(__name__)

_AFTER_RESPONSE = "_catalogue_jobs_after_response"
_STARTED = "catalogue.jobs.started"
MAX_SLEEP = 60.0  # the longest the thread sleeps between looks while jobs wait
_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


def wake() -> None:
    """Queued after the commit of a transaction that queued a job: in a request, start the thread after the
    response."""
    if has_app_context() and current_app.config.get("JOBS_IN_PROCESS") and has_request_context():
        setattr(g, _AFTER_RESPONSE, True)


def start_thread(app: Flask) -> threading.Thread:
    """The process's background thread that runs the queue (started unless it is running; woken if it sleeps)."""
    with _threads_lock:
        thread = _threads.get(id(app))
        if thread is not None and thread.is_alive():
            thread.again = True  # it looks once more before it ends
            thread.woken.set()
            return thread
        thread = threading.Thread(target=_drain, args=(app,), name="catalogue-jobs", daemon=True)
        thread.again = False
        thread.woken = threading.Event()
        _threads[id(app)] = thread
        thread.start()
        return thread


def wait_for_thread(app: Flask, timeout: float = 120.0) -> None:
    """Wait until this process's background thread has run out of work (tests, shutdown)."""
    with _threads_lock:
        thread = _threads.get(id(app))
    if thread is not None:
        thread.join(timeout)


def _drain(app: Flask) -> None:
    thread = threading.current_thread()
    try:
        while True:
            with app.app_context():
                queue.run_pending()
                due = queue.next_due()
                db.session.remove()
            with _threads_lock:
                if thread.again:
                    thread.again = False
                    thread.woken.clear()
                    continue
                if due is None:
                    _threads.pop(id(app), None)
                    return
            thread.woken.wait(min(MAX_SLEEP, max(0.5, (due - utcnow()).total_seconds())))
            thread.woken.clear()
    except Exception:
        # The job rows stay; a worker or the next wake-up takes them.
        log.exception("The in-process job runner stopped")
        with _threads_lock:
            _threads.pop(id(app), None)


def _after_request(response):
    app = current_app._get_current_object()
    if click.get_current_context(silent=True) is not None:
        return response  # a command's own request (the warm-up of `flask run`, seed-demo): not a server's yet
    first = app.config.get("JOBS_IN_PROCESS") and not app.extensions.get(_STARTED)
    if g.pop(_AFTER_RESPONSE, False) or first:
        # The first request of the process also picks up what was queued while no server ran (a command's jobs).
        app.extensions[_STARTED] = True
        response.call_on_close(lambda: start_thread(app))
    return response


def _teardown_request(_error) -> None:
    # A request context that made no response still committed its jobs. In a command (``seed-demo`` makes its
    # content in request contexts) they wait for a server or ``jobs work``: a thread would die with the command,
    # leaving its job claimed until the lease ends.
    if g.pop(_AFTER_RESPONSE, False) and click.get_current_context(silent=True) is None:
        start_thread(current_app._get_current_object())


def install(app: Flask) -> None:
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)


def work(app: Flask, *, once: bool = False, poll: float = 2.0) -> int:
    """The worker process: run due jobs, wait ``poll`` seconds when there are none; stops on SIGTERM/SIGINT after
    the job it is running. Returns how many jobs ran."""
    stopping = threading.Event()

    def stop(_signum, _frame):
        stopping.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    ran = 0
    while not stopping.is_set():
        try:
            with app.app_context():
                item = queue.run_one()
                db.session.remove()
        except Exception:
            # The database away for a moment: wait and try again, never exit.
            log.exception("Job worker: the queue could not be read; trying again")
            item = None
            time.sleep(poll)
        if item is not None:
            ran += 1
            continue
        if once:
            break
        stopping.wait(poll)
    return ran
