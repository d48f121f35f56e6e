"""The manager dashboard: follow-through, postmortem cycle time, incidents and recurrence for a
period and a scope, computed by actions/metrics.py (the monthly digest's definitions).

params.py reads the period and scope, figures/ turns metrics into findings, tables and chart
geometry (charts.py, one value axis for every chart kind), rows.py gives the list behind a
number, views.py serves page, CSV, lists.
"""
