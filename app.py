"""Entry point: build the app from ``leaderboard`` on the embedded default track and launch it."""

import os

from leaderboard.app import build_app

if __name__ == "__main__":
    build_app().launch(server_name=os.environ.get("ROUTERBOARD_HOST", "127.0.0.1"),
                       server_port=int(os.environ.get("ROUTERBOARD_PORT", "7860")))
