"""The screening trial before an implant and the systemic-to-intrathecal conversion.

- ``record``: the Trial model (what was given, when, and the response); ``programs.Case`` carries one;
- ``response``: which dose worked, by the scale's rule in ``data/trials.yaml``;
- ``start``: the first program's daily dose from a trial; ``first_program``: it as a new-implant Case;
- ``conversion``: the oral/IV/epidural morphine to intrathecal teaching calculator (``data/conversions.yaml``).

Only the record is imported here, so that ``programs`` can import it without a cycle.
"""
from .record import TRIAL_TYPE_LABELS, Reading, SideEffect, Trial, TrialBolus, TrialInfusion

__all__ = ["Trial", "TrialBolus", "TrialInfusion", "Reading", "SideEffect", "TRIAL_TYPE_LABELS"]
