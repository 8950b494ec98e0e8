"""Integrity: the probing and boosting attacks mounted through ``SubmissionService`` (quota lifted),
on the raw full-precision board (what the app showed before: exact scores) and on this one (the
public part through the Ladder, the private part revealed in releases), side by side.

Prints:
  [1] per-sample decoding — a 100-point file whose points differ from a base routing in one sample
      each (and one per dataset each): hidden per-sample values recovered (target 0 here);
  [2] the boosting attack (Blum & Hardt 2015): files of 100 random routings between two models, the
      majority vote of the routings that scored well — best shown gain over the two models' mean
      (target ≤ 1.5 points at 1,000 probes; raw ≥ 9), and its gain on the private part at a release;
  [3] the threshold's two sides: attacker gain and an honest curve's released points per threshold;
  [4] an honest starter router: shown public score against its private score;
  [5] the time of scoring one submission with the Ladder and the private part, against today's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("ROUTERBOARD_DATA_DIR", os.path.join(tempfile.gettempdir(), "routerboard-bench-data"))

import evaluator  # noqa: E402
from evaluator.board import Released, score_for_board  # noqa: E402
from evaluator.ladder import DEFAULT_SETTINGS, LadderSettings, climb  # noqa: E402
from evaluator.parts import PRIVATE_SPLIT, PUBLIC_SPLIT  # noqa: E402
from evaluator.predictions import restrict  # noqa: E402
from evaluator.report import per_sample  # noqa: E402
from evaluator.tracks import builtin_track_dir, ensure_builtin  # noqa: E402
from submissions.config import Settings  # noqa: E402
from submissions.service import SubmissionMeta, SubmissionService  # noqa: E402
from submissions.worker import TrackSource, Worker  # noqa: E402

ADMIN = "admin"
PAIR = ("Gemini-Flash-2.5", "Qwen2.5-VL-72B-Instruct")
BASE, PROBE = "Janus-Pro-1B", "GPT-4o"


class Board:
    """The app's service and one in-process worker on a fresh SQLite database, quota lifted."""

    def __init__(self, tmp: Path) -> None:
        settings = Settings(database_url=f"sqlite:///{tmp / 'bench.db'}", store_dir=tmp / "store",
                            daily_quota=10 ** 9, heartbeat_seconds=5, admins=frozenset({ADMIN}))
        self.service = SubmissionService(settings)
        root = builtin_track_dir("vlrb-sim")
        self.worker = Worker(settings, [TrackSource(str(root), str(root / "hidden"))])
        self.worker.prepare()

    def submit(self, user: str, name: str, frame: pd.DataFrame) -> int:
        res = self.service.submit(user, self.service.default_track, f"{name}.csv", frame.to_csv(index=False).encode(),
                                  SubmissionMeta(name))
        assert res.accepted, res.message
        return res.submission_id

    def drain(self) -> None:
        from submissions import queue as jobs

        while True:
            job = jobs.claim(self.worker.factory, self.worker.worker_id, lease_seconds=600, max_attempts=3,
                             track_ids=list(self.worker.sandboxes))
            if job is None:
                return
            self.worker.process(job)

    def shown(self, user: str, sid: int) -> dict[str, dict]:
        """What the board shows of each point of a submission (absent: held)."""
        return {p["point"]: p for p in self.service.status(sid, user).points}


def file_of(ids: np.ndarray, names: list[str], choices: np.ndarray, labels: list[str]) -> pd.DataFrame:
    P, n = choices.shape
    model = np.asarray(names, dtype=object)[choices.reshape(-1)]
    return pd.DataFrame({"sample_id": np.tile(ids, P), "model_id": model, "point": np.repeat(labels, n)})


# ------------------------------------------------------------------------------------------ [1]
def decoding(board: Board, bundle, n_points: int, per_dataset: bool, rng) -> tuple[int, int, int, int, int]:
    """(probes of hidden differences, quality recovered raw, on the Ladder, cost recovered raw, Ladder)."""
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    test = bundle.split_rows("test")
    datasets = bundle.samples["dataset"].to_numpy()[test]
    names = bundle.model_ids
    base, probe = names.index(BASE), names.index(PROBE)
    P = n_points
    choices = np.full((P, ids.size), base, dtype=np.int64)
    probes: list[list[int]] = [[]]
    groups = sorted(set(datasets)) if per_dataset else [None]
    pools = {g: rng.permutation(np.flatnonzero(datasets == g) if g else np.arange(ids.size)) for g in groups}
    for k in range(1, P):
        pos = [int(pools[g][k]) for g in groups]
        choices[k, pos] = probe
        probes.append(pos)
    labels = [f"{k:03d}" for k in range(P)]
    user = f"decoder-{'dataset' if per_dataset else 'sample'}"
    sid = board.submit(user, user, file_of(ids, names, choices, labels))
    board.drain()
    shown = board.shown(user, sid)
    decisions = evaluator.Decisions("test", labels, choices)
    exact = evaluator.score_decisions(bundle, restrict(bundle, decisions, PUBLIC_SPLIT), replicates=0).to_dict()
    raw = {p["point"]: p for p in exact["points"]}
    is_public = bundle.parts[test] == "public"
    Y, C = bundle.quality[test], bundle.cost[test]
    n_pub = int(is_public.sum())
    counts = {g: int((is_public & (datasets == g)).sum()) for g in groups if g}
    total = rq = lq = rc = lc = 0

    def read(view: dict, point: str, g):
        p = view.get(point)
        if p is None:
            return None
        if g is None:
            return p["accuracy"], p["cost"], n_pub
        grp = p["per_dataset"].get(g)
        return (grp["accuracy"], grp["cost"], counts[g]) if grp else None

    for k in range(1, P):
        for pos, g in zip(probes[k], groups):
            if not is_public[pos] or Y[pos, probe] == Y[pos, base]:
                continue  # nothing hidden to read on the board (private, or no difference)
            total += 1
            dq, dc = Y[pos, probe] - Y[pos, base], C[pos, probe] - C[pos, base]
            for view, is_raw in ((raw, True), (shown, False)):
                a, b = read(view, labels[k], g), read(view, labels[0], g)
                if a is None or b is None:
                    continue  # held: the board says nothing
                q_ok = round((a[0] - b[0]) * a[2]) == dq and abs((a[0] - b[0]) * a[2] - dq) < 1e-6
                c_ok = a[1] is not None and b[1] is not None and abs((a[1] - b[1]) * a[2] - dc) <= 1e-9 * abs(dc)
                if is_raw:
                    rq, rc = rq + q_ok, rc + c_ok
                else:
                    lq, lc = lq + q_ok, lc + c_ok
    return total, rq, lq, rc, lc


# ------------------------------------------------------------------------------------------ [2]
def majority(R: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.where(R.mean(axis=0) > 0.5, b, a)


def boosting(board: Board, bundle, probes: int, seed: int) -> dict[str, float]:
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    test = bundle.split_rows("test")
    names = bundle.model_ids
    a, b = names.index(PAIR[0]), names.index(PAIR[1])
    rng = np.random.default_rng(seed)
    R = rng.integers(0, 2, size=(probes, ids.size))  # 1 → model b
    choices = np.where(R == 1, b, a)
    user = f"boost-{probes}-{seed}"
    sids = []
    for f in range(0, probes, 100):
        labels = [f"{f + k:04d}" for k in range(min(100, probes - f))]
        sids.append((board.submit(user, f"{user}-{f}", file_of(ids, names, choices[f:f + len(labels)], labels)), labels))
    board.drain()
    shown: dict[int, float] = {}
    for sid, labels in sids:
        for label, p in board.shown(user, sid).items():
            shown[int(label)] = p["accuracy"]
    pub, priv = bundle.parts[test] == "public", bundle.parts[test] == "private"
    Y = bundle.quality[test]
    acc = lambda ch, m: float(Y[m, ch[m]].mean())  # noqa: E731
    raw_scores = np.array([acc(choices[k], pub) for k in range(probes)])
    mean_pub = (Y[pub, a].mean() + Y[pub, b].mean()) / 2
    mean_priv = (Y[priv, a].mean() + Y[priv, b].mean()) / 2
    # raw board: every probe's exact public score is shown; keep those above the median
    raw_major = majority(R[raw_scores > np.median(raw_scores)], a, b)
    raw_gain = max(raw_scores.max(), acc(raw_major, pub)) - mean_pub
    raw_private = acc(raw_major, priv) - mean_priv
    # the Ladder: only released probes have a value; try both selections an attacker would
    released = np.array(sorted(shown))
    candidates = []
    if released.size:
        vals = np.array([shown[k] for k in released])
        candidates = [released]
        above = released[vals >= np.median(vals)]
        if not np.array_equal(above, released):  # the same selection makes the same file
            candidates.append(above)
    best_shown = max(shown.values()) if shown else float("nan")
    for c, sel in enumerate(candidates):
        maj = majority(R[sel], a, b)
        sid = board.submit(user, f"{user}-majority-{c}", pd.DataFrame({"sample_id": ids, "model_id":
                                                                        np.asarray(names, dtype=object)[maj]}))
        board.drain()
        for p in board.shown(user, sid).values():
            best_shown = max(best_shown, p["accuracy"])
    release = board.service.cut_release(ADMIN, note=user)
    entry = next(r for r in board.service.release_rows(release["id"]) if r["owner"] == user)
    # the private score of the attacker's final (the default: its best shown submission) at its point
    ladder_private = entry["accuracy"] - mean_priv
    return {"raw_gain": 100 * raw_gain, "ladder_gain": 100 * (best_shown - mean_pub), "raw_private": 100 * raw_private,
            "ladder_private": 100 * ladder_private, "released": float(len(shown))}


# ------------------------------------------------------------------------------------------ [3]
def offline_gain(bundle, probes: int, seed: int, k: float) -> float:
    """The boosting attack against the Ladder at threshold ``k``, computed directly (same climb)."""
    test = bundle.split_rows("test")
    pub = bundle.parts[test] == "public"
    Y, C = bundle.quality[test][pub], bundle.cost[test][pub]
    a, b = bundle.model_ids.index(PAIR[0]), bundle.model_ids.index(PAIR[1])
    rng = np.random.default_rng(seed)
    R = rng.integers(0, 2, size=(probes, int(test.size)))[:, pub]
    n = int(pub.sum())
    ch = np.where(R == 1, b, a)
    Q, Cc = Y[np.arange(n)[None, :], ch].T, C[np.arange(n)[None, :], ch].T
    s = LadderSettings(threshold_se=k)
    rq, rc, shown = np.zeros((n, 0)), np.zeros((n, 0)), {}
    for f in range(0, probes, 100):
        idx = np.arange(f, min(probes, f + 100))
        for i in idx[climb(Q[:, idx], Cc[:, idx], rq, rc, s)]:
            rq, rc = np.column_stack([rq, Q[:, i]]), np.column_stack([rc, Cc[:, i]])
            shown[int(i)] = round(Q[:, i].mean(), 3)
    best = max(shown.values())
    rel = np.array(sorted(shown))
    for sel in (rel, rel[np.array([shown[i] for i in rel]) >= np.median([shown[i] for i in rel])]):
        maj = majority(R[sel], a, b)
        q, c = Y[np.arange(n), maj], C[np.arange(n), maj]
        if climb(q[:, None], c[:, None], rq, rc, s)[0]:
            best = max(best, round(q.mean(), 3))
    return 100 * (best - (Y[:, a].mean() + Y[:, b].mean()) / 2)


def honest_curve(quick: bool):
    """A starter router's λ sweep on the test split: the stored one, or trained now (linear)."""
    from submissions.routers.starters import list_starters

    bundle = evaluator.load_bundle("vlrb-sim")
    for name, path, _ in list_starters(bundle.track_id):
        return name, pd.read_csv(path, dtype=str)
    if quick:  # a fixed per-dataset rule: as honest as a router, no training
        train = bundle.split_rows("train")
        s = bundle.samples
        best = {d: int(np.argmax(bundle.quality[train[s.dataset.to_numpy()[train] == d]].mean(axis=0)))
                for d in s.dataset.unique()}
        t = s[s.split == "test"]
        return "per-dataset rule", pd.DataFrame({"sample_id": t.sample_id,
                                                 "model_id": [bundle.model_ids[best[d]] for d in t.dataset]})
    from submissions.routers.sweep import train_sweep

    public = evaluator.load_bundle("vlrb-sim", hidden=False)
    return "Starter linear (λ sweep, trained now)", train_sweep(public, "linear", progress=False).predictions


# ------------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    ensure_builtin("vlrb-sim")
    bundle = evaluator.load_bundle("vlrb-sim", images=False)
    tmp = Path(tempfile.mkdtemp(prefix="rb-bench-integrity-"))
    board = Board(tmp)
    rng = np.random.default_rng(0)
    k = DEFAULT_SETTINGS.threshold_se
    print(f"vlrb-sim: {int(bundle.split_rows(PUBLIC_SPLIT).size)} public / {int(bundle.split_rows(PRIVATE_SPLIT).size)} "
          f"private test samples; Ladder threshold {k:g} standard errors, accuracy shown to "
          f"{100 * DEFAULT_SETTINGS.accuracy_step:g} points")

    points = 20 if args.quick else 100
    print(f"\n[1] per-sample decoding, one {points}-point file each (values recovered exactly / probes of hidden "
          "non-zero differences on the public part):")
    print(f"{'attack':<34} {'probes':>7} {'raw: quality':>13} {'Ladder':>7} {'raw: cost':>10} {'Ladder':>7}")
    for per_dataset in (False, True):
        total, rq, lq, rc, lc = decoding(board, bundle, points, per_dataset, rng)
        what = "one sample per dataset per point" if per_dataset else "one flipped sample per point"
        print(f"{what:<34} {total:7d} {rq:13d} {lq:7d} {rc:10d} {lc:7d}")

    print(f"\n[2] boosting attack ({PAIR[0]} vs {PAIR[1]}, majority of the routings that scored well), points over "
          "the two models' mean accuracy:")
    print(f"{'probes':>6} {'seed':>4} {'raw shown':>10} {'Ladder shown':>13} {'released':>9} {'raw private':>12} "
          f"{'Ladder private':>15}")
    sizes = (20, 50) if args.quick else (100, 500, 1000)
    seeds = (0,) if args.quick else (0, 1, 2)
    summary = {}
    for probes in sizes:
        res = [boosting(board, bundle, probes, seed) for seed in seeds]
        for seed, r in zip(seeds, res):
            print(f"{probes:6d} {seed:4d} {r['raw_gain']:+10.2f} {r['ladder_gain']:+13.2f} {int(r['released']):9d} "
                  f"{r['raw_private']:+12.2f} {r['ladder_private']:+15.2f}")
        summary[probes] = {key: float(np.mean([r[key] for r in res])) for key in res[0]}
        s = summary[probes]
        print(f"{probes:6d} mean {s['raw_gain']:+10.2f} {s['ladder_gain']:+13.2f} {s['released']:9.1f} "
              f"{s['raw_private']:+12.2f} {s['ladder_private']:+15.2f}")
    top = summary[sizes[-1]]
    print(f"at {sizes[-1]} probes: Ladder shows {top['ladder_gain']:+.2f} points (target ≤ 1.5), raw "
          f"{top['raw_gain']:+.2f} = {top['raw_gain'] / max(top['ladder_gain'], 0.01):.1f}x the Ladder's")

    name, honest = honest_curve(args.quick)
    decisions = evaluator.decisions_from_frame(bundle, honest, "test")
    # how much more accurate than an earlier honest entry a new one must be (at no lower cost) to show:
    # threshold × the paired standard error between the honest curve's best point and StrongestPerDataset
    from evaluator.baselines import STRONGEST_PER_DATASET, reference_entries

    public = restrict(bundle, decisions, PUBLIC_SPLIT)
    q, _ = per_sample(bundle, public)
    best = int(np.argmax(q.mean(axis=0)))
    rule = next(e for e in reference_entries(bundle, PUBLIC_SPLIT) if e.name == STRONGEST_PER_DATASET)
    q_rule, _ = per_sample(bundle, evaluator.Decisions(PUBLIC_SPLIT, ["rule"], rule.choice[None, :]))
    d = q[:, best] - q_rule[:, 0]
    se = d.std(ddof=1) / np.sqrt(d.size)
    print(f"\n[3] the threshold's two sides ({sizes[-1]} probes; honest curve: {name}, {len(decisions.points)} points; "
          f"honest gain needed: threshold × {100 * se:.2f} points, the paired standard error of its best point "
          "against StrongestPerDataset):")
    print(f"{'threshold (SE)':>14} {'attacker gain':>14} {'honest points released':>23} {'honest gain needed':>19}")
    for t in (1.0, 2.0, 2.5, 3.0):
        gain = np.mean([offline_gain(bundle, sizes[-1], seed, t) for seed in seeds])
        board_t = score_for_board(bundle, decisions, settings=LadderSettings(threshold_se=t))
        released = sum(v.released for v in board_t.verdicts)
        mark = "  <- default" if t == k else ""
        print(f"{t:14g} {gain:+14.2f} {released:>17d} of {len(decisions.points)} {100 * t * se:>16.2f} pts{mark}")

    print(f"\n[4] an honest entry ({name}), shown on the public part vs its private score:")
    sid = board.submit("honest", "honest", honest)
    board.drain()
    view = board.service.status(sid, "honest")
    release = board.service.cut_release(ADMIN, note="honest")
    entry = next(r for r in board.service.release_rows(release["id"]) if r["owner"] == "honest")
    shown = next(p for p in view.points if p["point"] == entry["point"]) if any(
        p["point"] == entry["point"] for p in view.points) else max(view.points, key=lambda p: p["rank_score"])
    lo, hi = shown["ci"]["rank_score"]
    inside = lo <= entry["rank_score"] <= hi
    print(f"point {entry['point']}: shown rank score {100 * shown['rank_score']:.2f} (95% interval {100 * lo:.2f}–"
          f"{100 * hi:.2f}), accuracy {100 * shown['accuracy']:.1f}%; private rank score {100 * entry['rank_score']:.2f}, "
          f"accuracy {100 * entry['accuracy']:.2f}% — {'within' if inside else 'OUTSIDE'} the shown interval")

    print("\n[5] scoring one submission in the sandbox (parse + validate + score), today's vs with the Ladder and "
          "the private part (3 released points to beat), medians of interleaved runs:")
    from submissions.formats import Limits
    from submissions.validation import validate

    n_test = int(bundle.split_rows("test").size)
    refs = Released(rng.integers(0, len(bundle.models), (3, n_test)))
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    for P in (1, 12, 100):
        data = file_of(ids, bundle.model_ids, rng.integers(0, len(bundle.models), (P, n_test)),
                       [str(i) for i in range(P)]).to_csv(index=False).encode()
        old, new = [], []
        for _ in range(3 if args.quick else 9):
            t0 = time.perf_counter()
            d = validate(bundle, data, "f.csv", "test", Limits()).decisions
            evaluator.score_decisions(bundle, d)
            old.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            d = validate(bundle, data, "f.csv", "test", Limits()).decisions
            score_for_board(bundle, d, refs)
            new.append(time.perf_counter() - t0)
        o, nw = float(np.median(old)), float(np.median(new))
        print(f"{P:4d}-point file: today {o:.3f} s, with the Ladder and the private part {nw:.3f} s = {nw / o:.2f}x "
              "(target ≤ 1.1x)")
    for box in board.worker.sandboxes.values():
        box.close()


if __name__ == "__main__":
    sys.exit(main())
