"""The background jobs queue: one job per key, retries with back-off, a dead worker's job taken again without its
effect done twice, the in-process thread, and the ``jobs`` commands — on SQLite and PostgreSQL."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from sqlalchemy import func, select

from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.jobs import enqueue, job, queue, run_pending, worker
from catalogue.jobs.models import Job, JobState

ROOT = Path(__file__).resolve().parent.parent


@job("test.write_file", max_attempts=3, lease_seconds=60)
def write_file(arguments, context):
    """Writes its file the idempotent way: a temporary file of this job, renamed when whole."""
    out = Path(arguments["out"])
    part = out.with_name(f"{out.name}.{context.job_id}.part")
    part.write_text(f"{arguments['text']} (попытка {context.attempt})", encoding="utf-8")
    if context.attempt == 1 and arguments.get("stall"):
        Path(arguments["stall"]).touch()  # tells the test it is halfway
        time.sleep(120)  # ... where it is killed
    part.replace(out)
    return {"file": out.name, "attempt": context.attempt}


@job("test.printer_jammed", max_attempts=3)
def printer_jammed(arguments, context):
    raise RuntimeError("Принтер не отвечает")


def _count(**where) -> int:
    return db.session.scalar(select(func.count()).select_from(Job).filter_by(**where))


def test_enqueueing_a_key_that_is_queued_or_running_does_nothing(app, tmp_path):
    out = str(tmp_path / "greeting.txt")
    with app.app_context():
        first = enqueue("test.write_file", {"out": out, "text": "Привет"}, key="greeting")
        db.session.commit()
        # The organizer presses the button again, and again: still one job
        assert enqueue("test.write_file", {"out": out, "text": "Привет"}, key="greeting").id == first.id
        db.session.commit()
        # ... also while it runs
        claimed, _token = queue.claim()
        assert claimed.id == first.id and claimed.state == JobState.RUNNING
        assert enqueue("test.write_file", {"out": out, "text": "Привет"}, key="greeting").id == first.id
        db.session.commit()
        assert _count(key="greeting") == 1
        # The database refuses a second active job of the key even to a writer that did not look first
        db.session.add(Job(kind="test.write_file", key="greeting", arguments_json="{}"))
        try:
            db.session.flush()
            raise AssertionError("a second active job of one key was stored")
        except Exception as error:  # IntegrityError, wrapped differently by each driver
            assert "unique" in str(error).lower() or "duplicate" in str(error).lower()
            db.session.rollback()


def test_once_done_the_same_key_queues_a_new_job(app, tmp_path):
    out = tmp_path / "greeting.txt"
    with app.app_context():
        first = enqueue("test.write_file", {"out": str(out), "text": "Привет"}, key="greeting").id
        db.session.commit()
        assert run_pending() == 1
        assert out.read_text(encoding="utf-8") == "Привет (попытка 1)"
        assert queue.latest_done("greeting").result == {"file": "greeting.txt", "attempt": 1}
        second = enqueue("test.write_file", {"out": str(out), "text": "Ещё раз"}, key="greeting").id
        db.session.commit()
        assert second != first and run_pending() == 1
        assert queue.latest_done("greeting").id == second
        assert out.read_text(encoding="utf-8") == "Ещё раз (попытка 1)"


def test_a_failing_job_is_retried_with_growing_waits_then_fails_with_its_error_visible(app, runner):
    with app.app_context():
        job_id = enqueue("test.printer_jammed", key="jammed").id
        db.session.commit()
        start = utcnow()
        item = queue.run_one()
        # Back to the queue, not before the back-off
        assert (item.state, item.attempts) == (JobState.QUEUED, 1)
        assert "Принтер не отвечает" in item.last_error
        assert dt.timedelta(seconds=29) <= item.run_after - start <= dt.timedelta(seconds=40)
        assert queue.run_one() is None  # nothing is due yet
        # The second failure waits twice as long
        item = queue.run_one(now=item.run_after)
        assert (item.state, item.attempts) == (JobState.QUEUED, 2)
        assert item.run_after - item.started_at >= dt.timedelta(seconds=60)
        # The third is the last: failed, with its error
        item = queue.run_one(now=item.run_after)
        assert (item.state, item.attempts) == (JobState.FAILED, 3)
        assert item.last_error.startswith("Попытка 3: RuntimeError: Принтер не отвечает")
        assert queue.run_one(now=utcnow() + dt.timedelta(days=1)) is None
    # The waits grow exponentially up to their cap
    assert [queue.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert queue.backoff(50) == dt.timedelta(hours=1)
    # The operator sees it in the list, with its error, and queues it again
    listed = runner.invoke(args=["jobs", "list", "--state", "failed"])
    assert listed.exit_code == 0
    assert f"{job_id}\ttest.printer_jammed\tjammed\tfailed\t3/3" in listed.output
    assert "RuntimeError: Принтер не отвечает" in listed.output
    assert runner.invoke(args=["jobs", "list", "--state", "done"]).output == ""
    retried = runner.invoke(args=["jobs", "retry", str(job_id)])
    assert retried.exit_code == 0 and "Снова в очереди: 1." in retried.output
    with app.app_context():
        item = db.session.get(Job, job_id)
        assert (item.state, item.attempts) == (JobState.QUEUED, 0)
    # A job that is not failed cannot be retried
    again = runner.invoke(args=["jobs", "retry", str(job_id)])
    assert again.exit_code == 1 and "не найдена среди неудавшихся" in again.output


def test_a_job_whose_lease_ran_out_is_taken_again_and_its_effect_is_recorded_once(app, tmp_path):
    out = tmp_path / "report.txt"
    with app.app_context():
        job_id = enqueue("test.write_file", {"out": str(out), "text": "Отчёт"}, key="report").id
        db.session.commit()
        # A worker takes it ... and dies halfway: its lease is never renewed
        item, dead_token = queue.claim()
        lease_end = item.locked_until
        assert queue.run_one(now=lease_end - dt.timedelta(seconds=1)) is None  # still leased: nobody takes it
        # After the lease, another worker takes it and completes it
        item = queue.run_one(now=lease_end + dt.timedelta(seconds=1))
        assert (item.id, item.state, item.attempts) == (job_id, JobState.DONE, 2)
        assert item.result == {"file": "report.txt", "attempt": 2}
        assert out.read_text(encoding="utf-8") == "Отчёт (попытка 2)"
        # The first worker was only slow, and now reports done: nothing is recorded a second time
        assert queue.finish(job_id, dead_token, {"file": "report.txt", "attempt": 1}) is False
        db.session.expire_all()
        assert db.session.get(Job, job_id).result == {"file": "report.txt", "attempt": 2}
        assert _count(key="report") == 1


def test_a_worker_killed_halfway_leaves_a_job_the_next_worker_completes_once_without_waiting(app, tmp_path):
    """A real worker process, killed with SIGKILL while its job has written half of its file (as systemd's
    ``Restart=always`` then starts the next one, or the machine's memory limit kills it)."""
    out, stall = tmp_path / "sbornik.txt", tmp_path / "halfway"
    with app.app_context():
        job_id = enqueue("test.write_file", {"out": str(out), "text": "Сборник", "stall": str(stall)}, key="s").id
        db.session.commit()
    config = {k: v for k, v in app.config.items() if isinstance(v, str | int | bool | type(None))}
    config["INSTANCE_PATH"] = app.instance_path
    script = (
        "import json, sys\n"
        "from catalogue import create_app\n"
        "from catalogue.jobs import queue\n"
        "import tests.test_jobs\n"
        "app = create_app(json.loads(sys.argv[1]))\n"
        "with app.app_context():\n"
        "    queue.run_one()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, json.dumps(config)], cwd=ROOT, env=os.environ.copy())
    try:
        for _ in range(600):  # up to a minute for the process to start and reach the middle of its job
            if stall.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert stall.exists(), "the worker never reached the middle of its job"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert not out.exists() and list(tmp_path.glob("sbornik.txt.*.part"))  # half written, never renamed
    with app.app_context():
        item = db.session.get(Job, job_id)
        assert (item.state, item.attempts) == (JobState.RUNNING, 1)
        assert item.locked_until > utcnow() + dt.timedelta(seconds=30)  # its lease has most of a minute to go
        # The dead worker was a process of this machine: the next worker takes its job at once, not after the lease
        item = queue.run_one()
        assert (item.state, item.attempts) == (JobState.DONE, 2)
        assert "Попытка 1 прервана" not in (item.last_error or "")  # done: the error of the past attempt is cleared
    assert out.read_text(encoding="utf-8") == "Сборник (попытка 2)"
    assert not list(tmp_path.glob("sbornik.txt.*.part"))  # the retry wrote the same temporary file and renamed it


def test_in_process_a_queued_job_runs_in_a_background_thread_after_the_response(app, client, tmp_path):
    app.config["JOBS_IN_PROCESS"] = True
    out = tmp_path / "thread.txt"
    # A command queues a job, even in a request context (seed-demo makes its content in them), and renders a page
    # (the warm-up of `flask run`): a thread of a command would die with it, so the job waits for the server
    with click.Context(click.Command("seed-demo")), app.test_request_context("/", method="POST"):
        enqueue("test.write_file", {"out": str(tmp_path / "command.txt"), "text": "Команда"}, key="command")
        db.session.commit()
    with click.Context(click.Command("run")), app.test_request_context("/"):
        app.full_dispatch_request().close()
    worker.wait_for_thread(app)
    assert not (tmp_path / "command.txt").exists()
    with app.app_context():
        assert queue.active("command").state == JobState.QUEUED  # not claimed by a thread that died
    # The server's first request takes it up, after its response
    with client.get("/") as response:
        assert response.status_code == 200
    worker.wait_for_thread(app)
    assert (tmp_path / "command.txt").read_text(encoding="utf-8") == "Команда (попытка 1)"
    # A request that queues a job: nothing runs until the request is over
    with app.test_request_context("/", method="POST"):
        enqueue("test.write_file", {"out": str(out), "text": "Фон"}, key="thread")
        db.session.commit()
        assert not out.exists()
    worker.wait_for_thread(app)
    assert out.read_text(encoding="utf-8") == "Фон (попытка 1)"
    with app.app_context():
        assert queue.latest_done("thread").result["attempt"] == 1
        assert queue.next_due() is None  # nothing left: the thread has ended


def test_the_worker_command_runs_what_is_due_and_purge_keeps_the_file_of_record(app, runner, tmp_path):
    with app.app_context():
        for n in (1, 2):
            enqueue("test.write_file", {"out": str(tmp_path / "a.txt"), "text": f"Версия {n}"}, key="a")
            db.session.commit()
            run_pending()
        enqueue("test.printer_jammed", key="jammed", arguments={})
        db.session.commit()
    result = runner.invoke(args=["jobs", "work", "--once"])
    assert result.exit_code == 0 and "Выполнено задач: 1." in result.output
    with app.app_context():
        jammed = db.session.scalar(select(Job).where(Job.key == "jammed"))
        jammed.state, jammed.finished_at = JobState.FAILED, utcnow()
        db.session.commit()
        # Everything finished «long ago»
        old = utcnow() - dt.timedelta(days=40)
        for item in db.session.scalars(select(Job)):
            item.finished_at = old
        db.session.commit()
    assert "Удалено задач: 0." in runner.invoke(args=["jobs", "purge", "--older-than", "60"]).output
    purged = runner.invoke(args=["jobs", "purge", "--older-than", "30"])
    assert purged.exit_code == 0 and "Удалено задач: 2." in purged.output
    with app.app_context():
        # The newest done job of «a» stays: it records the file in use
        kept = db.session.scalars(select(Job)).all()
        assert [(j.key, j.state) for j in kept] == [("a", JobState.DONE)]
        assert queue.latest_done("a").result == {"file": "a.txt", "attempt": 1}
    assert runner.invoke(args=["jobs", "retry"]).exit_code == 2
    assert "Снова в очереди: 0." in runner.invoke(args=["jobs", "retry", "--failed"]).output
