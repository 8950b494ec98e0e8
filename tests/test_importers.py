"""Importers on fixtures written in the peers' exact formats; round trip equals direct scoring."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

import evaluator
from evaluator.importers import import_mmr, import_vlrb
from evaluator.metrics import rank_score

MODELS = ["qwen2.5-vl-7b", "internvl2.5-78b", "gpt-4o"]
DATASETS = ["MMBench", "ChartQA", "MathVista"]


def write_vlrb(root, n=60, seed=0, y_key="arr_0", bounds=True):
    """A VL-RouterBench checkout after step 3, in the layout of peer-formats.md."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, 3)) < [0.5, 0.7, 0.8]).astype(np.float64)
    C = rng.choice([0.0001, 0.0004, 0.001, 0.003], size=(n, 3)) * [1, 3, 10]
    ids = [f"{DATASETS[i % 3]}_{i}" for i in range(n)]
    (root / "data" / "matrices").mkdir(parents=True)
    (root / "data" / "registry").mkdir(parents=True)
    np.savez(root / "data" / "matrices" / "Y.npz", **{y_key: Y})
    np.save(root / "data" / "matrices" / "C.npy", C)
    if bounds:
        (root / "data" / "matrices" / "cost_bounds.json").write_text(json.dumps({"cmin": 0.0001, "cmax": 0.03}))
    pd.DataFrame({"sample_id": ids, "dataset": [DATASETS[i % 3] for i in range(n)]}).to_parquet(
        root / "data" / "registry" / "meta.parquet")
    (root / "SPLITS").mkdir()
    order = rng.permutation(n)
    cut = [int(0.7 * n), int(0.85 * n)]
    for name, part in zip(("train", "dev", "test"), np.split(order, cut)):
        (root / "SPLITS" / f"{name}.jsonl").write_text("".join(json.dumps({"sample_id": ids[i]}) + "\n" for i in part))
    (root / "config").mkdir()
    (root / "config" / "models.yaml").write_text(yaml.safe_dump(
        {"models": {"qwen2.5-vl-7b": {"aliases": ["Qwen/Qwen2.5-VL-7B-Instruct"]},
                    "internvl2.5-78b": {"aliases": ["OpenGVLab/InternVL2_5-78B"]}, "gpt-4o": {}}}, sort_keys=False))
    (root / "config" / "pricing.yaml").write_text(yaml.safe_dump(
        {"models": {"qwen2.5-vl-7b": {"input": 0.2, "output": 0.2}, "internvl2.5-78b": {"input": 1.0, "output": 1.5},
                    "gpt-4o": {"input": 2.5, "output": 10.0}}}))
    bench = root / "BENCHMARKS" / "General"
    bench.mkdir(parents=True)
    (bench / "MMBench_samples.jsonl").write_text("".join(
        json.dumps({"sample_id": s, "question": f"What is in image {s}?", "image": f"images/{s}.jpg"}) + "\n"
        for s in ids if s.startswith("MMBench")))
    return Y, C, ids


def test_vlrb_round_trip_scores_like_the_raw_arrays(tmp_path):
    Y, C, ids = write_vlrb(tmp_path / "vlrb")
    bundle = import_vlrb(tmp_path / "vlrb")
    bundle = evaluator.load_bundle(bundle.save(tmp_path / "bundle"))
    assert bundle.model_ids == MODELS
    assert bundle.models[2].input_price == 2.5 and bundle.models[0].aliases == ("Qwen/Qwen2.5-VL-7B-Instruct",)
    assert bundle.cost_bounds.cmin == 0.0001 and bundle.cost_bounds.cmax == 0.03
    first = bundle.samples.set_index("sample_id").loc["MMBench_0"]
    assert first["question"] == "What is in image MMBench_0?" and first["family"] == "General"
    test_ids = [json.loads(line)["sample_id"] for line in (tmp_path / "vlrb/SPLITS/test.jsonl").read_text().splitlines()]
    rows = np.array([ids.index(s) for s in test_ids])
    choice = np.arange(rows.size) % 3
    frame = pd.DataFrame({"sample_id": test_ids, "model_id": ["Qwen/Qwen2.5-VL-7B-Instruct" if j == 0 else MODELS[j]
                                                              for j in choice]})
    p = evaluator.score(bundle, frame, split="test", replicates=0).points[0]
    acc, cost = Y[rows, choice].mean(), C[rows, choice].mean()
    assert p.accuracy == pytest.approx(acc, abs=1e-12)
    assert p.cost == pytest.approx(cost, abs=1e-15)
    assert p.rank_score == pytest.approx(float(rank_score(acc, cost, 0.0001, 0.03)), abs=1e-12)


@pytest.mark.parametrize("key", ["data", "quality"])
def test_vlrb_y_under_other_keys_and_default_bounds(tmp_path, key):
    Y, C, _ = write_vlrb(tmp_path / "v", y_key=key, bounds=False)
    bundle = import_vlrb(tmp_path / "v")
    np.testing.assert_array_equal(bundle.quality, Y)
    assert bundle.cost_bounds.cmin == C.min() and bundle.cost_bounds.cmax == C.max()


@pytest.mark.parametrize("breakage, message", [
    (lambda r: (r / "data/matrices/Y.npz").unlink(), "missing data/matrices/Y.npz"),
    (lambda r: np.save(r / "data/matrices/C.npy", np.zeros((5, 3))), "shape mismatch"),
    (lambda r: (r / "SPLITS/test.jsonl").rename(r / "SPLITS/val.jsonl"), "unknown split"),
    (lambda r: (r / "SPLITS/dev.jsonl").write_text('{"sample_id": "ghost"}\n'), "not in meta.parquet"),
    (lambda r: (r / "SPLITS/dev.jsonl").write_text(""), "in no split"),
    (lambda r: (r / "config/models.yaml").write_text("models: {a: {}, b: {}}\n"), "lists 2 models"),
    (lambda r: (r / "data/matrices/cost_bounds.json").write_text('{"cmin": 1}'), "cost_bounds.json"),
    (lambda r: (r / "SPLITS/train.jsonl").write_text("{not json\n"), "not valid JSON"),
])
def test_vlrb_errors_are_specific(tmp_path, breakage, message):
    write_vlrb(tmp_path / "v")
    breakage(tmp_path / "v")
    with pytest.raises(evaluator.ImportFormatError, match=message):
        import_vlrb(tmp_path / "v")


def write_mmr(path, n=80, seed=1):
    rng = np.random.default_rng(seed)
    names = ["Qwen2.5-VL-3B-Instruct", "InternVL3-78B", "gpt-5-2025-08-07"]
    rows = []
    for i in range(n):
        ds = ["ocrbench", "mathvista"][i % 2]
        row = {"question": f"q{i}", "answer": "1", "img_path": f"img/{i}.jpg", "dataset_idx": f"{ds}_{i}"}
        for j, m in enumerate(names):
            row[f"{m}_correct"] = float(rng.random() < 0.5 + 0.15 * j)
            row[f"{m}_cost"] = float([0.03, 0.7, 10.0][j] * (0.8 + 0.4 * rng.random()))
        rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)
    return names


def test_mmr_round_trip_and_seeded_split(tmp_path):
    names = write_mmr(tmp_path / "mmr.csv")
    raw = pd.read_csv(tmp_path / "mmr.csv")
    a = import_mmr(tmp_path / "mmr.csv", split_seed=7)
    b = import_mmr(tmp_path / "mmr.csv", split_seed=7)
    c = import_mmr(tmp_path / "mmr.csv", split_seed=8)
    assert list(a.samples["split"]) == list(b.samples["split"]) != list(c.samples["split"])
    counts = a.samples["split"].value_counts()
    assert (counts["train"], counts["dev"], counts["test"]) == (56, 12, 12)
    assert a.model_ids == names and set(a.samples["dataset"]) == {"ocrbench", "mathvista"}
    bundle = evaluator.load_bundle(a.save(tmp_path / "bundle"))
    dev = bundle.samples[bundle.samples.split == "dev"]
    frame = pd.DataFrame({"sample_id": dev.sample_id, "model_id": names[1].upper()})
    p = evaluator.score(bundle, frame, replicates=0).points[0]
    sel = raw.set_index("dataset_idx").loc[dev.sample_id]
    assert p.accuracy == pytest.approx(sel[f"{names[1]}_correct"].mean(), abs=1e-12)
    assert p.cost == pytest.approx(sel[f"{names[1]}_cost"].mean(), abs=1e-12)


def test_mmr_errors(tmp_path):
    (tmp_path / "none.csv").write_text("question,img_path\nq,x.jpg\n")
    with pytest.raises(evaluator.ImportFormatError, match="_correct"):
        import_mmr(tmp_path / "none.csv")
    (tmp_path / "nocost.csv").write_text("question,m_correct\nq,1\n")
    with pytest.raises(evaluator.ImportFormatError, match="no matching _cost"):
        import_mmr(tmp_path / "nocost.csv")
    (tmp_path / "text.csv").write_text("question,m_correct,m_cost\nq,yes,0.1\n")
    with pytest.raises(evaluator.ImportFormatError, match="not a number"):
        import_mmr(tmp_path / "text.csv")
    with pytest.raises(evaluator.ImportFormatError, match="no file"):
        import_mmr(tmp_path / "missing.csv")


def test_vlrb_precomputed_embeddings_are_kept_and_used(tmp_path):
    from submissions.routers.features import feature_matrix

    _, _, ids = write_vlrb(tmp_path / "v")
    rng = np.random.default_rng(5)
    (tmp_path / "v/EMBEDDINGS/text").mkdir(parents=True)
    (tmp_path / "v/EMBEDDINGS/vision").mkdir(parents=True)
    text = rng.standard_normal((len(ids), 8)).astype(np.float32)
    vision = rng.standard_normal((len(ids), 4)).astype(np.float32)
    order = rng.permutation(len(ids))  # files need not follow meta order
    pd.DataFrame({"sample_id": np.array(ids)[order], "embedding": list(text[order])}).to_parquet(
        tmp_path / "v/EMBEDDINGS/text/bge-m3.parquet")
    pd.DataFrame(vision[order], columns=[f"d{k}" for k in range(4)]).assign(sample_id=np.array(ids)[order]).to_parquet(
        tmp_path / "v/EMBEDDINGS/vision/siglip.parquet")
    bundle = evaluator.load_bundle(import_vlrb(tmp_path / "v").save(tmp_path / "b"))
    np.testing.assert_array_equal(bundle.embeddings["text"], text)
    np.testing.assert_array_equal(bundle.embeddings["vision"], vision)
    x = feature_matrix(bundle, np.arange(5), progress=False)  # no encoder is loaded: the shipped ones are used
    np.testing.assert_array_equal(x[:, :8], text[:5])
    np.testing.assert_array_equal(x[:, 8:12], vision[:5])
    pd.DataFrame({"sample_id": ids[:3], "embedding": list(text[:3])}).to_parquet(
        tmp_path / "v/EMBEDDINGS/text/bge-m3.parquet")
    with pytest.raises(evaluator.ImportFormatError, match="have no embedding"):
        import_vlrb(tmp_path / "v")
