"""Reads of the coordinator pages (DESIGN §5, §7): stored results, never item answers.

One module per concern: ``access`` (what a user may coordinate), ``waves``, ``frames``
(stored results as DataFrames), ``alerts``, and one per page family (``cohort``,
``program``, ``dyad``, ``psychometrics``). Each read is one query whatever the number of
dyads or waves.
"""
