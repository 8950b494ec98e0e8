"""Every leaderboard column, declared once: key, label, type, shown by default, can be hidden.

The table, the column chooser, the filters and the CSV export are all derived from this list (as in
Hugging Face's leaderboard template), so a column is added or renamed in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str                 # column of the raw leaderboard frame
    label: str               # header shown and written to CSV
    kind: str = "number"     # Gradio datatype: "number" | "str" | "html"
    shown: bool = True       # shown by default
    can_hide: bool = True    # False: always shown, not offered in the column chooser
    digits: int | None = 1   # rounding for display (None: as is)


BASE_COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rank", can_hide=False, digits=None),
    Column("router_html", "Router", kind="html", can_hide=False, digits=None),
    Column("team", "Team", kind="str", digits=None),
    Column("type", "Type", kind="str", digits=None),
    Column("kind", "Entry", kind="str", shown=False, digits=None),
    Column("accuracy_pct", "Accuracy (%)"),
    Column("cost_per_query", "Cost ($/query)", digits=6),
    Column("cost_per_1k", "Cost ($/1k queries)", digits=3),
    Column("rank_score_100", "Rank score"),
    Column("rank_score_ci", "Rank score 95% CI", kind="str", digits=None),
    Column("p_rank_score", "p vs best single", shown=False, digits=3),
    Column("nauc", "nAUC", digits=3),
    Column("ps_pct", "Ps (%)", shown=False),
    Column("qnc", "QNC", digits=3),
    Column("gap_closed_pct", "Gap closed (%)"),
    Column("n_points", "Points", shown=False, digits=None),
    Column("uses_images", "Uses images", kind="str", shown=False, digits=None),
    Column("submitted", "Submitted", kind="str", shown=False, digits=None),
)


def family_column(family: str) -> Column:
    return Column(f"family:{family}", f"{family} acc (%)")


def columns_for(families: list[str]) -> list[Column]:
    """The full column list of a track: the base columns plus one accuracy column per family."""
    cols = list(BASE_COLUMNS)
    at = next(i for i, c in enumerate(cols) if c.key == "rank_score_ci") + 1
    return cols[:at] + [family_column(f) for f in families] + cols[at:]


def choosable(columns: list[Column]) -> list[str]:
    return [c.label for c in columns if c.can_hide]


def default_labels(columns: list[Column]) -> list[str]:
    return [c.label for c in columns if c.can_hide and c.shown]
