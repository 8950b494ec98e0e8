"""What one test-split submission yields for the leaderboard: the public part through the Ladder,
the private part scored exactly and kept for releases.

This is the only function the sandboxed worker calls for an upload; it needs the hidden part (the
test matrices and which test row is public or private), and it returns aggregates only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluator.bundle import Bundle
from evaluator.generalisation import with_heldout_groups
from evaluator.ladder import DEFAULT_SETTINGS, LadderSettings, Verdict, climb, shown_report
from evaluator.parts import PRIVATE_SPLIT, PUBLIC_SPLIT
from evaluator.predictions import Decisions, restrict
from evaluator.pricing import has_tokens, token_sums
from evaluator.report import per_sample, score_decisions


@dataclass(frozen=True)
class Released:
    """A participant's points released so far, as decisions on the test split: what a new point must
    significantly beat."""

    choices: np.ndarray  # (R, n_test) model columns

    @classmethod
    def none(cls, n_test: int) -> "Released":
        return cls(np.zeros((0, n_test), dtype=np.int64))


@dataclass(frozen=True)
class BoardResult:
    """``public``: the shown report (released points only); ``private``: the exact private-part
    report, stored and shown to nobody before a release."""

    public: dict[str, Any]
    private: dict[str, Any]
    verdicts: list[Verdict]
    #: per released point, its per-model input and then output token sums on the public part (what
    #: re-pricing needs; hidden data, stored on the server and never shown); empty without token data
    tokens: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"report": self.public, "private": self.private, "tokens": self.tokens}


def point_tokens(bundle: Bundle, decisions: Decisions, only: set[str] | None = None) -> dict[str, list[float]]:
    """Per point label, ``[input sums per model…, output sums per model…]`` on the decisions' rows."""
    if not has_tokens(bundle):
        return {}
    inp, out = token_sums(bundle, decisions)
    return {label: [*map(float, inp[k]), *map(float, out[k])] for k, label in enumerate(decisions.points)
            if only is None or label in only}


def score_for_board(bundle: Bundle, decisions: Decisions, released: Released | None = None,
                    settings: LadderSettings = DEFAULT_SETTINGS) -> BoardResult:
    """Score test-split ``decisions`` for the board (see the module docstring)."""
    if decisions.split != "test":
        raise ValueError(f"board scoring takes test-split decisions, got {decisions.split!r}")
    released = released or Released.none(decisions.choices.shape[1])
    public = restrict(bundle, decisions, PUBLIC_SPLIT)
    q, c = per_sample(bundle, public)
    exact = with_heldout_groups(bundle, score_decisions(bundle, public, replicates=0, values=(q, c)).to_dict())
    ref = restrict(bundle, Decisions("test", [str(k) for k in range(len(released.choices))], released.choices),
                   PUBLIC_SPLIT)
    ref_q, ref_c = per_sample(bundle, ref) if len(released.choices) else (np.zeros((q.shape[0], 0)),) * 2
    verdicts = [Verdict(p, bool(r)) for p, r in zip(public.points, climb(q, c, ref_q, ref_c, settings))]
    # Kept for releases, which show one point per final at the Ladder's precision with an interval
    # computed from that: no bootstrap and no test against the best single model are needed here.
    private = score_decisions(bundle, restrict(bundle, decisions, PRIVATE_SPLIT), replicates=0).to_dict()
    tokens = point_tokens(bundle, public, {v.point for v in verdicts if v.released})
    return BoardResult(shown_report(exact, verdicts, settings), private, verdicts, tokens)


def score_references_for_board(bundle: Bundle) -> dict[str, dict[str, Any]]:
    """Reference entries (fixed routings: single models, baselines, the oracle and its curve) on each
    part, exactly: ``{"public": {name: report}, "private": {name: report}, "tokens": {name: {point:
    sums}}}`` — the token sums of the public part, for re-pricing (none for the entries whose routing
    the track's prices choose: the Oracle, CheapestGlobal and the oracle curve)."""
    from evaluator.baselines import (ORACLE_CURVE, PRICE_CHOSEN, oracle_curve_report, reference_entries,
                                     score_references)

    out: dict[str, Any] = {}
    for key, split in (("public", PUBLIC_SPLIT), ("private", PRIVATE_SPLIT)):
        refs = {k: with_heldout_groups(bundle, v.to_dict()) for k, v in score_references(bundle, split).items()}
        refs[ORACLE_CURVE] = oracle_curve_report(bundle, split)
        out[key] = refs
    out["tokens"] = {e.name: point_tokens(bundle, Decisions(PUBLIC_SPLIT, ["default"], e.choice[None, :]))
                     for e in reference_entries(bundle, PUBLIC_SPLIT) if e.name not in PRICE_CHOSEN}
    return out
