"""Rules about the dead space after a drug or concentration change."""
from __future__ import annotations

from .. import library
from ..evaluation import Finding
from ..units import above, below, num
from .context import Context, finding as _f
from .titration import _rises_too_much, _titration_limit


def bridge_transient_dose(ctx: Context) -> list[Finding]:
    """Until the dead space clears, the old solution runs at the new rate: proposed daily volume
    x old concentration, checked against the maxima and the current dose."""
    if ctx.bridge is None or ctx.case.current is None:
        return []
    src = library.rules().bridge_transient_dose.source
    out = []
    hours = ctx.bridge.hours_to_clear_without
    for name, conc in ctx.case.current.concentrations().items():
        d = library.drug(name)
        old = ctx.current_daily_dose.get(name, 0.0)
        transient = ctx.daily_volume_ml * conc
        lim = d.dose_per_day
        reasons, severity, value, limit = [], "soft", transient, None
        if above(transient, lim.hard_max):
            reasons.append(f"above the hard maximum {num(lim.hard_max)} {d.dose_unit}")
            severity, limit = "hard", lim.hard_max
        elif above(transient, lim.soft_max):
            reasons.append(f"above the recommended maximum {num(lim.soft_max)} {d.dose_unit}")
            limit = lim.soft_max
        rule = _titration_limit(ctx, d)
        if old > 0 and rule is not None and _rises_too_much(rule, old, transient):
            reasons.append(f"a rise over the current {num(old)} {d.dose_unit} beyond the titration rule "
                           f"(+{num(rule[1])} {'%' if rule[0] == 'pct' else d.dose_unit})")
            limit = limit if limit is not None else (old + rule[1] if rule[0] == "abs" else old * (1 + rule[1] / 100))
        if d.max_decrease_percent is not None and old > 0 and below(transient, old * (1 - d.max_decrease_percent / 100)):
            reasons.append(f"more than {num(d.max_decrease_percent)} % below the current {num(old)} {d.dose_unit} "
                           "(withdrawal risk)")
            limit = limit if limit is not None else old * (1 - d.max_decrease_percent / 100)
        if not reasons:
            continue
        span = "until it clears" if hours is None else f"for about {num(hours, 4)} h"
        out.append(_f("BRIDGE_TRANSIENT_DOSE", severity, name,
                      f"Until the {num(ctx.bridge.volume_ml)} mL dead space clears the old {name} "
                      f"{num(conc)} {d.concentration_unit} runs at the new rate: {num(ctx.daily_volume_ml)} mL/day x "
                      f"{num(conc)} = {num(transient)} {d.dose_unit} {span}, " + " and ".join(reasons)
                      + ". Give the bridge bolus or adjust the rate.", src + "; " + lim.source,
                      value, limit, d.dose_unit))
    return out


def bridge_bolus(ctx: Context) -> list[Finding]:
    b = ctx.bridge
    if b is None:
        return []
    hours = "never clears (nothing is delivered)" if b.hours_to_clear_without is None else \
        f"needs {num(b.hours_to_clear_without, 4)} h to clear"
    old = ctx.case.current.concentrations() if ctx.case.current is not None else {}
    runs = "; ".join(f"{num(ctx.daily_volume_ml)} mL/day x {num(c)} {library.drug(n).concentration_unit} = "
                     f"{num(ctx.daily_volume_ml * c)} {library.drug(n).dose_unit} of {n}"
                     + (f" (current dose {num(ctx.current_daily_dose.get(n, 0.0))})"
                        if ctx.current_daily_dose is not None else "")
                     for n, c in old.items())
    return [_f("BRIDGE_BOLUS_REQUIRED", "info", None,
               f"The drug or concentration changes: {num(b.volume_ml)} mL of the old solution fills the tubing and "
               f"catheter. Without a bridge bolus it {hours}, and until then the old solution runs at the new "
               f"rate: {runs}.", library.pump_defaults().catheter_volume_source, b.volume_ml, None, "mL")]
