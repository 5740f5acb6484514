"""Programs, schedules and cases as pydantic models (the input contract).

Field names follow ``shared/spec/evaluate.md``; units are in the names.
Times of day are ``HH:MM``; timestamps are pump-clock local time without
offset. Validation rejects what cannot be a program (malformed); clinically
questionable but well-formed programs are accepted and get warnings later.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NaiveDatetime,
    ValidationInfo,
    field_validator,
    model_validator,
)

from . import library
from .trial.record import Trial

HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Mode = Literal["simple_continuous", "flex", "periodic_bolus", "stopped"]
ConcentrationUnit = Literal["mg/mL", "mcg/mL"]

_UNIT_FACTOR = {("mg", "mg"): 1.0, ("mcg", "mcg"): 1.0, ("mg", "mcg"): 1000.0, ("mcg", "mg"): 0.001}


def hhmm_to_minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def minutes_to_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Physical bounds: beyond these a value is a typo or a unit error, not a program.
MAX_RATE_ML_PER_DAY = 1000.0
MAX_VOLUME_ML = 1000.0
MAX_CONCENTRATION = 1e7
FIRST_YEAR, LAST_YEAR = 1900, 2200
#: Catheter plus pump tubing above this is not a dead space but a typo (a long catheter holds < 0.5 mL).
MAX_DEAD_SPACE_ML = 5.0
#: Withdrawing more than the reservoir holds plus this much is impossible.
WITHDRAWN_ABOVE_CAPACITY_ML = 5.0
DAY_SECONDS = 86_400


def _pump_clock(t: datetime) -> datetime:
    if not FIRST_YEAR <= t.year <= LAST_YEAR:
        raise ValueError(f"pump-clock time must be between {FIRST_YEAR} and {LAST_YEAR}, not {t.isoformat()}")
    return t


PumpTime = Annotated[NaiveDatetime, AfterValidator(_pump_clock)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DrugEntry(_Model):
    """One drug in the reservoir, with its concentration."""

    drug: str = Field(description="Drug name from the project's drug library")
    concentration: float = Field(gt=0, le=MAX_CONCENTRATION, description="Concentration in `unit`")
    unit: ConcentrationUnit

    @field_validator("drug")
    @classmethod
    def _known_drug(cls, name: str) -> str:
        known = library.drugs()
        if name not in known:
            raise ValueError(f"unknown drug {name!r}; the library has {', '.join(known)}")
        return name

    @property
    def spec(self) -> library.Drug:
        return library.drug(self.drug)

    @property
    def concentration_in_drug_unit(self) -> float:
        """Concentration converted exactly to the drug's own unit per mL."""
        entry_unit = self.unit.split("/")[0]
        return self.concentration * _UNIT_FACTOR[(entry_unit, self.spec.unit)]


class Step(_Model):
    start: str = Field(pattern=HHMM_PATTERN, description="Start time of day, HH:MM")
    rate_ml_per_day: float = Field(ge=0, le=MAX_RATE_ML_PER_DAY)

    @property
    def start_min(self) -> int:
        return hhmm_to_minutes(self.start)


class Bolus(_Model):
    """A periodic bolus: `volume_ml` over `duration_min`, every `every_hours`,
    without end and across midnight, on the grid `first_at` on the day of the
    case's `now` plus any whole multiple of `every_hours` (the pump's clock has
    whole seconds: the interval counts in whole seconds)."""

    first_at: str = Field(pattern=HHMM_PATTERN)
    every_hours: float = Field(ge=0.25, le=24)
    volume_ml: float = Field(ge=0, le=MAX_VOLUME_ML)
    duration_min: float = Field(ge=1, le=1440)

    @property
    def every_s(self) -> int:
        """The interval in whole seconds."""
        return int(round(self.every_hours * 3600))

    @property
    def first_s(self) -> int:
        return hhmm_to_minutes(self.first_at) * 60

    def starts_in_day_min(self, day_index: int = 0) -> list[float]:
        """Start times (minutes after midnight) on calendar day ``day_index`` after the
        anchor day (the day of ``now``; 0 = that day), including boluses of the grid that
        began before ``first_at`` or on an earlier day."""
        day0, day1 = day_index * DAY_SECONDS, (day_index + 1) * DAY_SECONDS
        e, f = self.every_s, self.first_s
        k = -((f - day0) // e)  # first k with f + k*e >= day0
        out = []
        t = f + k * e
        while t < day1:
            out.append((t - day0) / 60)
            t += e
        return out


#: A periodic-bolus pattern repeats every lcm(24 h, every interval); beyond this many
#: boluses in one repeat (e.g. several intervals with no common measure) it is not a program.
MAX_BOLUSES_PER_PATTERN = 100_000


def bolus_pattern_s(boluses: list[Bolus]) -> int:
    """Seconds after which a periodic-bolus program repeats: lcm(24 h, every interval)."""
    return math.lcm(DAY_SECONDS, *(b.every_s for b in boluses))


class PTM(_Model):
    bolus_volume_ml: float = Field(ge=0, le=MAX_VOLUME_ML)
    lockout_min: float = Field(ge=0, le=1440, description="0 (no lockout) or at least 1 minute")
    max_per_day: int = Field(ge=0, le=1440)

    @field_validator("lockout_min")
    @classmethod
    def _lockout(cls, v: float) -> float:
        if 0 < v < 1:
            raise ValueError("lockout_min must be 0 (no lockout) or at least 1 minute")
        return v

    @property
    def allowed_per_day(self) -> int:
        """Boluses a patient can actually get in 24 h: the daily maximum,
        or fewer when the lockout leaves no room for that many."""
        if self.lockout_min <= 0:
            return self.max_per_day
        by_lockout = int(-(-1440 // self.lockout_min))  # ceil(1440 / lockout)
        return min(self.max_per_day, by_lockout)

    @property
    def daily_volume_ml(self) -> float:
        return self.bolus_volume_ml * self.allowed_per_day


def _distinct(entries: list[DrugEntry]) -> list[DrugEntry]:
    names = [e.drug for e in entries]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"drug listed twice: {', '.join(dup)}")
    return entries


def _check_steps(steps: list[Step], where: str) -> list[Step]:
    if not steps:
        raise ValueError(f"{where}: at least one step is needed")
    if steps[0].start != "00:00":
        raise ValueError(f"{where}: the first step must start at 00:00, not {steps[0].start}")
    for prev, nxt in zip(steps, steps[1:]):
        if nxt.start_min == prev.start_min:
            raise ValueError(f"{where}: duplicate step start time {nxt.start}")
        if nxt.start_min < prev.start_min:
            raise ValueError(f"{where}: steps are not sorted ({nxt.start} comes after {prev.start})")
    return steps


class Program(_Model):
    """A pump program: drug(s) in the reservoir and an infusion mode."""

    drugs: list[DrugEntry] = Field(min_length=1)
    mode: Mode
    rate_ml_per_day: float | None = Field(default=None, ge=0, le=MAX_RATE_ML_PER_DAY)
    steps: list[Step] | None = None
    week: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[Step]] | None = None
    boluses: list[Bolus] | None = None
    ptm: PTM | None = None

    @field_validator("steps")
    @classmethod
    def _steps_valid(cls, steps: list[Step] | None) -> list[Step] | None:
        return None if steps is None else _check_steps(steps, "steps")

    @field_validator("week")
    @classmethod
    def _week_valid(cls, week: dict | None) -> dict | None:
        if week is None:
            return None
        missing = [d for d in WEEKDAYS if d not in week]
        if missing:
            raise ValueError(f"week: missing day(s) {', '.join(missing)}")
        for day in WEEKDAYS:
            _check_steps(week[day], f"week.{day}")
        return week

    @field_validator("drugs")
    @classmethod
    def _distinct_drugs(cls, entries: list[DrugEntry]) -> list[DrugEntry]:
        return _distinct(entries)

    @model_validator(mode="after")
    def _mode_fields(self) -> "Program":
        mode = self.mode
        if mode == "simple_continuous" and self.rate_ml_per_day is None:
            raise ValueError("mode simple_continuous needs rate_ml_per_day")
        if mode == "flex":
            if (self.steps is None) == (self.week is None):
                raise ValueError("mode flex needs exactly one of steps (every day) or week (per weekday)")
        if mode == "periodic_bolus":
            if self.rate_ml_per_day is None:
                raise ValueError("mode periodic_bolus needs rate_ml_per_day (the background rate)")
            if not self.boluses:
                raise ValueError("mode periodic_bolus needs at least one entry in boluses")
            period = bolus_pattern_s(self.boluses)
            count = sum(period // b.every_s for b in self.boluses)
            if count > MAX_BOLUSES_PER_PATTERN:
                raise ValueError(
                    f"boluses: these intervals repeat together only after {period / DAY_SECONDS:,.0f} days "
                    f"({count:,} boluses); use intervals with a common measure (e.g. whole hours)")
        if mode != "flex" and (self.steps is not None or self.week is not None):
            raise ValueError(f"steps/week belong to mode flex, not {mode}")
        if mode != "periodic_bolus" and self.boluses:
            raise ValueError(f"boluses belong to mode periodic_bolus, not {mode}")
        return self

    @property
    def drug_names(self) -> list[str]:
        return [e.drug for e in self.drugs]

    def concentrations(self) -> dict[str, float]:
        """Concentration per drug in the drug's own unit per mL."""
        return {e.drug: e.concentration_in_drug_unit for e in self.drugs}

    def basal_rates(self) -> list[float]:
        """Every programmed basal rate (mL/day) the pump must be able to run."""
        if self.mode == "stopped":
            return []
        if self.mode == "flex":
            days = [self.steps] if self.steps is not None else list(self.week.values())
            return [s.rate_ml_per_day for day in days for s in day]
        return [self.rate_ml_per_day]

    def max_steps_per_day(self) -> int:
        if self.mode != "flex":
            return 1
        days = [self.steps] if self.steps is not None else list(self.week.values())
        return max(len(d) for d in days)


class PumpSettings(_Model):
    profile: str = Field(description="Pump profile name from the project's pump data")
    low_reservoir_alarm_ml: float | None = Field(default=None, ge=0, le=MAX_VOLUME_ML)
    catheter_volume_ml: float | None = Field(default=None, ge=0, le=MAX_VOLUME_ML)
    pump_tubing_volume_ml: float | None = Field(default=None, ge=0, le=MAX_VOLUME_ML)
    end_of_service_at: PumpTime | None = Field(
        default=None, description="Projected battery end of service (from the ERI projection), if known"
    )

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, name: str) -> str:
        return library.known_profile(name)

    @property
    def spec(self) -> library.PumpProfile:
        return library.profile(self.profile)

    @property
    def lra_ml(self) -> float:
        v = self.low_reservoir_alarm_ml
        return self.spec.low_reservoir_alarm_ml if v is None else v

    @property
    def dead_space_ml(self) -> float:
        cath = self.spec.catheter_volume_ml if self.catheter_volume_ml is None else self.catheter_volume_ml
        tube = self.spec.pump_tubing_volume_ml if self.pump_tubing_volume_ml is None else self.pump_tubing_volume_ml
        return cath + tube

    @model_validator(mode="after")
    def _dead_space_plausible(self) -> "PumpSettings":
        if self.dead_space_ml > MAX_DEAD_SPACE_ML:
            raise ValueError(f"catheter_volume_ml plus pump_tubing_volume_ml is {self.dead_space_ml:g} mL, above "
                             f"{MAX_DEAD_SPACE_ML:g} mL: impossible for a catheter (a typo or a unit slip?)")
        return self


class Refill(_Model):
    withdrawn_ml: float = Field(ge=0, le=MAX_VOLUME_ML)
    added_ml: float = Field(ge=0, le=MAX_VOLUME_ML)
    drugs: list[DrugEntry] | None = Field(
        default=None, min_length=1,
        description="What was actually put into the reservoir at the visit (same shape as a program's drugs); "
                    "when given it must match the proposed program")

    @field_validator("drugs")
    @classmethod
    def _distinct_drugs(cls, entries: list[DrugEntry] | None) -> list[DrugEntry] | None:
        return None if entries is None else _distinct(entries)


class HistoryEntry(_Model):
    """An earlier programming of this pump."""

    at: PumpTime = Field(description="When the program was sent (pump-clock time)")
    program: Program


class Case(_Model):
    """A programming case: pump, state, current and proposed program."""

    pump: PumpSettings
    now: PumpTime
    reservoir_ml: float = Field(ge=0, le=MAX_VOLUME_ML)
    next_appointment: PumpTime | None = None
    indication: library.Indication | None = None
    current: Program | None = None
    proposed: Program
    refill: Refill | None = None
    first_fill: bool = False
    trial: Trial | None = Field(default=None, description="The screening trial before the implant, if recorded")
    screening_bolus_mcg: float | None = Field(
        default=None, gt=0, le=10_000,
        description="Baclofen: the effective intrathecal screening bolus (mcg); the labelled start is twice it")
    history: list[HistoryEntry] | None = Field(
        default=None, description="Earlier programmings of this pump, oldest first (rules on how often a dose rises)")

    @model_validator(mode="after")
    def _fits_profile(self, info: ValidationInfo) -> "Case":
        spec = self.pump.spec
        for label, prog in (("current", self.current), ("proposed", self.proposed)):
            if prog is not None and prog.max_steps_per_day() > spec.max_flex_steps:
                raise ValueError(
                    f"{label}: {prog.max_steps_per_day()} flex steps in a day, more than the "
                    f"{spec.max_flex_steps} that profile {spec.name} allows"
                )
        cap = spec.reservoir_ml
        if self.pump.lra_ml > cap:
            raise ValueError(f"pump.low_reservoir_alarm_ml {self.pump.lra_ml:g} mL is above the {cap:g} mL "
                             f"reservoir of {spec.name}: impossible (a typo or a unit slip?)")
        if self.refill is not None and self.refill.withdrawn_ml > cap + WITHDRAWN_ABOVE_CAPACITY_ML:
            raise ValueError(f"refill.withdrawn_ml {self.refill.withdrawn_ml:g} mL is more than the {cap:g} mL "
                             f"reservoir of {spec.name} plus {WITHDRAWN_ABOVE_CAPACITY_ML:g} mL: impossible")
        if self.history:
            for i, (a, b) in enumerate(zip(self.history, self.history[1:])):
                if b.at < a.at:
                    raise ValueError(f"history must be oldest first: history[{i + 1}].at {b.at.isoformat()} "
                                     f"is before history[{i}].at {a.at.isoformat()}")
            if self.history[-1].at > self.now:
                raise ValueError(f"history[{len(self.history) - 1}].at {self.history[-1].at.isoformat()} "
                                 f"is after now {self.now.isoformat()}")
        return self

    @property
    def start_volume_ml(self) -> float:
        """Reservoir volume the projection starts from (after a refill visit, the added volume)."""
        return self.refill.added_ml if self.refill is not None else self.reservoir_ml
