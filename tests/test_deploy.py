"""Where the app listens and where it keeps its data: locally, behind Gradio's own variables, and on
a Hugging Face Space (with and without persistent storage)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LISTEN_VARS = ("ROUTERBOARD_HOST", "ROUTERBOARD_PORT", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "SPACE_ID")


@pytest.fixture()
def clean_env(monkeypatch):
    for name in LISTEN_VARS + ("DATABASE_URL", "ROUTERBOARD_STORE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("env, args, expected", [
    ({}, {}, ("127.0.0.1", 7860)),
    ({"GRADIO_SERVER_PORT": "7896"}, {}, ("127.0.0.1", 7896)),
    ({"GRADIO_SERVER_NAME": "0.0.0.0"}, {}, ("0.0.0.0", 7860)),
    ({"GRADIO_SERVER_PORT": "7896", "ROUTERBOARD_PORT": "8001"}, {}, ("127.0.0.1", 8001)),
    ({"GRADIO_SERVER_NAME": "0.0.0.0", "ROUTERBOARD_HOST": "localhost"}, {}, ("localhost", 7860)),
    ({"SPACE_ID": "org/board"}, {}, ("0.0.0.0", 7860)),
    ({"SPACE_ID": "org/board", "GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7860"}, {}, ("0.0.0.0", 7860)),
    ({"GRADIO_SERVER_PORT": "7896"}, {"host": "10.0.0.2", "port": 9000}, ("10.0.0.2", 9000)),
    ({"ROUTERBOARD_PORT": ""}, {}, ("127.0.0.1", 7860)),
])
def test_listen_address(clean_env, env, args, expected):
    from leaderboard.deploy import listen_address
    from leaderboard.app import launch_kwargs

    for k, v in env.items():
        clean_env.setenv(k, v)
    assert listen_address(**args) == expected
    kw = launch_kwargs(**args)
    assert (kw["server_name"], kw["server_port"]) == expected


def test_a_bad_port_variable_is_named(clean_env):
    from leaderboard.deploy import listen_address

    clean_env.setenv("GRADIO_SERVER_PORT", "http")
    with pytest.raises(ValueError, match="GRADIO_SERVER_PORT"):
        listen_address()


def test_data_dir_on_a_space_uses_persistent_storage(clean_env, tmp_path):
    from evaluator import tracks

    storage = tmp_path / "data"
    storage.mkdir()
    clean_env.delenv("ROUTERBOARD_DATA_DIR")
    clean_env.setattr(tracks, "SPACE_STORAGE", storage)
    assert tracks.data_dir() == Path.home() / ".cache" / "routerboard"  # not a Space
    clean_env.setenv("SPACE_ID", "org/board")
    assert tracks.data_dir() == storage / "routerboard"
    clean_env.setenv("ROUTERBOARD_DATA_DIR", str(tmp_path / "mine"))
    assert tracks.data_dir() == tmp_path / "mine"  # the operator's choice wins
    clean_env.delenv("ROUTERBOARD_DATA_DIR")
    clean_env.setattr(tracks, "SPACE_STORAGE", tmp_path / "absent")  # a Space without persistent storage
    assert tracks.data_dir() == Path.home() / ".cache" / "routerboard"


def test_storage_warning_only_on_a_space_without_persistent_storage(clean_env, tmp_path, caplog):
    from evaluator import tracks
    from leaderboard.deploy import log_storage_warning, storage_warning
    from submissions.config import Settings

    storage = tmp_path / "data"
    clean_env.delenv("ROUTERBOARD_DATA_DIR")
    clean_env.setattr(tracks, "SPACE_STORAGE", storage)
    clean_env.setenv("HOME", str(tmp_path / "home"))
    assert storage_warning(Settings.from_env()) is None  # local: nothing to warn about
    clean_env.setenv("SPACE_ID", "org/board")
    text = storage_warning(Settings.from_env())
    assert text and "persistent storage" in text and "lost" in text and "/data" not in str(tracks.data_dir())
    storage.mkdir()
    assert storage_warning(Settings.from_env()) is None  # /data mounted: database and uploads go there
    clean_env.setattr(tracks, "SPACE_STORAGE", tmp_path / "absent")
    with caplog.at_level("WARNING", logger="routerboard"):
        assert log_storage_warning(Settings.from_env()) == storage_warning(Settings.from_env())
    assert "No persistent storage" in caplog.text and "**" not in caplog.text  # the log says it too
    clean_env.setenv("DATABASE_URL", "postgresql://u@db/routerboard")
    text = storage_warning(Settings.from_env())  # scores are safe, uploaded files are not
    assert text and "uploaded prediction files" in text and "the database (" not in text


def test_the_app_header_carries_the_storage_warning(clean_env, tmp_path, sim_bundle):
    """On a Space without /data the page itself says that submissions do not survive a restart."""
    from evaluator import tracks
    from leaderboard import auth
    from leaderboard.app import build_app
    from submissions.config import Settings
    from submissions.service import SubmissionService

    clean_env.setattr(tracks, "SPACE_STORAGE", tmp_path / "absent")
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    clean_env.setenv("ROUTERBOARD_STORE_DIR", str(tmp_path / "store"))
    # Gradio's LoginButton refuses to build outside a real Space without a Hub login: keep local login
    clean_env.setattr(auth, "mode", lambda: "local")

    def header(space: bool) -> str:
        if space:
            clean_env.setenv("SPACE_ID", "org/board")
        app = build_app(SubmissionService(Settings.from_env(), tracks=["vlrb-sim"]))
        return "\n".join(str(b.value) for b in app.blocks.values() if b.get_block_name() == "markdown"
                         and getattr(b, "elem_id", None) == "storage-warning")

    assert header(space=False) == ""
    assert "persistent storage" in header(space=True)


def test_python_app_py_listens_on_gradio_server_port(tmp_path, sim_bundle):
    """`GRADIO_SERVER_PORT=… python app.py` with no ROUTERBOARD_PORT: the app answers on that port."""
    import urllib.request

    from app_server import running_app

    with running_app(tmp_path, argv=["app.py"], port_variable="GRADIO_SERVER_PORT", timeout=120) as url:
        with urllib.request.urlopen(url + "gradio_api/info", timeout=10) as r:
            assert r.status == 200 and b"leaderboard_rows" in r.read()


def _front_matter() -> dict:
    import yaml

    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n"), "a Space reads its settings from YAML at the very top of README.md"
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_readme_carries_the_space_settings():
    import gradio

    meta = _front_matter()
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and (ROOT / meta["app_file"]).exists()
    assert meta["sdk_version"] == gradio.__version__, "the Space should run the gradio these tests ran on"
    assert str(meta["python_version"]) == "3.11"
    assert meta["hf_oauth"] is True  # the Submit tab's "Sign in with Hugging Face"
    assert {"title", "emoji", "colorFrom", "colorTo", "license"} <= set(meta)


def test_space_requirements_are_the_package_dependencies():
    """A Space installs requirements.txt (before the repository is copied, so not `.`), and gradio
    itself from sdk_version."""
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines == [d for d in deps if not d.startswith("gradio>")]
