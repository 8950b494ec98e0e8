"""The routerboard command line: happy paths and one bad input per command."""

import json
import subprocess
import sys

import pandas as pd
import pytest

import evaluator
from leaderboard.cli import main
from test_importers import write_mmr, write_vlrb


@pytest.fixture(scope="module")
def dev_file(tmp_path_factory, sim_bundle):
    dev = sim_bundle.samples[sim_bundle.samples.split == "dev"]
    path = tmp_path_factory.mktemp("preds") / "sweep.csv"
    pd.concat([pd.DataFrame({"sample_id": dev.sample_id, "model_id": m, "point": str(k)})
               for k, m in enumerate(["SmolVLM2", "Qwen2.5-VL-32B-Instruct", "gpt-4o"])]).to_csv(path, index=False)
    return path


def test_score_json_equals_the_library(dev_file, sim_bundle, capsys):
    assert main(["score", str(dev_file), "--bundle", "vlrb-sim", "--split", "dev", "--json", "--replicates", "100"]) == 0
    printed = json.loads(capsys.readouterr().out)
    direct = evaluator.score(sim_bundle, pd.read_csv(dev_file, dtype=str), split="dev", replicates=100).to_dict()
    assert printed == json.loads(json.dumps(direct))
    assert printed["curve"]["nauc"] is not None


def test_score_table_output(dev_file, capsys):
    assert main(["score", str(dev_file), "--replicates", "0"]) == 0
    out = capsys.readouterr().out
    assert "nAUC" in out and "gpt-4o" not in out and "rank score" in out


def test_score_bad_file_and_hidden_test(tmp_path, dev_file, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("sample_id,model\nx,y\n")
    assert main(["score", str(bad)]) == 2
    assert "missing_columns" in capsys.readouterr().err
    assert main(["score", str(dev_file), "--split", "test", "--hidden", str(tmp_path)]) == 2
    assert "manifest" in capsys.readouterr().err


def test_score_test_split_without_hidden_part(tmp_path, capsys):
    from helpers import make_bundle, predictions

    b = make_bundle([[1, 0], [0, 1], [1, 1]], [[0.1, 0.2]] * 3, splits=["train", "dev", "test"], bounds=(0.1, 0.2))
    b.save(tmp_path / "b")
    import shutil

    shutil.rmtree(tmp_path / "b" / "hidden")
    predictions(b, 0, split="test").to_csv(tmp_path / "p.csv", index=False)
    assert main(["score", str(tmp_path / "p.csv"), "--bundle", str(tmp_path / "b"), "--split", "test"]) == 2
    assert "needs its hidden part" in capsys.readouterr().err


def test_import_commands(tmp_path, capsys):
    write_vlrb(tmp_path / "vlrb")
    assert main(["import", "vlrb", str(tmp_path / "vlrb"), "--out", str(tmp_path / "b1")]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 60
    write_mmr(tmp_path / "m.csv")
    assert main(["import", "mmr", str(tmp_path / "m.csv"), "--out", str(tmp_path / "b2"), "--split-seed", "3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["splits"] == {"train": 56, "dev": 12, "test": 12}
    assert main(["import", "vlrb", str(tmp_path / "nowhere"), "--out", str(tmp_path / "b3")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert not (tmp_path / "b3").exists()


def test_info_and_bad_track(capsys):
    assert main(["info", "vlrb-sim"]) == 0
    assert json.loads(capsys.readouterr().out)["simulated"] is True
    assert main(["info", "no-such-track"]) == 2
    assert "built-in tracks" in capsys.readouterr().err


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "leaderboard.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "score" in out.stdout and "import" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "leaderboard.cli", "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_hash_password_and_validate(capsys, tmp_path, sim_bundle):
    from leaderboard.auth import verify_password

    assert main(["hash-password", "--password", "s3cret"]) == 0
    assert verify_password("s3cret", capsys.readouterr().out.strip())
    assert main(["hash-password", "--password", ""]) == 2
    ids = sim_bundle.samples.loc[sim_bundle.samples.split == "test", "sample_id"]
    good = tmp_path / "p.csv"
    pd.DataFrame({"sample_id": ids, "model_id": "gpt-4o"}).to_csv(good, index=False)
    assert main(["validate", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"sample_id": 1, "model_id": "gpt-4o"}\n')
    assert main(["validate", str(bad), "--json"]) == 2
    assert "non_string_id" in capsys.readouterr().out


def test_bad_inputs_of_serve_worker_bench_and_publish_results(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "not-a-port"])
    assert exit_info.value.code == 2
    assert main(["worker", "--track", str(tmp_path / "nowhere")]) == 2
    assert "built-in tracks" in capsys.readouterr().err
    assert main(["bench", "--only", "no-such-benchmark"]) == 2
    assert "no benchmark matching" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert main(["publish-results", "--track", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]) == 2
    assert "could not read the leaderboard" in capsys.readouterr().err


def test_score_with_a_price_table(dev_file, sim_bundle, tmp_path, capsys):
    import yaml

    own = {m.model_id: {"input": m.input_price, "output": m.output_price} for m in sim_bundle.models}
    own["GPT-4o"] = {"input": 1.25, "output": 5.0}
    table = tmp_path / "q3.yaml"
    table.write_text(yaml.safe_dump({"name": "Q3", "date": "2026-09-30", "models": own}))
    assert main(["score", str(dev_file), "--split", "dev", "--json", "--replicates", "0", "--prices", str(table)]) == 0
    printed = json.loads(capsys.readouterr().out)
    dev = sim_bundle.split_rows("dev")
    j = sim_bundle.model_ids.index("GPT-4o")
    halved = (sim_bundle.samples["input_tokens"].to_numpy()[dev] * 1.25 + sim_bundle.output_tokens[dev, j] * 5) / 1e6
    gpt = next(p for p in printed["points"] if p["point"] == "2")
    assert gpt["cost"] == pytest.approx(halved.mean(), rel=1e-12)
    assert main(["score", str(dev_file), "--split", "dev", "--replicates", "0", "--prices", str(table)]) == 0
    assert "prices: Q3 (2026-09-30)" in capsys.readouterr().out
    del own["SmolVLM2"]
    table.write_text(yaml.safe_dump({"models": own}))
    assert main(["score", str(dev_file), "--prices", str(table)]) == 2
    assert "no prices for 1 model(s) of the pool: SmolVLM2" in capsys.readouterr().err
