"""The evaluation worker: claims jobs from the database queue and scores them in a sandbox.

Run any number of them, on any machines sharing one database: ``routerboard worker``. Each
publishes a heartbeat the app shows, renews the lease of the job it holds, and on start scores
the reference entries of its tracks (single models, Oracle, baselines) if they are missing.
Only a worker is given the hidden part of a track.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import evaluator
from submissions import queue as jobs
from submissions.config import Settings
from submissions.db import bump_board, connect, ensure_track, ensure_user, is_transient, retrying
from submissions.models import Submission, Track
from submissions.sandbox import Sandbox, SandboxLimits
from submissions.status import Kind, Status, Throughput, Visibility

log = logging.getLogger(__name__)
SYSTEM_USER = "routerboard"


@dataclass(frozen=True)
class TrackSource:
    """Where a worker finds a track: its public bundle directory and its hidden part."""

    public_path: str
    hidden_path: str


def seed_references(factory: sessionmaker[Session], sandbox: Sandbox, bundle_public: evaluator.Bundle,
                    track_id: int, split: str = "test") -> int:
    """Score and store the reference entries of a track once; returns how many were added."""
    with factory() as session:
        have = session.execute(select(Submission.id).where(Submission.track_id == track_id,
                                                           Submission.kind == Kind.REFERENCE.value).limit(1)).first()
    if have:
        return 0
    # Trusted work on the track itself: not bound by the per-upload wall time.
    result = sandbox.run({"type": "references", "split": split}, wall_seconds=max(600.0, sandbox.limits.wall_seconds))
    if not result.ok or not result.references:
        raise RuntimeError(f"could not score reference entries: {result.error}")
    public, private = result.references["public"], result.references["private"]
    from sqlalchemy.exc import IntegrityError

    model_ids = set(bundle_public.model_ids)
    with factory.begin() as session:
        owner = ensure_user(session, SYSTEM_USER)
        # Lock out a concurrent seeding worker: the (owner, track, dedup_key) key is unique.
        now = jobs.utcnow()
        for name, report in public.items():
            sub = Submission(owner_id=owner.id, track_id=track_id, kind=Kind.REFERENCE.value, split=split,
                             router_name=name, team="single model" if name in model_ids else "baseline",
                             router_type="other", status=Status.DONE.value, visibility=Visibility.PUBLIC.value,
                             dedup_key=f"reference:{name}"[:64], created_at=now, started_at=now, finished_at=now,
                             attempts=1)
            session.add(sub)
            try:
                session.flush()
            except IntegrityError:
                return 0
            columns = jobs.add_results(session, sub.id, report, private.get(name),
                                       (result.references.get("tokens") or {}).get(name))
            for key, value in columns.items():
                setattr(sub, key, value)
        bump_board(session, track_id)
    return len(public)


def seed_pricing(factory: sessionmaker[Session], sandbox: Sandbox, track_id: int) -> bool:
    """Compute the track's pricing basis once (it needs the hidden part) and keep it with the track,
    so that the web process can derive cost bounds under any price table; False when already there."""
    with factory() as session:
        if session.get(Track, track_id).pricing is not None:
            return False
    result = sandbox.run({"type": "pricing"}, wall_seconds=max(600.0, sandbox.limits.wall_seconds))
    if not result.ok or result.pricing is None:
        raise RuntimeError(f"could not compute the track's pricing basis: {result.error}")
    with factory.begin() as session:
        track = session.get(Track, track_id)
        if track.pricing is None:
            track.pricing = result.pricing
            bump_board(session, track_id)
    return True


def _measured_throughput(info: dict) -> dict:
    """A starter's measured throughput (written with its file), as submission columns."""
    tp = info.get("throughput") or {}
    if not tp.get("ktok_s"):
        return {}
    return {"throughput": float(tp["ktok_s"]), "throughput_hardware": str(tp.get("hardware", ""))[:200],
            "throughput_source": Throughput.MEASURED.value}


def seed_starters(factory: sessionmaker[Session], store_dir: str, track_id: int, track: str,
                  seen: dict[str, tuple[int, int]] | None = None) -> int:
    """Queue each stored starter router of a track once, as a ``starter`` entry scored like any upload.
    ``seen``: files handled before, by (mtime, size); those unchanged are skipped without being read."""
    from sqlalchemy.exc import IntegrityError

    from submissions.routers.starters import list_starters
    from submissions.store import FileStore

    added = 0
    store = FileStore(store_dir)
    for name, path, info in list_starters(track):
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        if seen is not None and seen.get(str(path)) == key:
            continue
        data = path.read_bytes()
        digest = store.put(data)
        try:
            with factory.begin() as session:
                owner = ensure_user(session, SYSTEM_USER)
                exists = session.execute(select(Submission.id).where(
                    Submission.track_id == track_id, Submission.kind == Kind.STARTER.value,
                    Submission.dedup_key == f"starter:{digest}"[:64])).first()
                if exists:
                    if seen is not None:
                        seen[str(path)] = key
                    continue
                session.add(Submission(
                    owner_id=owner.id, track_id=track_id, kind=Kind.STARTER.value, split="test", router_name=name,
                    team="routerboard starter", router_type="feature-level", uses_images=True,
                    description=f"{info.get('router', '')} router from submissions/routers, trained on the public "
                                "split; a sweep of λ (the accuracy–cost trade-off) written as one curve"
                                + (f". {info['unseen']}" if info.get("unseen") else ""),
                    code_url="", file_sha256=digest, file_format="csv", file_size=len(data),
                    ladder_key=f"starter:{name}",
                    **_measured_throughput(info),
                    dedup_key=f"starter:{digest}"[:64], status=Status.PENDING.value, created_at=jobs.utcnow()))
            added += 1
            if seen is not None:
                seen[str(path)] = key
        except IntegrityError:
            continue
    return added


class Worker:
    def __init__(self, settings: Settings, sources: list[TrackSource], *, worker_id: str | None = None,
                 poll_seconds: float = 0.2) -> None:
        self.settings = settings
        self.sources = sources
        self.worker_id = worker_id or jobs.new_worker_id()
        self.poll_seconds = poll_seconds
        self.engine, self.factory = connect(settings.database_url)
        self.sandboxes: dict[int, Sandbox] = {}
        self.jobs_done = 0
        self._state = "starting"
        self._current: int | None = None
        self._stop = threading.Event()
        #: track id → its name@version, for the starter files that may appear while the worker runs
        self._tracks: dict[int, str] = {}
        self._starters_checked = 0.0
        #: starter file → (mtime, size) when last queued (or found queued)
        self._starter_files: dict[str, tuple[int, int]] = {}

    # ------------------------------------------------------------------ set-up
    def prepare(self) -> None:
        limits = SandboxLimits(self.settings.sandbox_memory_bytes, self.settings.sandbox_cpu_seconds,
                               self.settings.sandbox_wall_seconds, self.settings.max_upload_bytes,
                               self.settings.max_decompressed_bytes)
        for src in self.sources:
            public = evaluator.load_bundle(src.public_path, hidden=False)
            track_id = ensure_track(self.factory, public, src.public_path)
            box = self.sandboxes.get(track_id) or Sandbox(src.public_path, src.hidden_path,
                                                          str(self.settings.store_dir), limits)
            box.ensure_started()
            self.sandboxes[track_id] = box
            self._tracks[track_id] = public.track_id
            added = seed_references(self.factory, box, public, track_id)
            seed_pricing(self.factory, box, track_id)
            if added:
                log.info("scored %d reference entries for %s", added, public.track_id)
            queued = seed_starters(self.factory, str(self.settings.store_dir), track_id, public.track_id,
                                   self._starter_files)
            if queued:
                log.info("queued %d starter routers for %s", queued, public.track_id)

    def _beat(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_seconds):
            try:
                jobs.heartbeat(self.factory, self.worker_id, state=self._state, current=self._current,
                               jobs_done=self.jobs_done)
            except Exception:  # a missed beat is shown as a stale heartbeat; never kill the worker for it
                log.exception("heartbeat failed")

    def _db(self, fn, *args, what: str, **kwargs):
        """A database call that survives a lost connection: retried with backoff until it goes
        through (or the worker is asked to stop)."""
        return retrying(fn, *args, stop=self._stop, what=what, **kwargs)

    # -------------------------------------------------------------------- loop
    def run(self, *, max_jobs: int | None = None, stop_when_idle: bool = False) -> int:
        self._db(jobs.heartbeat, self.factory, self.worker_id, state="starting", what="first heartbeat")
        self._db(self.prepare, what="start-up (tracks, reference entries, starters)")
        beat = threading.Thread(target=self._beat, daemon=True)
        beat.start()
        try:
            while not self._stop.is_set():
                self._state = "idle"
                try:
                    job = self._db(jobs.claim, self.factory, self.worker_id, lease_seconds=self.settings.lease_seconds,
                                   max_attempts=self.settings.max_attempts, track_ids=list(self.sandboxes), what="claim")
                except Exception:
                    if self._stop.is_set():
                        break
                    raise
                if job is None:
                    if self._queue_new_starters():
                        continue
                    if stop_when_idle and not self._db(self._unfinished, what="queue check"):
                        break
                    self._stop.wait(self.poll_seconds)
                    continue
                self.process(job)
                if max_jobs is not None and self.jobs_done >= max_jobs:
                    break
        finally:
            self._stop.set()
            try:
                jobs.heartbeat(self.factory, self.worker_id, state="stopped", current=None, jobs_done=self.jobs_done)
            except Exception:  # the database may be gone for good; the stale heartbeat says as much
                log.exception("last heartbeat failed")
            for box in self.sandboxes.values():
                box.close()
        return self.jobs_done

    #: how often an idle worker looks for starter routers trained since it started
    STARTER_POLL_SECONDS = 10.0

    def _queue_new_starters(self) -> int:
        """Queue starter files written since start-up (the app trains them in the background). A file
        already seen unchanged costs a ``stat``, not a read: the folder can be watched all day."""
        now = time.monotonic()
        if now - self._starters_checked < self.STARTER_POLL_SECONDS:
            return 0
        self._starters_checked = now
        added = 0
        for track_id, name in self._tracks.items():
            try:
                added += seed_starters(self.factory, str(self.settings.store_dir), track_id, name, self._starter_files)
            except Exception:  # a half-visible file or a busy database: the next poll tries again
                log.exception("could not queue new starter routers of %s", name)
        if added:
            log.info("queued %d new starter router(s)", added)
        return added

    def _unfinished(self) -> bool:
        """Whether any job of our tracks is pending or running (a running one may come back to us
        when its worker dies), i.e. whether the queue is not drained yet."""
        with self.factory() as session:
            return session.execute(select(Submission.id).where(
                Submission.track_id.in_(list(self.sandboxes)),
                Submission.status.in_([Status.PENDING.value, Status.RUNNING.value])).limit(1)).first() is not None

    def stop(self) -> None:
        """Stop now: the job being scored is interrupted and handed back to the queue at once (not
        left to wait for its lease), so another worker takes it straight away."""
        self._stop.set()
        if self._current is not None:
            for box in self.sandboxes.values():
                box.close()  # the sandbox's answer never comes; process() sees the stop and releases the job

    #: how often a file is judged again when its participant's Ladder moved meanwhile
    LADDER_RETRIES = 20

    def process(self, job: jobs.Job) -> None:
        self._state, self._current = "scoring", job.submission_id
        lost = threading.Event()
        done = threading.Event()

        def keep_lease() -> None:
            while not done.wait(max(1.0, self.settings.lease_seconds / 3)):
                try:
                    if not jobs.renew(self.factory, job.submission_id, self.worker_id, self.settings.lease_seconds):
                        lost.set()
                        return
                except Exception as exc:  # the database is away: try again at the next tick
                    log.warning("could not renew the lease of #%s: %s", job.submission_id, exc)

        renewer = threading.Thread(target=keep_lease, daemon=True)
        renewer.start()
        try:
            if not job.file_sha256:
                self._db(jobs.fail, self.factory, job.submission_id, self.worker_id, "the submission has no stored file",
                         what="fail")
                return
            self._score(job, lost)
        except Exception as exc:  # anything wrong with one job is that job's failure, never the worker's death
            if self._stop.is_set():  # interrupted by stop() (it closes the sandbox under our feet): hand it back
                try:
                    if self._db(jobs.release, self.factory, job.submission_id, self.worker_id, what="release",
                                max_wait=2.0):
                        log.info("stopping: submission %s handed back to the queue", job.submission_id)
                except Exception:  # the database is away: the lease runs out and another worker takes it
                    log.warning("could not hand submission %s back; its lease will run out", job.submission_id)
                return
            log.exception("submission %s failed unexpectedly", job.submission_id)
            try:
                self._db(jobs.fail, self.factory, job.submission_id, self.worker_id,
                         f"the evaluation failed because of an error on our side ({type(exc).__name__}); it has "
                         "been logged — the admins can re-run the submission", what="fail")
            except Exception:
                log.exception("could not mark submission %s as failed", job.submission_id)
        finally:
            done.set()
            renewer.join()
            self._current = None

    def _score(self, job: jobs.Job, lost: threading.Event) -> None:
        """Judge the file against its participant's Ladder and write the results; judged again when
        another file of the same participant was written in the meantime."""
        for _ in range(self.LADDER_RETRIES):
            ladder = (self._db(jobs.ladder_state, self.factory, job.track_id, job.ladder_key, job.submission_id,
                               what="ladder read") if job.ladder_key else None)
            result = self.sandboxes[job.track_id].run({
                "sha256": job.file_sha256, "format": job.file_format, "gzip": job.file_gzip, "split": job.split,
                "ladder": {"refs": ladder.refs if ladder else []}})
            if self._stop.is_set() and not result.ok:  # interrupted by stop(): nothing was scored
                if self._db(jobs.release, self.factory, job.submission_id, self.worker_id, what="release",
                            max_wait=2.0):
                    log.info("stopping: submission %s handed back to the queue", job.submission_id)
                return
            if lost.is_set():
                log.warning("lost the lease of submission %s; its result is discarded", job.submission_id)
                return
            if not (result.ok and result.report is not None):
                message = result.error or "scoring failed"
                if result.problems:
                    message += ": " + "; ".join(p.get("message", "") for p in result.problems[:3])
                if self._db(jobs.fail, self.factory, job.submission_id, self.worker_id, message,
                            result.problems or None, what="fail"):
                    self.jobs_done += 1
                return
            try:
                if self._db(jobs.complete, self.factory, job.submission_id, self.worker_id, result.report,
                            result.private, ladder, result.tokens, what="complete"):
                    self.jobs_done += 1
                return
            except jobs.StaleLadder:
                log.info("submission %s: its Ladder moved while it was judged; judging again", job.submission_id)
        self._db(jobs.fail, self.factory, job.submission_id, self.worker_id,
                 "the submission could not be placed on its Ladder: other submissions of the same participant "
                 "kept arriving; it will be accepted if submitted again", what="fail")
