"""The context every guardrail rule reads, and the finding constructor."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import library
from ..evaluation import BridgeBolus, Finding
from ..programs import Case, Program
from ..schedule import RateProfile

PUMP_RANGE_SOURCE = "Pump profile rate range (pumpmodel/data/pumps.yaml)"


@dataclass(frozen=True)
class Context:
    case: Case
    rate_profile: RateProfile  # the proposal's exact delivery (background and boluses superposed)
    daily_volume_ml: float
    daily_dose: dict[str, float]
    max_daily_dose: dict[str, float]
    current_daily_dose: dict[str, float] | None
    alarm_at: datetime | None
    alarm_worst_at: datetime | None
    empty_at: datetime | None
    stability_end: datetime | None
    stability_days: float | None
    bridge: BridgeBolus | None
    current_profile: RateProfile | None = None  # the current program's exact delivery

    @property
    def profile(self) -> library.PumpProfile:
        return self.case.pump.spec

    @property
    def proposed(self) -> Program:
        return self.case.proposed


def finding(code, severity, drug, message, source, value=None, limit=None, unit=None) -> Finding:
    return Finding(code=code, severity=severity, drug=drug, message=message, source=source,
                   value=value, limit=limit, unit=unit)
