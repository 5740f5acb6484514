"""Trial and conversion rules as data: ``data/trials.yaml`` and ``data/conversions.yaml``,
validated by pydantic at load (cached: the data is immutable). Every rule carries its
``source``; modelled values are marked ``assumed``."""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..library import DATA_DIR

Route = Literal["oral", "iv", "epidural", "intrathecal"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ScaleRule(_Strict):
    label: str
    axis_title: str
    min: float
    max: float
    effective_reduction_percent: float | None = Field(default=None, gt=0, le=100)
    effective_reduction_points: float | None = Field(default=None, gt=0)
    source: str
    assumed: bool = False

    @model_validator(mode="after")
    def _one_criterion(self) -> "ScaleRule":
        if (self.effective_reduction_percent is None) == (self.effective_reduction_points is None):
            raise ValueError("give exactly one of effective_reduction_percent or effective_reduction_points")
        return self

    @property
    def criterion_text(self) -> str:
        if self.effective_reduction_percent is not None:
            return f"a drop of at least {self.effective_reduction_percent:g} % from the score before the dose"
        return f"a drop of at least {self.effective_reduction_points:g} point(s) from the score before the dose"


class StartRule(_Strict):
    method: Literal["screening_bolus", "trial_dose", "label_start"]
    long_effect_hours: float | None = Field(default=None, gt=0)
    long_effect_factor: float | None = Field(default=None, gt=0)
    fraction: float | None = Field(default=None, gt=0, le=1)
    bolus_covers_hours: float | None = Field(default=None, gt=0)
    source: str
    assumed: bool = False

    @model_validator(mode="after")
    def _fields_for_method(self) -> "StartRule":
        need = {"screening_bolus": (), "trial_dose": ("fraction", "bolus_covers_hours"),
                "label_start": ()}[self.method]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"method {self.method} needs {', '.join(missing)}")
        return self


class Screening(_Strict):
    bolus_steps: list[float] = Field(min_length=1)
    hours_between: float = Field(gt=0)
    observe_hours: float = Field(gt=0)
    source: str


class FirstProgram(_Strict):
    concentrations: dict[str, float]
    concentration_source: str
    first_visit_days: float = Field(gt=0)
    first_visit_source: str


class TrialRules(_Strict):
    scales: dict[str, ScaleRule]
    start_rules: dict[str, StartRule]
    screening: dict[str, Screening]
    first_program: FirstProgram


class ChainStep(_Strict):
    from_: Route = Field(alias="from")
    to: Route
    ratio: float = Field(gt=0)
    source: str


class ObservedRange(_Strict):
    min_ratio: float = Field(gt=0)
    max_ratio: float = Field(gt=0)
    source: str


class Conversions(_Strict):
    route_chain: list[ChainStep] = Field(min_length=1)
    routes: dict[str, str]
    observed_oral_to_intrathecal: ObservedRange
    statement: str

    @model_validator(mode="after")
    def _chain_ends_intrathecal(self) -> "Conversions":
        for a, b in zip(self.route_chain, self.route_chain[1:]):
            if a.to != b.from_:
                raise ValueError(f"route_chain: step to {a.to} is followed by a step from {b.from_}")
        if self.route_chain[-1].to != "intrathecal" or self.route_chain[0].from_ != "oral":
            raise ValueError("route_chain must run from oral to intrathecal")
        return self


def _read(name: str) -> dict:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def trial_rules() -> TrialRules:
    return TrialRules.model_validate(_read("trials.yaml"))


@lru_cache(maxsize=1)
def conversions() -> Conversions:
    return Conversions.model_validate(_read("conversions.yaml"))


def scale(name: str) -> ScaleRule:
    return trial_rules().scales[name]
