"""The one cost unit the app shows: US dollars per 1,000 queries.

Scores and rows carry cost as USD per query (the scoring core's unit); per-query values are tiny
(0.00006), so everything a person reads — the leaderboard column and its CSV header, the cost filter,
the Pareto plot's axis and hover, the budget slider and the sentences around them — is in dollars per
1k queries, converted here and only here. The per-query value is named in the column's tooltip.
"""

from __future__ import annotations

import math

QUERIES = 1000
UNIT = "$ per 1k queries"
#: the leaderboard column's header (and CSV header)
COST_LABEL = f"Cost ({UNIT})"
COST_TOOLTIP = (f"Average cost in US dollars per {QUERIES:,} queries; divide by {QUERIES:,} for the cost of "
                f"one query (e.g. $0.50 per 1k queries = $0.0005 per query)")


def in_unit(cost_per_query):
    """USD per query → $ per 1k queries (numbers, numpy arrays and pandas columns alike)."""
    return QUERIES * cost_per_query


def per_query(value_in_unit):
    """$ per 1k queries → USD per query."""
    return value_in_unit / QUERIES


def money(value_in_unit: float) -> str:
    """A dollar amount: cents from $0.10 up (``$0.10``, ``$26.27``), three significant digits below
    (``$0.059``, ``$0.0173``); never an exponent."""
    size = abs(value_in_unit)
    if size >= 0.1:
        return f"${value_in_unit:,.2f}"
    if size == 0:
        return "$0"
    return "$" + f"{value_in_unit:.{2 - math.floor(math.log10(size))}f}".rstrip("0")


def cost_text(cost_per_query: float) -> str:
    """A per-query cost as a person reads it: ``$0.059 per 1k queries``."""
    return f"{money(in_unit(cost_per_query))} per 1k queries"


#: Plotly hover line and axis title for an x axis in the unit
HOVER_COST = "cost $%{x:.3g} per 1k queries"
AXIS_TITLE = f"average cost ({UNIT}, log scale)"
