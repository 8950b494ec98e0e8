"""The embedded default track has VL-RouterBench's shape, is reproducible to the byte, and is routable."""

import hashlib

import numpy as np
import pandas as pd
import pytest

import evaluator
from evaluator import vlrb_sim
from evaluator.bundle import VLRB_FAMILIES


def test_shape_matches_the_seed_benchmark(sim_bundle):
    s = sim_bundle.samples
    assert len(sim_bundle.models) == 17
    assert len(s) == 30_540
    assert s["dataset"].nunique() == 14 and set(s["dataset"]) == set(VLRB_FAMILIES)
    assert s["family"].nunique() == 3
    assert (s["family"] == s["dataset"].map(VLRB_FAMILIES)).all()
    share = s["split"].value_counts(normalize=True)
    for split, target in (("train", 0.70), ("dev", 0.15), ("test", 0.15)):
        assert abs(share[split] - target) <= 0.01 * target
    test = (s.split == "test").to_numpy()
    assert set(sim_bundle.parts[test]) == {"public", "private"} and set(sim_bundle.parts[~test]) == {""}
    assert abs((sim_bundle.parts[test] == "public").mean() - 0.5) < 0.02
    assert "part" not in s.columns
    assert sim_bundle.provenance.simulated is True
    assert sim_bundle.images is not None and sim_bundle.images.shape == (30_540, 16, 16, 3)


def test_prices_are_the_seeds():
    gpt = next(m for m in vlrb_sim.generate().models if m.model_id == "GPT-4o")
    assert (gpt.input_price, gpt.output_price) == (2.50, 10.00)


def test_costs_follow_tokens_and_prices(sim_bundle):
    tokens_in = sim_bundle.samples["input_tokens"].to_numpy()[:, None]
    pin = np.array([m.input_price for m in sim_bundle.models])
    pout = np.array([m.output_price for m in sim_bundle.models])
    expected = (tokens_in * pin + sim_bundle.output_tokens * pout) / 1e6
    np.testing.assert_allclose(sim_bundle.cost, expected, rtol=1e-12)


def test_thinking_model_writes_the_longest_answers(sim_bundle):
    mean_out = sim_bundle.output_tokens.mean(axis=0)
    assert sim_bundle.model_ids[int(np.argmax(mean_out))] == "Kimi-VL-A3B-Thinking-2506"


def test_best_single_model_does_not_win_every_dataset(sim_bundle):
    acc = pd.DataFrame(sim_bundle.quality, columns=sim_bundle.model_ids).groupby(
        sim_bundle.samples["dataset"].to_numpy()).mean()
    best = sim_bundle.model_ids[int(np.argmax(sim_bundle.quality.mean(axis=0)))]
    winners = acc.idxmax(axis=1)
    assert (winners != best).sum() >= 3, winners.to_dict()


def test_bigger_models_are_better_on_average(sim_bundle):
    acc = dict(zip(sim_bundle.model_ids, sim_bundle.quality.mean(axis=0)))
    assert acc["Qwen2.5-VL-72B-Instruct"] > acc["Qwen2.5-VL-32B-Instruct"] > acc["Janus-Pro-1B"]
    assert acc["Janus-Pro-7B"] > acc["Janus-Pro-1B"]


def test_routing_pays_on_the_test_split(sim_bundle):
    refs = evaluator.score_references(sim_bundle, "test", replicates=0)
    best_single = max(refs[m].points[0].accuracy for m in sim_bundle.model_ids)
    assert refs["StrongestPerDataset"].points[0].accuracy > best_single
    assert refs["Oracle"].points[0].accuracy > refs["StrongestPerDataset"].points[0].accuracy
    assert refs["Oracle"].points[0].rank_score > max(r.points[0].rank_score for r in refs.values() if r is not refs["Oracle"])


def test_text_carries_signal_about_who_succeeds(sim_bundle):
    """Questions that name OCR cues are where the OCR specialist gains most over a perception model."""
    s = sim_bundle.samples
    ocr_cue = s["question"].str.contains("small printed text|handwritten words|read the label|serial number")
    j_ocr = sim_bundle.model_ids.index("Qianfan-VL-8B")
    j_vis = sim_bundle.model_ids.index("Janus-Pro-7B")
    gain = sim_bundle.quality[:, j_ocr] - sim_bundle.quality[:, j_vis]
    assert gain[ocr_cue.to_numpy()].mean() > gain[~ocr_cue.to_numpy()].mean() + 0.1


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_generated_twice_gives_identical_files(tmp_path):
    a = vlrb_sim.generate().save(tmp_path / "a")
    b = vlrb_sim.generate().save(tmp_path / "b")
    da, db = _digest(a), _digest(b)
    assert da == db
    assert {"public/samples.parquet", "public/quality.npy", "hidden/quality.npy", "public/images.npy"} <= set(da)
