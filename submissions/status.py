"""Submission states, kinds, visibility and router types: defined once, imported everywhere."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    WITHDRAWN = "WITHDRAWN"

    @property
    def terminal(self) -> bool:
        return self in (Status.DONE, Status.FAILED, Status.WITHDRAWN)


class Kind(str, Enum):
    USER = "user"            # uploaded by a researcher
    REFERENCE = "reference"  # single models and baselines, computed by the evaluator
    STARTER = "starter"      # the starter routers shipped with the project


class Visibility(str, Enum):
    PUBLIC = "public"    # on the leaderboard once DONE
    PRIVATE = "private"  # only its owner (and admins) see it
    HIDDEN = "hidden"    # hidden by an admin


ROUTER_TYPES: tuple[str, ...] = ("feature-level", "end-to-end", "rule", "other")


class Throughput(str, Enum):
    """Who measured a router's throughput (K tokens/s of its own inference)."""

    SELF_REPORTED = "self-reported"  # stated by the submitter, with the hardware
    MEASURED = "measured"            # measured by this project (the starter routers, at prediction time)
