"""The first program after a trial, as a new-implant Case for the sandbox.

``current`` is null (a first programming), so the engine's start-dose
guardrails apply: for baclofen against 2 x ``screening_bolus_mcg``, for the
others against the drug's usual starting range. The trial rides along in
``case.trial``. The pump is full, on its first fill, and the first titration
visit is ``first_visit_days`` after the session (data/trials.yaml).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .. import library
from ..programs import Case
from .record import Trial
from .rules import trial_rules
from .start import StartDose, start_dose


def first_program_case(trial: Trial, profile: str = "programmable-20", now: datetime | None = None,
                       concentration: float | None = None, dose_per_day: float | None = None) -> Case:
    """A new-implant Case running ``dose_per_day`` (default: the trial's start dose) as a simple
    continuous rate at ``concentration`` (default per drug in data/trials.yaml, drug unit per mL).
    On a constant-flow pump the rate is fixed, so the concentration carries the dose."""
    rules = trial_rules().first_program
    spec = library.profile(profile)
    drug = library.drug(trial.drug)
    if dose_per_day is None:
        dose_per_day = start_dose(trial).dose_per_day
    now = (now or trial.end.replace(minute=0, second=0, microsecond=0) + timedelta(days=1))
    if spec.fixed_rate:
        rate = spec.nominal_rate_ml_per_day
        conc = dose_per_day / rate
    else:
        conc = concentration if concentration is not None else rules.concentrations.get(
            trial.drug, drug.supplied_concentrations[0] if drug.supplied_concentrations else 1.0)
        rate = dose_per_day / conc
    data = {
        "pump": {"profile": profile},
        "now": now.isoformat(),
        "reservoir_ml": spec.reservoir_ml,
        "next_appointment": (now + timedelta(days=rules.first_visit_days)).isoformat(),
        "current": None,
        "proposed": {"drugs": [{"drug": trial.drug, "concentration": round(conc, 9), "unit": drug.concentration_unit}],
                     "mode": "simple_continuous", "rate_ml_per_day": round(rate, 9)},
        "first_fill": True,
        "trial": trial.model_dump(mode="json", exclude_none=True),
    }
    if trial.indication is not None:
        data["indication"] = trial.indication
    sd = _safe_start(trial)
    if sd is not None and sd.screening_bolus_mcg is not None:  # baclofen: the engine checks the start against it
        data["screening_bolus_mcg"] = sd.screening_bolus_mcg
    return Case.model_validate(data)


def _safe_start(trial: Trial) -> StartDose | None:
    try:
        return start_dose(trial)
    except ValueError:
        return None
