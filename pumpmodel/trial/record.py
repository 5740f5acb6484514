"""The screening trial before an implant, as pydantic models.

A trial gives an intrathecal drug by a single bolus, repeated boluses or a
continuous infusion through a temporary catheter, and records the patient's
score before and after (pain NRS 0-10 or modified Ashworth 0-4) and any side
effects. Doses are in the drug's own unit (``unit`` must match the drug
library: baclofen in mcg, morphine in mg), infusions in that unit per day.
Times are pump-clock local time without offset, like every case.

This module imports only the library and the trial rules, so ``programs.Case`` can carry a trial.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    NaiveDatetime,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .. import library
from . import rules

TrialType = Literal["single_bolus", "repeated_boluses", "continuous_catheter"]
MAX_AMOUNT = 1e6  # beyond this a dose is a typo or a unit slip, not a trial

TRIAL_TYPE_LABELS = {
    "single_bolus": "single intrathecal bolus",
    "repeated_boluses": "repeated intrathecal boluses",
    "continuous_catheter": "continuous infusion via a temporary catheter",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TrialBolus(_Model):
    """One intrathecal bolus: ``amount`` in the trial's ``unit`` (mg or mcg)."""

    kind: Literal["bolus"] = "bolus"
    at: NaiveDatetime
    amount: float = Field(gt=0, le=MAX_AMOUNT, description="Bolus amount in the trial's unit (mg or mcg)")


class TrialInfusion(_Model):
    """A continuous infusion from ``at`` at ``dose_per_day`` (trial unit per day) until
    the next infusion entry or the end of the trial; 0 stops it."""

    kind: Literal["infusion"] = "infusion"
    at: NaiveDatetime
    dose_per_day: float = Field(ge=0, le=MAX_AMOUNT, description="Dose per day in the trial's unit per day")


def _dose_kind(v) -> str:
    """``kind`` may be left out: a dose with ``dose_per_day`` is an infusion, else a bolus."""
    if isinstance(v, dict):
        return v.get("kind") or ("infusion" if "dose_per_day" in v else "bolus")
    return getattr(v, "kind", "bolus")


TrialDose = Annotated[Annotated[TrialBolus, Tag("bolus")] | Annotated[TrialInfusion, Tag("infusion")],
                      Discriminator(_dose_kind)]


class Reading(_Model):
    """A score on the trial's scale at a moment (the first one, before any dose, is the baseline)."""

    at: NaiveDatetime
    score: float = Field(ge=0, le=10)


class SideEffect(_Model):
    at: NaiveDatetime
    effect: str = Field(min_length=1, max_length=200)
    severity: Literal["mild", "moderate", "severe"] = "mild"


class Trial(_Model):
    """A screening trial: what was given, when, and how the patient responded."""

    type: TrialType
    drug: str = Field(description="Drug name from the project's drug library")
    unit: library.MassUnit = Field(description="Unit of every dose: the drug's own unit (mg or mcg)")
    indication: library.Indication | None = None
    doses: list[TrialDose] = Field(min_length=1)
    scale: str = Field(description="Score scale from data/trials.yaml (pain_nrs, modified_ashworth)")
    readings: list[Reading] = Field(min_length=2)
    side_effects: list[SideEffect] = []
    ended_at: NaiveDatetime | None = Field(default=None, description="End of the trial (default: the last reading)")
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("drug")
    @classmethod
    def _known_drug(cls, name: str) -> str:
        return library.known_drug(name)

    @field_validator("scale")
    @classmethod
    def _known_scale(cls, name: str) -> str:
        return library.one_of(name, rules.trial_rules().scales, "scale")

    @field_validator("doses", "readings", "side_effects")
    @classmethod
    def _in_time_order(cls, items: list, info: ValidationInfo) -> list:
        times = [x.at for x in items]
        for prev, nxt in zip(times, times[1:]):
            if nxt < prev:
                raise ValueError(f"{info.field_name} are not in time order ({nxt.isoformat()} comes after "
                                 f"{prev.isoformat()})")
        return items

    @model_validator(mode="after")
    def _consistent(self) -> "Trial":
        spec = library.drug(self.drug)
        if self.unit != spec.unit:
            raise ValueError(f"unit: {self.drug} doses are in {spec.unit}, not {self.unit} "
                             f"(infusions in {spec.unit}/day)")
        boluses = [d for d in self.doses if d.kind == "bolus"]
        infusions = [d for d in self.doses if d.kind == "infusion"]
        if self.type == "single_bolus" and (len(boluses) != 1 or infusions):
            raise ValueError("doses: a single_bolus trial has exactly one bolus and no infusion")
        if self.type == "repeated_boluses" and (len(boluses) < 2 or infusions):
            raise ValueError("doses: a repeated_boluses trial has two or more boluses and no infusion")
        if self.type == "continuous_catheter" and not infusions:
            raise ValueError("doses: a continuous_catheter trial needs at least one infusion")
        top = rules.scale(self.scale).max
        high = [r.score for r in self.readings if r.score > top]
        if high:
            raise ValueError(f"readings: score {high[0]:g} is above the {self.scale} maximum of {top:g}")
        first_dose = self.doses[0].at
        if self.readings[0].at > first_dose:
            raise ValueError(f"readings: the first reading (the baseline) must be at or before the first dose "
                             f"({first_dose.isoformat()})")
        if not any(r.at > first_dose for r in self.readings):
            raise ValueError("readings: at least one reading after the first dose is needed to judge the response")
        if self.ended_at is not None and self.ended_at < self.doses[-1].at:
            raise ValueError("ended_at: the trial cannot end before its last dose")
        return self

    @property
    def started_at(self) -> datetime:
        return min(self.doses[0].at, self.readings[0].at)

    @property
    def end(self) -> datetime:
        """End of the trial: ``ended_at``, else the last reading or dose."""
        if self.ended_at is not None:
            return self.ended_at
        return max(self.readings[-1].at, self.doses[-1].at)

    @property
    def dose_unit(self) -> str:
        return f"{self.unit}/day"

