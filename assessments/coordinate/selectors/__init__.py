"""Reads of the coordinator pages (DESIGN §5, §7): stored results, never item answers.

One module per concern: ``access`` (what a user may coordinate), ``waves``, ``frames``
(stored results as DataFrames), ``alerts``, ``history`` (a wave's figures from the kept
counts), and one per page family (``cohort``, ``program``, ``dyad``, ``psychometrics``,
``report``, ``dyad_list`` for the CSV download). Each read is one query whatever the
number of dyads or waves.
"""
