"""From a trial to the first program's daily dose, by the drug's rule in ``data/trials.yaml``.

- baclofen (``screening_bolus``): the drug library's multiple of the effective screening
  bolus (label: twice it; the bolus itself when its effect lasted more than 8 h);
- opioids (``trial_dose``): ``fraction`` x the effective trial dose per day
  (a bolus counted as covering ``bolus_covers_hours``), kept at or below the
  top of the drug's starting range; below the range it is kept as it is (the
  trial says less works: never raise a start to meet a range);
- ziconotide (``label_start``): the label's starting dose, whatever the trial.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import library
from ..units import above, below, num
from .record import Trial
from .response import effective_dose
from .rules import trial_rules


class NoStartDose(ValueError):
    """The trial gives no starting dose (no positive response, or no rule for the drug)."""


@dataclass(frozen=True)
class StartDose:
    drug: str
    dose_per_day: float
    unit: str                         # e.g. "mcg/day"
    formula: str                      # "2 x 75 mcg = 150 mcg/day"
    range_min: float | None           # the drug's usual starting range (baclofen: up to 2 x bolus)
    range_max: float | None
    position: str                     # "below" | "within" | "above" the starting range (before capping)
    source: str
    assumed: bool
    screening_bolus_mcg: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def range_text(self) -> str:
        if self.range_max is None:
            return "no fixed range"
        lo = f"{num(self.range_min)}-" if self.range_min else "up to "
        return f"{lo}{num(self.range_max)} {self.unit}"


def start_dose(trial: Trial) -> StartDose:
    """The first program's daily dose for the trial's drug; NoStartDose when there is none."""
    rule = trial_rules().start_rules.get(trial.drug)
    if rule is None:
        raise NoStartDose(f"No trial-to-program rule for {trial.drug} in data/trials.yaml "
                          f"(rules exist for {', '.join(trial_rules().start_rules)}).")
    drug = library.drug(trial.drug)
    unit = drug.dose_unit
    if rule.method == "label_start":
        top = drug.start_dose_per_day.max
        return StartDose(trial.drug, top, unit, f"label starting dose: {num(top)} {unit}",
                         drug.start_dose_per_day.min, top, "within", rule.source, rule.assumed,
                         notes=["The trial showed the drug is tolerated; the label sets the start, not the trial dose."])
    eff = effective_dose(trial)
    if eff is None:
        raise NoStartDose(_no_response_text(trial))
    if rule.method == "screening_bolus":
        multiple = drug.start_dose_per_day.screening_bolus_multiple
        if multiple is None:
            raise NoStartDose(f"{trial.drug}: the drug library gives no multiple of the screening bolus to start at.")
        factor, note = multiple, []
        if rule.long_effect_hours is not None and eff.effect_hours is not None \
                and eff.effect_hours > rule.long_effect_hours:
            factor = rule.long_effect_factor
            note = [f"The bolus effect lasted {num(eff.effect_hours, 3)} h (more than "
                    f"{num(rule.long_effect_hours)} h): start at {num(factor)} x the bolus."]
        dose = factor * eff.amount
        return StartDose(trial.drug, dose, unit, f"{num(factor)} x {num(eff.amount)} {trial.unit} = {num(dose)} {unit}",
                         None, multiple * eff.amount, "within", rule.source, rule.assumed,
                         screening_bolus_mcg=eff.amount if trial.unit == "mcg" else eff.amount * 1000, notes=note)
    per_day = eff.amount * 24.0 / rule.bolus_covers_hours if eff.kind == "bolus" else eff.amount
    basis = (f"{num(eff.amount)} {trial.unit} bolus taken as {num(per_day)} {unit}" if eff.kind == "bolus"
             else f"{num(per_day)} {unit} infusion")
    candidate = rule.fraction * per_day
    rng = drug.start_dose_per_day
    formula = f"{num(rule.fraction)} x {num(per_day)} {unit} = {num(candidate)} {unit}"
    notes = [f"Effective trial dose: {basis}."]
    if rng.max is not None and above(candidate, rng.max):
        notes.append(f"{num(candidate)} {unit} is above the usual start ({num(rng.min)}-{num(rng.max)} {unit}): "
                     f"start at {num(rng.max)} {unit} and titrate.")
        return StartDose(trial.drug, rng.max, unit, formula + f", capped at {num(rng.max)} {unit}",
                         rng.min, rng.max, "above", rule.source, rule.assumed, notes=notes)
    position = "within"
    if rng.min is not None and below(candidate, rng.min):
        position = "below"
        notes.append(f"{num(candidate)} {unit} is below the usual start ({num(rng.min)}-{num(rng.max)} {unit}); "
                     "the trial says less works: do not raise it to meet the range.")
    return StartDose(trial.drug, candidate, unit, formula, rng.min, rng.max, position, rule.source,
                     rule.assumed, notes=notes)


def _no_response_text(trial: Trial) -> str:
    scr = trial_rules().screening.get(trial.drug)
    text = f"No trial dose met the response rule: the trial gives no starting dose for {trial.drug}."
    if scr is not None:
        text += (f" Screening for {trial.drug} stops at {num(max(scr.bolus_steps))} {trial.unit}; "
                 f"no response there means no pump ({scr.source}).")
    return text
