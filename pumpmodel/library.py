"""Drug library and pump profiles: data files validated by pydantic at load.

The numbers live in ``data/drugs.yaml`` and ``data/pumps.yaml``; every limit
carries its ``source`` text, and modelled values are flagged ``assumed``.
Loading is cached (the data is immutable), so callers may call the loaders
freely.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DATA_DIR = Path(__file__).parent / "data"

MassUnit = Literal["mg", "mcg"]
Indication = Literal["pain_cancer", "pain_noncancer", "spasticity_spinal", "spasticity_cerebral"]
INDICATIONS: tuple[str, ...] = Indication.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Limit(_Strict):
    soft_max: float = Field(gt=0)
    hard_max: float = Field(gt=0)
    source: str
    hard_assumed: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> "Limit":
        if self.hard_max < self.soft_max:
            raise ValueError(f"hard_max {self.hard_max} is below soft_max {self.soft_max}")
        return self


class StartRange(_Strict):
    min: float | None = None
    max: float | None = None
    source: str


class Titration(_Strict):
    max_increase_percent: float | None = None
    max_increase_per_day: float | None = None
    max_increase_percent_by_indication: dict[Indication, float] = {}
    default_max_increase_percent: float | None = None
    source: str
    assumed: bool = False


class Stability(_Strict):
    first_fill_days: float
    undiluted_concentration: float
    undiluted_days: float
    diluted_days: float
    source: str


class Drug(_Strict):
    name: str
    unit: MassUnit
    supplied_concentrations: list[float]
    supplied_note: str
    concentration: Limit
    dose_per_day: Limit
    start_dose_per_day: StartRange
    titration: Titration
    max_decrease_percent: float | None = None
    decrease_source: str | None = None
    admixture_allowed: bool = True
    admixture_source: str | None = None
    stability: Stability | None = None
    hazard_note: str | None = None

    @property
    def dose_unit(self) -> str:
        return f"{self.unit}/day"

    @property
    def concentration_unit(self) -> str:
        return f"{self.unit}/mL"


class PumpProfile(_Strict):
    name: str
    label: str
    kind: Literal["programmable", "valve_gated", "constant_flow"]
    reservoir_ml: float = Field(gt=0)
    min_rate_ml_per_day: float = Field(ge=0)
    max_rate_ml_per_day: float = Field(gt=0)
    nominal_rate_ml_per_day: float | None = None
    rate_range_assumed: bool
    modes: list[Literal["simple_continuous", "flex", "periodic_bolus", "stopped"]]
    weekday_flex: bool
    ptm: bool
    max_flex_steps: int = Field(ge=1)
    max_flex_steps_assumed: bool
    low_reservoir_alarm_ml: float = Field(ge=0)
    low_reservoir_alarm_source: str | None = None
    catheter_volume_ml: float = Field(ge=0)
    catheter_volume_assumed: bool
    pump_tubing_volume_ml: float = Field(ge=0)
    refill_discrepancy_ml: float = Field(gt=0)
    refill_discrepancy_assumed: bool = False
    delivery_accuracy_percent: float = Field(ge=0)
    flow_per_degree_c_percent: float | None = None
    flow_per_1000m_altitude_percent: float | None = None
    flow_coefficients_assumed: bool = False
    battery_life_years: tuple[float, float] | None
    eri_to_eos_days: float | None
    mri_motor_stall: bool
    source: str

    @property
    def fixed_rate(self) -> bool:
        return self.kind == "constant_flow"


class PumpDefaults(_Strict):
    low_reservoir_alarm_ml: float
    low_reservoir_alarm_source: str
    catheter_volume_ml_per_cm: float
    catheter_volume_source: str
    eri_source: str
    empty_reservoir_source: str
    refill_discrepancy_source: str


def _read_yaml(name: str) -> dict:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def drugs() -> dict[str, Drug]:
    """The drug library, keyed by drug name."""
    raw = _read_yaml("drugs.yaml")["drugs"]
    return {name: Drug(name=name, **entry) for name, entry in raw.items()}


@lru_cache(maxsize=1)
def pump_defaults() -> PumpDefaults:
    return PumpDefaults(**_read_yaml("pumps.yaml")["defaults"])


@lru_cache(maxsize=1)
def pump_profiles() -> dict[str, PumpProfile]:
    """Pump profiles keyed by profile name."""
    raw = _read_yaml("pumps.yaml")["profiles"]
    return {name: PumpProfile(name=name, **entry) for name, entry in raw.items()}


def drug(name: str) -> Drug:
    return drugs()[name]


def profile(name: str) -> PumpProfile:
    return pump_profiles()[name]


def one_of(name: str, known, what: str, listed: str = "known") -> str:
    """``name`` if it is in ``known``, else ValueError naming it and listing the known ones."""
    if name not in known:
        raise ValueError(f"unknown {what} {name!r}; {listed}: {', '.join(known)}")
    return name


def known_profile(name: str) -> str:
    """The pydantic field validator for every ``profile`` field."""
    return one_of(name, pump_profiles(), "pump profile")


def known_drug(name: str) -> str:
    """The pydantic field validator for every ``drug`` field."""
    return one_of(name, drugs(), "drug", "the library has")


def lra_source(p: PumpProfile) -> str:
    return p.low_reservoir_alarm_source or pump_defaults().low_reservoir_alarm_source


def drug_table():
    """The drug library as a flat table (one row per drug), for display and export."""
    import pandas as pd

    rows = []
    for d in drugs().values():
        rows.append({
            "drug": d.name,
            "unit": d.unit,
            "supplied (per mL)": ", ".join(f"{c:g}" for c in d.supplied_concentrations) or d.supplied_note,
            f"conc. soft max (/mL)": d.concentration.soft_max,
            f"conc. hard max (/mL)": d.concentration.hard_max,
            "dose soft max (/day)": d.dose_per_day.soft_max,
            "dose hard max (/day)": d.dose_per_day.hard_max,
            "usual start (/day)": _start_text(d.start_dose_per_day),
            "max step": _titration_text(d.titration),
            "hard max assumed": d.dose_per_day.hard_assumed or d.concentration.hard_assumed,
            "source": d.dose_per_day.source,
        })
    return pd.DataFrame(rows)


def profile_table():
    """Pump profiles as a flat table, for display and export."""
    import pandas as pd

    rows = []
    for p in pump_profiles().values():
        rows.append({
            "profile": p.name,
            "modelled on": p.label,
            "reservoir (mL)": p.reservoir_ml,
            "rate range (mL/day)": f"{p.min_rate_ml_per_day:g} to {p.max_rate_ml_per_day:g}"
            + (" (assumed)" if p.rate_range_assumed else ""),
            "modes": ", ".join(m.replace("_", " ") for m in p.modes) + (", PTM" if p.ptm else ""),
            "low-reservoir alarm (mL)": p.low_reservoir_alarm_ml,
            "refill discrepancy limit (mL)": p.refill_discrepancy_ml,
            "source": p.source,
        })
    return pd.DataFrame(rows)


def _start_text(s: StartRange) -> str:
    if s.max is None:
        return s.source.split(": ", 1)[-1]
    return f"{s.min:g}-{s.max:g}" if s.min else f"<= {s.max:g}"


def _titration_text(t: Titration) -> str:
    if t.max_increase_per_day is not None:
        return f"+{t.max_increase_per_day:g} per step"
    if t.max_increase_percent is not None:
        return f"+{t.max_increase_percent:g} %" + (" (assumed)" if t.assumed else "")
    by = ", ".join(f"+{v:g} % {k.split('_')[-1]}" for k, v in t.max_increase_percent_by_indication.items())
    return by
