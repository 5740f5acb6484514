"""Guardrail rules: small functions, each driven by the library data.

Each rule takes the ``Context`` of one evaluation and returns its findings.
Adding a drug or changing a limit is a data change (``data/*.yaml``); the
rules only read the library. Comparisons are inclusive as a clinician reads
them: a value exactly at a limit is allowed (see ``units.above``).
"""
from __future__ import annotations

from typing import Callable

from ..evaluation import Finding
from .bridge import bridge_bolus, bridge_transient_dose
from .context import PUMP_RANGE_SOURCE, Context
from .dose import (admixture, concentration_limits, day_dose_limits, dose_limits, first_fill_concentration,
                   ptm_bolus_large, start_dose, step_rate_above_dose_limit, supplied_concentration)
from .pump import (appointment_in_past, battery, fill_capacity, fixed_rate, low_reservoir_alarm_low, mode_supported,
                   rate_out_of_pump_range, refill_discrepancy, refill_drug_mismatch, reservoir_vs_appointment,
                   stability_window)
from .titration import (abrupt_decrease, delivery_interruption, opioid_switch, titration_step,
                        titration_too_frequent)

__all__ = ["Context", "PUMP_RANGE_SOURCE", "RULES", "check"]

RULES: list[Callable[[Context], list[Finding]]] = [
    fill_capacity, fixed_rate, mode_supported, rate_out_of_pump_range, concentration_limits, dose_limits,
    day_dose_limits, step_rate_above_dose_limit, ptm_bolus_large, start_dose, titration_step, titration_too_frequent,
    opioid_switch, abrupt_decrease, delivery_interruption, admixture, first_fill_concentration, refill_drug_mismatch,
    refill_discrepancy, reservoir_vs_appointment, appointment_in_past, low_reservoir_alarm_low, stability_window,
    battery, bridge_transient_dose, bridge_bolus, supplied_concentration,
]


def check(ctx: Context) -> list[Finding]:
    return [f for rule in RULES for f in rule(ctx)]
