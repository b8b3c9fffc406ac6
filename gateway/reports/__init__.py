"""Figures for people who lead a support team: ``sla report`` and ``stats``.

Counting is aggregate SQL (GROUP BY), on SQLite and PostgreSQL alike; only medians and
90th percentiles are computed here, over the durations the window selects.
"""
