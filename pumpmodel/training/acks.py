"""Acknowledgements of soft findings: a reason per finding, keyed as the sandbox keys them."""
from __future__ import annotations

from ..evaluation import Evaluation, Finding
from ..sandbox import ack_key, soft_findings


def reason_for(f: Finding, acks: dict[str, str]) -> str:
    """The reason given for a finding: by ``CODE:drug`` (the sandbox's key) or by ``CODE`` alone."""
    return (acks.get(ack_key(f)) or acks.get(f.code) or "").strip()


def normalise_acks(ev: Evaluation, acks: dict[str, str]) -> dict[str, str]:
    """Reasons keyed by ``sandbox.ack_key`` for the soft findings of ``ev`` that have one."""
    return {ack_key(f): reason_for(f, acks) for f in soft_findings(ev) if reason_for(f, acks)}


def overrides(ev: Evaluation | None, acks: dict[str, str]) -> list[dict]:
    """The soft findings overridden with a reason: code, drug, reason."""
    if ev is None:
        return []
    return [{"code": f.code, "drug": f.drug, "reason": reason_for(f, acks)}
            for f in soft_findings(ev) if reason_for(f, acks)]
