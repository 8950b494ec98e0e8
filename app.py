"""Entry point: the app on the embedded default track, with one evaluation worker beside it."""

from leaderboard.app import serve

if __name__ == "__main__":
    serve()
