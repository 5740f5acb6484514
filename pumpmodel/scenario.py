"""Scenario files for the telemetry simulator (YAML or JSON, validated by pydantic).

A scenario describes one synthetic patient and pump over a period: the
starting program, titration (program changes), refill visits (with optional
errors such as a pocket fill), PTM use by hour of day, faults and battery.
Times are pump-clock local, ISO 8601 without offset; visit and fault times
are taken at the start of their hour (the simulator samples hourly).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, NaiveDatetime, field_validator, model_validator

from . import library
from .programs import Program
from .telemetry import program_misfits
from .trial.record import Trial


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProgramChange(_Model):
    at: NaiveDatetime
    program: Program
    note: str | None = None


class RefillVisit(_Model):
    at: NaiveDatetime
    added_ml: float = Field(gt=0, description="Volume the clinician records as injected into the reservoir")
    program: Program | None = Field(default=None, description="New program sent at this visit (e.g. a new "
                                                              "concentration); a program_change event follows")
    pocket_fill_ml: float = Field(default=0.0, ge=0, description="Part of added_ml injected into the tissue "
                                                                 "pocket instead of the reservoir")

    @model_validator(mode="after")
    def _pocket_within_added(self) -> "RefillVisit":
        if self.pocket_fill_ml > self.added_ml:
            raise ValueError(f"pocket_fill_ml {self.pocket_fill_ml} exceeds added_ml {self.added_ml}")
        return self


class RefillSchedule(_Model):
    """Regular refill visits: every ``every_days`` from ``first_at`` while before the
    record's end. An explicit entry in ``refills`` closer than half an interval to
    a scheduled visit replaces it (a late, early or erroneous visit)."""

    first_at: NaiveDatetime
    every_days: float = Field(gt=0)
    added_ml: float = Field(gt=0)


class PTMUse(_Model):
    """Expected PTM requests per day, spread over the hours of the day by weight."""

    requests_per_day: float = Field(ge=0)
    hour_weights: list[float] = Field(default_factory=lambda: [1.0] * 24, min_length=24, max_length=24)

    @field_validator("hour_weights")
    @classmethod
    def _weights(cls, w: list[float]) -> list[float]:
        if any(x < 0 for x in w) or sum(w) <= 0:
            raise ValueError("hour_weights must be non-negative with a positive sum")
        return w

    def per_hour(self) -> list[float]:
        total = sum(self.hour_weights)
        return [self.requests_per_day * x / total for x in self.hour_weights]


class Fault(_Model):
    kind: Literal["mri", "catheter_occlusion", "early_eri"]
    at: NaiveDatetime
    stall_h: float | None = Field(default=None, ge=2, le=24,
                                  description="MRI on a programmable pump: motor restarts after this many hours "
                                              "(drawn from 2-24 h when omitted)")
    duration_h: float | None = Field(default=None, gt=0,
                                     description="Catheter occlusion: hours until revised (no delivery meanwhile)")


class ClinicianBolus(_Model):
    at: NaiveDatetime
    volume_ml: float = Field(gt=0)


class Battery(_Model):
    pct_at_implant: float = Field(default=100.0, gt=0, le=100)
    life_years: float = Field(default=6.0, gt=0, description="Implant to ERI alarm")


class Scenario(_Model):
    pump_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    patient_label: str
    story: str | None = None
    group: str = "story"
    indication: library.Indication | None = None
    profile: str
    implant_date: NaiveDatetime
    start: NaiveDatetime = Field(description="First sampled hour (the implant, or later)")
    end: NaiveDatetime = Field(description="End of the record (exclusive): 'now' for the dashboard")
    next_appointment: NaiveDatetime | None = None
    catheter_volume_ml: float | None = Field(default=None, ge=0)
    low_reservoir_alarm_ml: float | None = Field(default=None, ge=0)
    initial_reservoir_ml: float = Field(ge=0)
    program: Program
    changes: list[ProgramChange] = []
    refills: list[RefillVisit] = []
    refill_schedule: RefillSchedule | None = None
    ptm_use: PTMUse | None = None
    faults: list[Fault] = []
    clinician_boluses: list[ClinicianBolus] = []
    battery: Battery = Battery()
    accuracy_sd_percent: float | None = Field(default=None, ge=0, description="Delivery accuracy spread per "
                                              "refill interval; default a third of the profile's accuracy")
    seed: int = 0
    trial: Trial | None = Field(default=None, description="The screening trial before the implant")

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, name: str) -> str:
        return library.known_profile(name)

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        if self.end <= self.start + timedelta(hours=1):
            raise ValueError("end must be more than an hour after start")
        if self.start < self.implant_date:
            raise ValueError("start must not be before implant_date")
        if self.trial is not None and self.trial.end > self.implant_date:
            raise ValueError(f"trial: it ends {self.trial.end.isoformat()}, after the implant ({self.implant_date.isoformat()})")
        spec = self.spec
        if self.initial_reservoir_ml > spec.reservoir_ml:
            raise ValueError(f"initial_reservoir_ml above the {spec.reservoir_ml:g} mL reservoir")
        if self.refill_schedule is not None and self.refill_schedule.added_ml > spec.reservoir_ml:
            raise ValueError(f"refill_schedule.added_ml above the {spec.reservoir_ml:g} mL reservoir")
        for r in self.refills:
            if r.added_ml > spec.reservoir_ml:
                raise ValueError(f"refill at {r.at}: added_ml {r.added_ml} above the {spec.reservoir_ml:g} mL reservoir")
        for name, items in (("changes", self.changes), ("refills", self.refills), ("faults", self.faults),
                            ("clinician_boluses", self.clinician_boluses)):
            times = [x.at for x in items]
            if times != sorted(times):
                raise ValueError(f"{name} must be in time order")
            for t in times:
                if not self.start <= t < self.end:
                    raise ValueError(f"{name}: {t} is outside the record {self.start} .. {self.end}")
        programs = [self.program] + [c.program for c in self.changes] + [r.program for r in self.refills if r.program]
        if spec.fixed_rate:
            for p in programs:
                if p.mode != "simple_continuous" or abs(p.rate_ml_per_day - spec.nominal_rate_ml_per_day) > 1e-9:
                    raise ValueError(f"{self.profile} runs only simple_continuous at "
                                     f"{spec.nominal_rate_ml_per_day} mL/day")
        for p in programs:  # the telemetry loader rejects what the pump cannot run: never simulate it
            misfits = program_misfits(p, spec)
            if misfits:
                raise ValueError(f"program not possible on a {self.profile} pump: {'; '.join(misfits)}")
        return self

    @property
    def spec(self) -> library.PumpProfile:
        return library.profile(self.profile)

    def all_refills(self) -> list[RefillVisit]:
        """Explicit refills plus the scheduled ones they do not replace, in time order."""
        out = list(self.refills)
        sch = self.refill_schedule
        if sch is not None:
            half = timedelta(days=sch.every_days / 2)
            t = sch.first_at
            while t < self.end:
                if t >= self.start and all(abs(r.at - t) >= half for r in self.refills):
                    out.append(RefillVisit(at=t, added_ml=sch.added_ml))
                t += timedelta(days=sch.every_days)
        return sorted(out, key=lambda r: r.at)


def load_scenario(path: str | Path) -> Scenario:
    """A scenario from a .yaml/.yml or .json file (pydantic ValidationError when malformed)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    return Scenario.model_validate(data)
