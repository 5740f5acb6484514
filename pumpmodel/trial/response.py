"""How the patient responded to each trial dose, judged by the scale's rule in ``data/trials.yaml``.

A bolus is compared with the last reading at or before it (a screening bolus
wears off within hours, so each one has its own baseline); an infusion with
the trial's baseline (the last reading before the first dose), because the
reading before a rate change is already under the drug. The readings that
count for a dose are those after it and before the next dose (or the trial's
end). The effect lasted until the last of them that still meets the rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..units import num
from .record import Trial
from .rules import scale


@dataclass(frozen=True)
class DoseResponse:
    index: int
    at: datetime
    kind: str                      # "bolus" | "infusion"
    amount: float                  # bolus: amount (unit); infusion: dose per day (unit/day)
    amount_unit: str               # "mcg" or "mcg/day"
    baseline: float | None         # score the dose is compared with
    best: float | None             # lowest score while the dose acted
    best_at: datetime | None
    effective: bool
    effect_hours: float | None     # dose -> last reading still meeting the rule

    @property
    def reduction(self) -> float | None:
        return None if self.baseline is None or self.best is None else self.baseline - self.best

    @property
    def reduction_percent(self) -> float | None:
        r = self.reduction
        return None if r is None or not self.baseline else 100.0 * r / self.baseline

    @property
    def label(self) -> str:
        if self.kind == "infusion" and self.amount == 0:
            return "infusion stopped"
        return f"{num(self.amount)} {self.amount_unit} {self.kind}"


def meets(scale_name: str, baseline: float, score: float) -> bool:
    """True when ``score`` is an effective drop from ``baseline`` on the scale's rule (inclusive)."""
    rule = scale(scale_name)
    drop = baseline - score
    if rule.effective_reduction_percent is not None:
        return baseline > 0 and drop >= baseline * rule.effective_reduction_percent / 100.0 - 1e-9
    return drop >= rule.effective_reduction_points - 1e-9


def dose_responses(trial: Trial) -> list[DoseResponse]:
    """One DoseResponse per dose, in time order."""
    first = trial.doses[0].at
    trial_baseline = [r for r in trial.readings if r.at <= first][-1].score
    out = []
    for i, dose in enumerate(trial.doses):
        nxt = trial.doses[i + 1].at if i + 1 < len(trial.doses) else None
        if dose.kind == "bolus":
            before = [r for r in trial.readings if r.at <= dose.at]
            baseline = before[-1].score if before else None
            amount, unit = dose.amount, trial.unit
        else:
            baseline, amount, unit = trial_baseline, dose.dose_per_day, trial.dose_unit
        after = [r for r in trial.readings if r.at > dose.at and (nxt is None or r.at < nxt)]
        best = min(after, key=lambda r: r.score) if after else None
        hits = [r for r in after if baseline is not None and meets(trial.scale, baseline, r.score)]
        out.append(DoseResponse(
            index=i, at=dose.at, kind=dose.kind, amount=amount, amount_unit=unit, baseline=baseline,
            best=best.score if best else None, best_at=best.at if best else None, effective=bool(hits),
            effect_hours=(hits[-1].at - dose.at).total_seconds() / 3600 if hits else None,
        ))
    return out


def effective_dose(trial: Trial) -> DoseResponse | None:
    """The first dose that met the rule (the smallest effective screening bolus in a stepped
    screening), else None. Infusions of 0 never count."""
    for r in dose_responses(trial):
        if r.effective and r.amount > 0:
            return r
    return None


def outcome(trial: Trial) -> str:
    """Plain-words verdict: which dose worked, or that none did, with the rule used."""
    rule = scale(trial.scale)
    eff = effective_dose(trial)
    if eff is None:
        return f"No dose met the response rule ({rule.criterion_text} on the {rule.label})."
    return (f"Positive response to the {eff.label} given {eff.at:%Y-%m-%d %H:%M}: {num(eff.baseline)} -> "
            f"{num(eff.best)} on the {rule.label} ({rule.criterion_text}).")
