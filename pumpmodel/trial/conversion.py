"""Systemic morphine to an intrathecal dose range: a teaching calculator, not a dosing rule.

The classic chain (``data/conversions.yaml``: oral:IV 3:1, IV:epidural 10:1,
epidural:intrathecal 10:1, so oral:intrathecal 300:1) is shown next to the
oral:intrathecal ratios observed in patients (10:1 to 125:1) as a band, and
both are compared with the intrathecal drug's usual starting range. Input by
another route is first taken back to an oral morphine equivalent with the
classic ratios. Intrathecal hydromorphone is reached from intrathecal
morphine with the library's morphine-equivalence factor (the one the engine's
``OPIOID_SWITCH`` uses). A conversion is not a starting dose; the result says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import library
from ..units import above, below, num
from .rules import conversions


class ConversionError(ValueError):
    """An input the calculator cannot use (named field, plain words)."""


@dataclass(frozen=True)
class Conversion:
    route: str
    dose_mg_per_day: float            # systemic morphine by ``route``
    oral_mg_per_day: float            # oral morphine equivalent
    target: str                       # intrathecal drug
    potency: float                    # intrathecal morphine mg per mg of the target drug (morphine: 1)
    potency_source: str
    classic_ratio: float              # route:intrathecal by the classic chain (oral 300)
    classic_mg_per_day: float         # target drug, intrathecal, by the classic chain
    band_low_mg_per_day: float        # target drug, from the observed oral:IT max ratio (125:1)
    band_high_mg_per_day: float       # ... and min ratio (10:1)
    observed_min_ratio: float         # oral:intrathecal, from the data
    observed_max_ratio: float
    start_min: float | None
    start_max: float | None
    start_source: str
    steps: list[str]
    statement: str

    @property
    def band_vs_start(self) -> str:
        """Where the observed band lies against the starting range: below, overlaps or above."""
        return _relation(self.band_low_mg_per_day, self.band_high_mg_per_day, self.start_min, self.start_max)

    @property
    def classic_vs_start(self) -> str:
        return _relation(self.classic_mg_per_day, self.classic_mg_per_day, self.start_min, self.start_max)

    @property
    def fold_spread(self) -> float:
        return self.band_high_mg_per_day / self.band_low_mg_per_day

    def summary(self) -> str:
        rng = f"{num(self.start_min)}-{num(self.start_max)} mg/day"
        return (f"{num(self.dose_mg_per_day)} mg/day {self.route} morphine: the classic {num(self.classic_ratio)}:1 chain "
                f"gives {num(self.classic_mg_per_day, 3)} mg/day intrathecal {self.target}; the observed ratios give "
                f"{num(self.band_low_mg_per_day, 3)} to {num(self.band_high_mg_per_day, 3)} mg/day "
                f"({num(self.fold_spread, 3)}-fold). The usual start of intrathecal {self.target} is {rng}: the "
                f"band is {_relation_words(self.band_vs_start)} it. {self.statement}")


def _relation(lo: float, hi: float, smin: float | None, smax: float | None) -> str:
    if smax is not None and above(lo, smax):
        return "above"
    if smin is not None and below(hi, smin):
        return "below"
    if (smin is None or not below(lo, smin)) and (smax is None or not above(hi, smax)):
        return "within"
    return "overlaps"


def _relation_words(rel: str) -> str:
    return {"above": "entirely above", "below": "entirely below", "within": "inside",
            "overlaps": "partly outside"}[rel]


def routes() -> list[str]:
    """Systemic routes the calculator accepts, oral first."""
    return [s.from_ for s in conversions().route_chain]


def chain_ratio(route: str) -> float:
    """route:intrathecal by the classic chain (oral 300, iv 100, epidural 10)."""
    chain = conversions().route_chain
    names = [s.from_ for s in chain]
    if route not in names:
        raise ConversionError(f"route: {route!r} is not one of {', '.join(names)}")
    return math.prod(s.ratio for s in chain[names.index(route):])


def oral_equivalent(dose_mg_per_day: float, route: str) -> float:
    """Oral morphine equivalent of a dose by ``route`` (classic ratios back to oral)."""
    return dose_mg_per_day * chain_ratio("oral") / chain_ratio(route)


def potency(target: str) -> tuple[float, str]:
    """Intrathecal morphine mg equivalent to 1 mg of intrathecal ``target``, with its source: the
    drug library's ``morphine_equivalence`` (the factors the engine's OPIOID_SWITCH uses)."""
    if target not in library.drugs():
        raise ConversionError(f"target: {target!r} is not in the drug library")
    eq = library.drug(target).morphine_equivalence
    if eq is None:
        raise ConversionError(f"target: no intrathecal morphine equivalence for {target!r} in the drug library")
    return eq.factor, eq.source


def targets() -> list[str]:
    """Intrathecal drugs the calculator can reach: morphine and those with a morphine equivalence."""
    out = []
    for name in library.drugs():
        try:
            potency(name)
        except ConversionError:
            continue
        out.append(name)
    return out


def convert(dose_mg_per_day: float, route: str = "oral", target: str = "morphine") -> Conversion:
    """The intrathecal range for ``dose_mg_per_day`` of systemic morphine by ``route``."""
    if not isinstance(dose_mg_per_day, (int, float)) or not math.isfinite(dose_mg_per_day) or dose_mg_per_day <= 0:
        raise ConversionError(f"dose_mg_per_day: must be a positive number of mg/day, not {dose_mg_per_day!r}")
    if dose_mg_per_day > 100_000:
        raise ConversionError(f"dose_mg_per_day: {num(dose_mg_per_day)} mg/day is not a plausible daily dose "
                              "(a unit slip?)")
    ratio = chain_ratio(route)
    factor, factor_source = potency(target)
    data = conversions()
    obs = data.observed_oral_to_intrathecal
    oral = oral_equivalent(dose_mg_per_day, route)
    it_morphine = dose_mg_per_day / ratio
    steps = []
    chain = data.route_chain
    start = [s.from_ for s in chain].index(route)
    amount = dose_mg_per_day
    for s in chain[start:]:
        steps.append(f"{s.from_} {num(amount, 4)} mg/day / {num(s.ratio)} = {s.to} {num(amount / s.ratio, 4)} mg/day")
        amount /= s.ratio
    if route != "oral":
        steps.append(f"oral morphine equivalent: {num(dose_mg_per_day)} mg/day {route} x "
                     f"{num(chain_ratio('oral') / ratio)} = {num(oral, 4)} mg/day")
    steps.append(f"observed band: oral {num(oral, 4)} mg/day / {num(obs.max_ratio)} to / {num(obs.min_ratio)} = "
                 f"{num(oral / obs.max_ratio, 4)} to {num(oral / obs.min_ratio, 4)} mg/day intrathecal morphine")
    if factor != 1:
        steps.append(f"intrathecal {target} = intrathecal morphine / {num(factor)} ({factor_source})")
    start_range = library.drug(target).start_dose_per_day
    return Conversion(
        route=route, dose_mg_per_day=dose_mg_per_day, oral_mg_per_day=oral, target=target,
        potency=factor, potency_source=factor_source, classic_ratio=ratio,
        classic_mg_per_day=it_morphine / factor,
        band_low_mg_per_day=oral / obs.max_ratio / factor, band_high_mg_per_day=oral / obs.min_ratio / factor,
        observed_min_ratio=obs.min_ratio, observed_max_ratio=obs.max_ratio,
        start_min=start_range.min, start_max=start_range.max, start_source=start_range.source,
        steps=steps, statement=data.statement,
    )
