"""Builders for cases in tests: small dicts in the spec's JSON shape."""
from __future__ import annotations

import copy

from pumpmodel import Case, evaluate


def drug(name="morphine", conc=10.0, unit="mg/mL"):
    return {"drug": name, "concentration": conc, "unit": unit}


def simple(rate, *drugs, ptm=None):
    p = {"drugs": list(drugs) or [drug()], "mode": "simple_continuous", "rate_ml_per_day": rate}
    if ptm:
        p["ptm"] = ptm
    return p


def case(proposed, current=None, profile="programmable-20", reservoir=18.0, now="2026-11-21T09:00:00",
         appointment=None, **extra):
    d = {"pump": {"profile": profile}, "now": now, "reservoir_ml": reservoir, "current": current,
         "proposed": proposed, "next_appointment": appointment}
    d.update(extra)
    return copy.deepcopy(d)


def run(d):
    return evaluate(Case.model_validate(d))


def codes(d):
    return [w.code for w in run(d).warnings]
