"""Evaluation output models (the output contract of ``evaluate``)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NaiveDatetime

Severity = Literal["hard", "soft", "info"]
SEVERITY_ORDER = {"hard": 0, "soft": 1, "info": 2}


class Dose(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: float
    unit: str = Field(description="mg/day or mcg/day: the drug's unit per day")


class BridgeBolus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    volume_ml: float = Field(description="Catheter plus pump tubing dead space")
    hours_to_clear_without: float | None = Field(
        description="Hours the new program needs to push the old solution through without a bridge bolus"
    )


class Finding(BaseModel):
    """One guardrail finding (the spec's `warnings` entries)."""

    model_config = ConfigDict(extra="forbid")
    code: str
    severity: Severity
    drug: str | None
    message: str
    source: str
    value: float | None = Field(default=None, description="The checked figure, in `unit`")
    limit: float | None = Field(default=None, description="The limit it was checked against, in `unit`")
    unit: str | None = None


class Explanation(BaseModel):
    """How a figure was computed: the formula with the values filled in."""

    model_config = ConfigDict(extra="forbid")
    figure: str
    formula: str
    source: str | None = None


class Evaluation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    daily_volume_ml: float
    max_daily_volume_ml: float
    daily_dose: dict[str, Dose]
    max_daily_dose: dict[str, Dose]
    low_reservoir_alarm_at: NaiveDatetime | None
    low_reservoir_alarm_at_worst_case: NaiveDatetime | None
    empty_at: NaiveDatetime | None
    refill_by: NaiveDatetime | None
    bridge_bolus: BridgeBolus | None
    warnings: list[Finding]
    # additions beyond the contract
    start_volume_ml: float = Field(description="Reservoir volume the projection starts from")
    low_reservoir_alarm_ml: float
    stability_window_end: NaiveDatetime | None = None
    current_daily_volume_ml: float | None = None
    current_daily_dose: dict[str, Dose] | None = None
    explanations: list[Explanation] = []

    @property
    def blocked(self) -> bool:
        return any(w.severity == "hard" for w in self.warnings)

    def codes(self) -> list[str]:
        return [w.code for w in self.warnings]
