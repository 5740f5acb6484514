"""pumpmodel: the domain library of the intrathecal pump training dashboard.

Synthetic data, for training only; not for clinical use. No Streamlit here:
usable from a notebook or the command line (``python -m pumpmodel``).
"""
from .evaluate import evaluate
from .evaluation import BridgeBolus, Dose, Evaluation, Finding
from .programs import PTM, Bolus, Case, DrugEntry, Program, PumpSettings, Refill, Step

__all__ = [
    "evaluate", "Case", "Evaluation", "Program", "DrugEntry", "Step", "Bolus", "PTM", "PumpSettings", "Refill",
    "Finding", "Dose", "BridgeBolus",
]
