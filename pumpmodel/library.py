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
    screening_bolus_multiple: float | None = Field(
        default=None, gt=0, description="Start at this multiple of the effective screening bolus, when it is known")
    source: str


class MaxRaises(_Strict):
    """At most ``count`` dose increases within any ``window_hours``."""
    count: int = Field(ge=1)
    window_hours: float = Field(gt=0)
    source: str
    assumed: bool = False


class Interruption(_Strict):
    """Delivering nothing for ``hours`` or more in a row risks withdrawal."""
    hours: float = Field(gt=0)
    source: str
    assumed: bool = False


class MorphineEquivalence(_Strict):
    """Intrathecal potency relative to intrathecal morphine (1 mg of this drug = ``factor`` mg morphine)."""
    factor: float = Field(gt=0)
    source: str


class FirstFill(_Strict):
    """The only concentration a new pump may be first filled with (the drug alone, undiluted)."""
    concentration: float = Field(gt=0)
    source: str


class Titration(_Strict):
    max_increase_percent: float | None = None
    max_increase_per_day: float | None = None
    max_increase_percent_by_indication: dict[Indication, float] = {}
    default_max_increase_percent: float | None = None
    max_raises: MaxRaises | None = None
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
    decrease_assumed: bool = False
    admixture_allowed: bool = True
    admixture_source: str | None = None
    stability: Stability | None = None
    first_fill: FirstFill | None = None
    interruption: Interruption | None = None
    morphine_equivalence: MorphineEquivalence | None = None
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
    min_rate_assumed: bool
    max_rate_assumed: bool
    min_rate_source: str | None = None
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
    delivery_accuracy_percent: float = Field(ge=0, description="Spread of delivered vs programmed per refill "
                                                               "interval used by the simulator (+-, per cent)")
    delivery_accuracy_assumed: bool = False
    delivery_accuracy_source: str | None = None
    delivery_ratio_mean_percent: float | None = Field(
        default=None, gt=0, description="Labelled mean delivered/programmed volume ratio (a mean, not a tolerance)")
    flow_per_degree_c_percent: float | None = None
    flow_per_1000m_altitude_percent: float | None = None
    flow_coefficients_assumed: bool = False
    battery_life_years: tuple[float, float] | None
    battery_source: str | None = None
    eri_to_eos_days: float | None
    mri_motor_stall: bool
    source: str

    @property
    def fixed_rate(self) -> bool:
        return self.kind == "constant_flow"

    @property
    def rate_range_assumed(self) -> bool:
        return self.min_rate_assumed or self.max_rate_assumed


class PumpDefaults(_Strict):
    low_reservoir_alarm_ml: float
    low_reservoir_alarm_source: str
    catheter_volume_ml_per_cm: float
    catheter_volume_source: str
    eri_source: str
    empty_reservoir_source: str
    refill_discrepancy_source: str


class RuleValue(_Strict):
    value: float
    source: str
    assumed: bool = False


class RuleText(_Strict):
    source: str


class Rules(_Strict):
    """Training rules that are not per drug or per pump (``data/rules.yaml``)."""
    ptm_bolus_max_percent_of_daily_dose: RuleValue
    step_rate_above_dose_limit: RuleText
    opioid_switch: RuleText
    appointment_in_past: RuleText
    low_reservoir_alarm_low: RuleText
    refill_drug_mismatch: RuleText
    bridge_transient_dose: RuleText


def _read_yaml(name: str) -> dict:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def drugs() -> dict[str, Drug]:
    """The drug library, keyed by drug name."""
    raw = _read_yaml("drugs.yaml")["drugs"]
    return {name: Drug(name=name, **entry) for name, entry in raw.items()}


@lru_cache(maxsize=1)
def rules() -> Rules:
    return Rules(**_read_yaml("rules.yaml"))


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
            "hard max assumed": "yes" if d.dose_per_day.hard_assumed or d.concentration.hard_assumed else "no",
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
            "rate range (mL/day)": f"{p.min_rate_ml_per_day:g}{' (assumed)' if p.min_rate_assumed else ''} to "
                                   f"{p.max_rate_ml_per_day:g}{' (assumed)' if p.max_rate_assumed else ''}",
            "modes": ", ".join(m.replace("_", " ") for m in p.modes) + (", PTM" if p.ptm else ""),
            "low-reservoir alarm (mL)": p.low_reservoir_alarm_ml,
            "refill discrepancy limit (mL)": p.refill_discrepancy_ml,
            "battery life (years)": "none" if p.battery_life_years is None else
            "-".join(dict.fromkeys(f"{y:g}" for y in p.battery_life_years)),
            "delivered/programmed (mean)": "" if p.delivery_ratio_mean_percent is None else
            f"{p.delivery_ratio_mean_percent:g} %",
            "source": p.source,
        })
    return pd.DataFrame(rows)


def _start_text(s: StartRange) -> str:
    if s.screening_bolus_multiple is not None:
        return f"{s.screening_bolus_multiple:g} x screening bolus" + (f" (else <= {s.max:g})" if s.max else "")
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
