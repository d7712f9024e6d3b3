"""Instruments, survey waves, responses, answers and the stored continuum results."""

from .aggregates import CohortCount, CohortSummary, OpenAlert
from .instruments import (
    Battery,
    Instrument,
    InstrumentLocked,
    InstrumentPart,
    Item,
    Role,
    Subscale,
)
from .results import AlertFollowUp, DyadWaveResult, ExportLog
from .survey import (
    Answer,
    Invitation,
    Response,
    ResponseQuerySet,
    Wave,
    WaveClosed,
    WaveQuerySet,
)

__all__ = [
    "AlertFollowUp",
    "Answer",
    "Battery",
    "CohortCount",
    "CohortSummary",
    "DyadWaveResult",
    "ExportLog",
    "Instrument",
    "InstrumentLocked",
    "InstrumentPart",
    "Invitation",
    "Item",
    "OpenAlert",
    "Response",
    "ResponseQuerySet",
    "Role",
    "Subscale",
    "Wave",
    "WaveClosed",
    "WaveQuerySet",
]
