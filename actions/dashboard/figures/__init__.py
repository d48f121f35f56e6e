"""The dashboard's figures: each states its finding, says how it is computed, and carries a
table (which is also its CSV export), a chart, and links to the lists behind its numbers.

Numbers come from actions/metrics.py (the monthly digest's definitions, viewer-aware here).
Python only shapes the aggregated rows (one per month, team, owner or priority) for display.

board.py      Dashboard: the metrics read once, links, sections, sorting; the registry of figures
shapes.py     Figure, Cell, Column, Headline and the shared formatting helpers
months.py     month_table: the one builder of a table with a row per month
definitions.py  what each figure counts, in words
headlines.py  the four headline numbers
completion.py, open_items.py, slippage.py, item_mix.py, publishing.py, incident_trends.py:
              one module per family of figures, each figure a function of the board
"""

from .board import FIGURES, Dashboard

__all__ = ["FIGURES", "Dashboard"]
