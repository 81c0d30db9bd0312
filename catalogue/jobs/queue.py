"""The queue: registering kinds, enqueueing by key, claiming with a lease, finishing, retrying with back-off.

Claims are short write transactions: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that several workers
never take the same row; on SQLite the transaction holds the database's write lock (``BEGIN IMMEDIATE`` outside a
request), which serializes claims the same way. A job's effect must be idempotent: write the output to a temporary
file and rename it, and return what was made — the result is stored in the same transaction that marks the job
done, and only while the worker still holds the lease.
"""

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from catalogue import unit_of_work
from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.jobs.models import Job, JobState

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 30  # the first retry waits this long, then twice as long each time ...
RETRY_CAP_SECONDS = 60 * 60  # ... at most an hour
LEASE_SECONDS = 10 * 60  # a worker that neither finishes nor renews its lease this long is taken for dead


def _host() -> str:
    """Where this process's pids mean something: the host name and the pid namespace (containers sharing a host
    name, as with host networking, have namespaces of their own)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return hashlib.sha256(f"{socket.gethostname()}\0{namespace}".encode()).hexdigest()[:8]


# A lease token names its machine and process: 8 hex digits for the host (and pid namespace), 8 of the pid, 16 random.
HOST = _host()


@dataclass(frozen=True)
class Kind:
    name: str
    function: Callable[[dict[str, Any], "JobContext"], dict[str, Any] | None]
    max_attempts: int = 5
    lease_seconds: int = LEASE_SECONDS


KINDS: dict[str, Kind] = {}


def job(name: str, *, max_attempts: int = 5, lease_seconds: int = LEASE_SECONDS):
    """Register the decorated ``function(arguments, context) -> result or None`` as the job kind ``name``."""

    def register(function):
        KINDS[name] = Kind(name, function, max_attempts, lease_seconds)
        return function

    return register


@dataclass
class JobContext:
    """What a running job may ask of its worker."""

    job_id: int
    token: str
    attempt: int
    lease_seconds: int
    # Set by a job that saw what it read change while it ran: once done, the same job is queued again.
    again: bool = False

    def heartbeat(self) -> bool:
        """Renew the lease (commits); False when the job is no longer this worker's (stop then)."""
        renewed = db.session.execute(
            update(Job)
            .where(Job.id == self.job_id, Job.lease_token == self.token, Job.state == JobState.RUNNING)
            .values(locked_until=utcnow() + dt.timedelta(seconds=self.lease_seconds))
        ).rowcount
        db.session.commit()
        return bool(renewed)


def _active(key: str):
    return select(Job).where(Job.key == key, Job.state.in_(JobState.ACTIVE))


def enqueue(kind: str, arguments: dict[str, Any] | None = None, key: str | None = None) -> Job:
    """Queue a job in the current transaction (the caller commits); the job of ``key`` already queued or running
    when there is one. The worker is woken after the commit."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    arguments = arguments or {}
    key = key or f"{kind}:{json.dumps(arguments, sort_keys=True)}"
    if (existing := db.session.scalar(_active(key))) is not None:
        return existing
    item = Job(
        kind=kind,
        arguments_json=json.dumps(arguments, ensure_ascii=False, sort_keys=True),
        key=key,
        max_attempts=KINDS[kind].max_attempts,
        run_after=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:  # another transaction queued the same key meanwhile
        return db.session.scalar(_active(key))
    from catalogue.jobs import worker

    unit_of_work.after_commit(worker.wake, key="catalogue.jobs.wake")
    return item


def latest_done(key: str) -> Job | None:
    """The newest job of ``key`` that completed (its result is what it made)."""
    return db.session.scalar(
        select(Job).where(Job.key == key, Job.state == JobState.DONE).order_by(Job.started_at.desc(), Job.id.desc())
    )


def active(key: str) -> Job | None:
    return db.session.scalar(_active(key))


def next_due() -> dt.datetime | None:
    """When the next job may be taken: the earliest retry or lease end of the jobs queued or running; None when
    there are none."""
    queued = db.session.scalar(select(func.min(Job.run_after)).where(Job.state == JobState.QUEUED))
    leased = db.session.scalar(select(func.min(Job.locked_until)).where(Job.state == JobState.RUNNING))
    moments = [m for m in (queued, leased) if m is not None]
    db.session.commit()
    return min(moments) if moments else None


def backoff(attempts: int) -> dt.timedelta:
    """How long a job waits after its ``attempts``-th failure: 30 s, 1, 2, 4 … minutes, at most an hour."""
    return dt.timedelta(seconds=min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def new_token() -> str:
    return f"{HOST}{os.getpid():08x}{secrets.token_hex(8)}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def release_orphans(now: dt.datetime) -> int:
    """End now the leases of jobs whose worker was a process of this machine that no longer exists (killed, out of
    memory): the next claim takes them at once instead of after the lease. A reused pid looks alive, and a worker of
    another machine is never judged: those wait for their lease as before. Does not commit."""
    rows = db.session.execute(
        select(Job.id, Job.lease_token).where(
            Job.state == JobState.RUNNING, Job.locked_until >= now, Job.lease_token.startswith(HOST, autoescape=True)
        )
    ).all()
    released = 0
    for job_id, token in rows:
        try:
            pid = int(token[len(HOST) : len(HOST) + 8], 16)
        except ValueError:
            continue
        if pid != os.getpid() and not _process_exists(pid):
            log.warning("Job %s: its worker (pid %s) is gone; taken again without waiting for the lease", job_id, pid)
            db.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.lease_token == token, Job.state == JobState.RUNNING)
                .values(locked_until=now - dt.timedelta(microseconds=1))
            )
            released += 1
    return released


def claim(now: dt.datetime | None = None) -> tuple[Job, str] | None:
    """Take the next due job (or one whose lease ran out, or whose worker on this machine died) and lease it to this
    worker; commits."""
    while True:
        now = now or utcnow()
        release_orphans(now)
        stmt = (
            select(Job)
            .where(
                or_(
                    and_(Job.state == JobState.QUEUED, Job.run_after <= now),
                    and_(Job.state == JobState.RUNNING, Job.locked_until < now),
                )
            )
            .order_by(Job.run_after, Job.id)
            .limit(1)
        )
        if db.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        item = db.session.scalar(stmt)
        if item is None:
            db.session.commit()
            return None
        kind = KINDS.get(item.kind)
        if item.state == JobState.RUNNING:
            log.warning("Job %s (%s): the lease of attempt %s ran out; taken again", item.id, item.kind, item.attempts)
            until = f"{item.locked_until:%d.%m.%Y %H:%M}"
            item.last_error = f"Попытка {item.attempts} прервана: исполнитель не отвечал до {until} UTC."
        if kind is None or item.attempts >= item.max_attempts:
            item.state = JobState.FAILED
            item.finished_at = now
            item.locked_until = item.lease_token = None
            if kind is None:
                item.last_error = f"Неизвестный вид задачи «{item.kind}»."
            db.session.commit()
            continue
        token = new_token()
        item.state = JobState.RUNNING
        item.attempts += 1
        item.lease_token = token
        item.locked_until = now + dt.timedelta(seconds=kind.lease_seconds)
        item.started_at = now
        db.session.commit()
        return item, token


def run_one(now: dt.datetime | None = None) -> Job | None:
    """Claim one job, run it and record how it ended; the job, or None when nothing was due."""
    claimed = claim(now)
    if claimed is None:
        return None
    item, token = claimed
    job_id, kind = item.id, KINDS[item.kind]
    context = JobContext(job_id, token, item.attempts, kind.lease_seconds)
    try:
        result = kind.function(item.arguments, context)
    except Exception as error:  # any failure of a job is recorded on it
        db.session.rollback()
        log.exception("Job %s (%s) failed", job_id, kind.name)
        _record_failure(job_id, token, error, max(now or utcnow(), utcnow()))
    else:
        if not finish(job_id, token, result, again=context.again):
            log.warning("Job %s (%s) finished after its lease was taken over; its result is dropped", job_id, kind.name)
    db.session.expire_all()
    return db.session.get(Job, job_id)


def finish(job_id: int, token: str, result: dict[str, Any] | None, *, again: bool = False) -> bool:
    """Mark the job done with its result, with whatever the job added to the session, in one transaction — only
    while ``token`` still holds the lease (False, and nothing recorded, when another worker took it over). With
    ``again``, the same job is queued anew in that transaction."""
    done = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_token == token, Job.state == JobState.RUNNING)
        .values(
            state=JobState.DONE,
            result_json=json.dumps(result, ensure_ascii=False) if result is not None else None,
            finished_at=utcnow(),
            locked_until=None,
            lease_token=None,
            last_error=None,
        )
    ).rowcount
    if done:
        if again:
            item = db.session.get(Job, job_id)
            enqueue(item.kind, item.arguments, key=item.key)
        db.session.commit()
    else:
        db.session.rollback()
    return bool(done)


def _record_failure(job_id: int, token: str, error: Exception, now: dt.datetime) -> None:
    item = db.session.get(Job, job_id)
    if item is None or item.lease_token != token or item.state != JobState.RUNNING:
        db.session.rollback()
        return
    message = "".join(traceback.format_exception_only(error)).strip()[:2000]
    item.last_error = f"Попытка {item.attempts}: {message}"
    item.locked_until = item.lease_token = None
    if item.attempts >= item.max_attempts:
        item.state = JobState.FAILED
        item.finished_at = now
    else:
        item.state = JobState.QUEUED
        item.run_after = now + backoff(item.attempts)
    db.session.commit()


def run_pending(limit: int | None = None) -> int:
    """Run the jobs due now, one after another, until none is left (or ``limit``); how many ran."""
    count = 0
    while (limit is None or count < limit) and run_one() is not None:
        count += 1
    return count


def retry(job_id: int | None = None, *, failed: bool = False) -> int:
    """Queue a failed job again (or, with ``failed``, every failed one), due now, with fresh attempts; how many.
    A job whose key is queued or running again meanwhile stays as it is."""
    stmt = select(Job).where(Job.state == JobState.FAILED).order_by(Job.id)
    if job_id is not None:
        stmt = stmt.where(Job.id == job_id)
    elif not failed:
        return 0
    count = 0
    for item in db.session.scalars(stmt).all():
        if active(item.key) is not None:
            continue
        item.state, item.attempts, item.run_after, item.finished_at = JobState.QUEUED, 0, utcnow(), None
        db.session.flush()
        count += 1
    if count:
        from catalogue.jobs import worker

        unit_of_work.after_commit(worker.wake, key="catalogue.jobs.wake")
    db.session.commit()
    return count


def purge(older_than: dt.timedelta) -> int:
    """Delete done and failed jobs finished before ``older_than`` ago, keeping the newest done job of each key
    (it records the file now served); how many."""
    cutoff = utcnow() - older_than
    newer = aliased(Job)
    superseded = (
        select(newer.id)
        .where(newer.key == Job.key, newer.state == JobState.DONE, newer.started_at > Job.started_at)
        .exists()
    )
    count = db.session.execute(
        delete(Job).where(
            Job.finished_at < cutoff,
            or_(Job.state == JobState.FAILED, and_(Job.state == JobState.DONE, superseded)),
        )
    ).rowcount
    db.session.commit()
    return count
