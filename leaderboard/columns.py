"""Every leaderboard column, declared once: key, label, type, shown by default, can be hidden, width
and tooltip.

The table (its datatypes, column widths and header tooltips), the column chooser, the filters and the
CSV export are all derived from this list (as in Hugging Face's leaderboard template), so a column is
added or renamed in exactly one place. The leading columns that cannot be hidden stay put while the
rest scrolls sideways.
"""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard import units


@dataclass(frozen=True)
class Column:
    key: str                 # column of the raw leaderboard frame
    label: str               # header shown and written to CSV (short: it must fit `width` in two lines)
    kind: str = "number"     # Gradio datatype: "number" | "str" | "html"
    shown: bool = True       # shown by default
    can_hide: bool = True    # False: always shown, not offered in the column chooser
    digits: int | None = 1   # rounding for display (None: as is)
    width: int = 96          # px; the table is as wide as its columns and scrolls sideways past the page
    #                          (the pinned columns together stay narrow enough to leave room on a phone)
    tooltip: str = ""        # the header's tooltip: the full name (default: the label)
    sort_key: str | None = None  # sort and filter on this numeric column of the raw frame (a text cell's number)

    @property
    def title(self) -> str:
        return self.tooltip or self.label


BASE_COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rank", can_hide=False, digits=None, width=60, tooltip="Rank by rank score (highest first)"),
    Column("router_html", "Router", kind="html", can_hide=False, digits=None, width=160,
           tooltip="Router, linked to its paper or code"),
    Column("team", "Team", kind="str", digits=None, width=130),
    Column("type", "Type", kind="str", digits=None, width=112, tooltip="Router type"),
    Column("kind", "Entry", kind="str", shown=False, digits=None, width=96,
           tooltip="Entry kind: reference (single model, baseline, oracle), starter or user"),
    Column("accuracy_pct", "Accuracy (%)", width=104,
           tooltip="Accuracy (%) on the public part of the hidden test split — a router's as its Ladder released it; "
                   "in a release, on the private part"),
    Column("cost_per_1k", units.COST_LABEL, digits=3, width=124, tooltip=units.COST_TOOLTIP),
    Column("rank_score_100", "Rank score", width=96,
           tooltip="Rank score (VL-RouterBench, ×100): accuracy and log-cost combined"),
    Column("rank_score_ci", "Rank score 95% CI", kind="str", digits=None, width=116,
           tooltip="Rank score: 95% interval (bootstrap for reference entries; from the shown accuracy for routers)"),
    Column("p_rank_score", "p vs best single", shown=False, digits=3, width=120,
           tooltip="p-value of the rank score's test against the best single model (paired bootstrap for reference "
                   "entries; from the shown values for routers)"),
    Column("nauc", "nAUC", digits=3, width=80, tooltip="Normalised area under the cost–accuracy frontier"),
    Column("ps_pct", "Ps (%)", shown=False, width=80, tooltip="Best accuracy on the frontier (%)"),
    Column("qnc", "QNC", digits=3, width=80,
           tooltip="Cost to reach the best single model's accuracy, relative to that model's cost"),
    Column("gap_closed_pct", "Gap closed (%)", width=120,
           tooltip="Share of the gap between the best single model and the oracle closed (%)"),
    Column("throughput_text", "Throughput (K tok/s)", kind="str", digits=None, width=150, sort_key="throughput",
           tooltip="Throughput of the router's own inference, K tokens/s over the test questions: self-reported "
                   "by the submitter (with the hardware, see Router detail) or measured here for the starter "
                   "routers; — when not given"),
    Column("n_points", "Points", shown=False, digits=None, width=80, tooltip="Operating points submitted"),
    Column("n_released", "Shown", shown=False, digits=None, width=80,
           tooltip="Operating points the Ladder released (the others were not significantly better)"),
    Column("uses_images", "Uses images", kind="str", shown=False, digits=None, width=96),
    Column("submitted", "Submitted", kind="str", shown=False, digits=None, width=176, tooltip="Submitted (UTC)"),
)
#: the leading columns that cannot be hidden (Rank, Router) are the pinned ones
PINNED = next(i for i, c in enumerate(BASE_COLUMNS) if c.can_hide)


#: columns of a release's board only (always shown there), each placed after the column named first
RELEASE_COLUMNS: tuple[tuple[str, Column], ...] = (
    ("router_html", Column("public_rank", "Public rank", digits=None, width=80, can_hide=False,
                           tooltip="Rank on the live board (public part) when the release was cut; blank: not "
                                   "shown there")),
    ("public_rank", Column("shift", "Shift", digits=None, width=72, can_hide=False,
                           tooltip="Public rank minus private rank: positive moved up on the private part")),
    ("rank_score_100", Column("public_rank_score_100", "Public rank score", width=104, can_hide=False,
                              tooltip="Rank score shown on the live board (public part) when the release was cut")),
)


def family_column(family: str) -> Column:
    return Column(f"family:{family}", f"{family} (%)", width=max(112, 8 * len(family) + 24),
                  tooltip=f"Accuracy on the {family} datasets (%)")


def heldout_column(group: str) -> Column:
    """Accuracy on the held-out (or the in-distribution) datasets of a track with held-out datasets
    (:mod:`evaluator.generalisation`), shown under the same rules as a family's."""
    return Column(f"heldout:{group}", f"{group[:1].upper()}{group[1:]} (%)", width=max(112, 8 * len(group) + 24),
                  tooltip=f"Accuracy on the {group} datasets of the test split (%): "
                          + ("datasets no train or dev sample comes from" if group == "held-out"
                             else "datasets train and dev also hold"))


def columns_for(families: list[str], release: bool = False, heldout: tuple[str, ...] = ()) -> list[Column]:
    """The full column list of a track: the base columns plus one accuracy column per family and, on a
    track with held-out datasets, per ``heldout`` group (and, for a release's board, its public rank,
    shift and public rank score)."""
    cols = list(BASE_COLUMNS)
    at = next(i for i, c in enumerate(cols) if c.key == "rank_score_ci") + 1
    cols = cols[:at] + [heldout_column(g) for g in heldout] + [family_column(f) for f in families] + cols[at:]
    if release:
        for after, col in RELEASE_COLUMNS:
            cols.insert(next(i for i, c in enumerate(cols) if c.key == after) + 1, col)
    return cols


def sortable(columns: list[Column]) -> list[str]:
    """Labels of the columns the table can be sorted on (numbers, and text cells with a number behind them)."""
    return [c.label for c in columns if (c.kind == "number" or c.sort_key) and c.key != "rank"]


def choosable(columns: list[Column]) -> list[str]:
    return [c.label for c in columns if c.can_hide]


def default_labels(columns: list[Column]) -> list[str]:
    return [c.label for c in columns if c.can_hide and c.shown]


def tooltips(columns: list[Column]) -> dict[str, str]:
    """Header label → tooltip, for the page script that puts them on the table's headers."""
    return {c.label: c.title for c in columns}
