"""The ``job`` table: one row per piece of heavy work, in the site's own database."""

import datetime as dt
import json
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.clock import utcnow
from catalogue.extensions import db


class JobState:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    ALL = (QUEUED, RUNNING, DONE, FAILED)
    ACTIVE = (QUEUED, RUNNING)
    LABELS = {QUEUED: "в очереди", RUNNING: "выполняется", DONE: "готово", FAILED: "не удалось"}


class Job(db.Model):
    """A job: a registered kind with JSON arguments, found again by its idempotency key.

    At most one job of a key is queued or running at a time (a partial unique index); done and failed ones
    stay as the record of what was made (``result``) until purged.
    """

    __tablename__ = "job"
    __table_args__ = (
        Index(
            "uq_job_active_key",
            "key",
            unique=True,
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
        # The worker's claim: the next queued job due, or a running one whose lease ran out.
        Index("ix_job_state_run_after", "state", "run_after", "id"),
        Index("ix_job_key_state", "key", "state", "id"),
        Index("ix_job_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    arguments_json: Mapped[str] = mapped_column("arguments", Text, default="{}")
    key: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_after: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None]
    # Who holds the lease now: a worker finishing after its lease was taken over records nothing.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    result_json: Mapped[str | None] = mapped_column("result", Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    @property
    def arguments(self) -> dict[str, Any]:
        return json.loads(self.arguments_json or "{}")

    @property
    def result(self) -> dict[str, Any] | None:
        return json.loads(self.result_json) if self.result_json else None

    @property
    def state_label(self) -> str:
        return JobState.LABELS.get(self.state, self.state)
