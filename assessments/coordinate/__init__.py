"""The coordinator side (DESIGN §1, §5, §7): program and cohort dashboards, alerts, dyad
pages, psychometrics, and the management of cohorts, waves and dyads under
``/coordinate/``. Imports the shared layer, ``assessments.measurement``,
``relationships`` and ``audit``; never ``survey`` or ``research``."""
