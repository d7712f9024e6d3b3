"""Pure measurement: scoring, placement, change and psychometrics (DESIGN §4).

Nothing here imports Django or the rest of the project; ``pipeline.score`` is the one
entry point that turns answers into stored results.
"""
