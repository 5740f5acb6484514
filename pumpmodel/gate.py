"""The one gate every case passes before anything else touches it.

Share links, pasted and uploaded case files, the CLI and the program JSON in
telemetry ``details`` all go through ``load_object`` (or ``loads``). It bounds,
in this order and before Python builds any object from the text:

* size: at most ``MAX_CASE_BYTES`` (1 MB) of UTF-8;
* nesting: at most ``MAX_DEPTH`` levels of ``[`` / ``{`` (counted on the text
  with strings removed, so a 600-deep document never reaches a recursive parser);
* numbers: integer literals of at most ``MAX_INT_DIGITS`` digits (Python would
  otherwise convert a 5000-digit literal, or refuse with a ValueError), no
  ``NaN`` / ``Infinity`` literals, magnitudes at most ``MAX_MAGNITUDE``;
* shape: at most ``MAX_ITEMS`` entries per array or object, strings of at most
  ``MAX_STRING_CHARS`` characters, no key given twice (the second would silently
  replace the first).

A rejection is a ``GateError`` (a ``ValueError``) whose ``errors`` list every
problem as ``{"loc": [...], "msg": ...}`` naming the field, the shape the CLI,
the share links and the pages already use. The model-level checks (units,
physics, the pump profile) stay in ``pumpmodel.programs``.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

MAX_CASE_BYTES = 1024 * 1024
MAX_CASE_MB = 1
MAX_DEPTH = 32
MAX_INT_DIGITS = 20
MAX_MAGNITUDE = 1e12
MAX_ITEMS = 1000
MAX_STRING_CHARS = 2000

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class GateError(ValueError):
    """Input refused at the gate; ``errors`` names each problem (``loc`` + ``msg``)."""

    def __init__(self, message: str, errors: list[dict[str, Any]]):
        super().__init__(message)
        self.errors = errors


class _Refused:
    """Stands in for a literal the gate refuses, so the problem can be reported with its field."""

    __slots__ = ("msg",)

    def __init__(self, msg: str):
        self.msg = msg


def check_size(n_bytes: int, limit: int = MAX_CASE_BYTES, what: str = "case") -> None:
    if n_bytes > limit:
        raise GateError(f"The {what} is too large.",
                        [{"loc": [], "msg": f"{n_bytes:,} bytes; at most {limit:,} bytes ({limit / 1048576:g} MB)"}])


def decode(raw: bytes, limit: int = MAX_CASE_BYTES, what: str = "case") -> str:
    """Bytes as text: size first, then UTF-8 (a byte-order mark is allowed)."""
    check_size(len(raw), limit, what)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GateError(f"The {what} is not UTF-8 text.",
                        [{"loc": [], "msg": f"byte {exc.start}: {exc.reason}"}]) from None


def depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting of JSON text, counted without parsing (strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    steps = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    delta = np.where((steps == ord("[")) | (steps == ord("{")), 1, -1)
    return int(np.cumsum(delta).max())


def _int(literal: str):
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _Refused(f"integer with {digits} digits; at most {MAX_INT_DIGITS}")
    value = int(literal)
    if abs(value) > MAX_MAGNITUDE:
        return _Refused(f"{literal} is beyond +/-{MAX_MAGNITUDE:g}")
    return value


def _float(literal: str):
    if len(literal) > 64:
        return _Refused(f"number literal of {len(literal)} characters")
    value = float(literal)
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        return _Refused(f"{literal[:32]} is beyond +/-{MAX_MAGNITUDE:g}")
    return value


def _constant(literal: str):
    return _Refused(f"{literal} is not a number (finite numbers only)")


def _pairs(pairs: list[tuple[str, Any]]):
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            out[k] = _Refused(f"key {k[:60]!r} given twice")
        else:
            out[k] = v
    return out


def _walk(value: Any, loc: list, errors: list[dict]) -> None:
    if isinstance(value, _Refused):
        errors.append({"loc": loc, "msg": value.msg})
    elif isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            errors.append({"loc": loc, "msg": f"text of {len(value):,} characters; at most {MAX_STRING_CHARS:,}"})
    elif isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            errors.append({"loc": loc, "msg": f"{len(value):,} keys; at most {MAX_ITEMS:,}"})
            return
        for k, v in value.items():
            if len(k) > MAX_STRING_CHARS:
                errors.append({"loc": loc, "msg": f"a key of {len(k):,} characters"})
                continue
            _walk(v, [*loc, k], errors)
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            errors.append({"loc": loc, "msg": f"{len(value):,} entries; at most {MAX_ITEMS:,}"})
            return
        for i, v in enumerate(value):
            _walk(v, [*loc, i], errors)
    if len(errors) > 50:
        raise GateError(f"The input has more than 50 problems.", errors[:50])


def loads(text: str | bytes, limit: int = MAX_CASE_BYTES, what: str = "case") -> Any:
    """JSON text (or bytes) through the gate; ``GateError`` names every refused field."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = decode(bytes(text), limit, what)
    elif len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
        check_size(len(text.encode("utf-8", "surrogatepass")), limit, what)
    deepest = depth(text)
    if deepest > MAX_DEPTH:
        raise GateError(f"The {what} is nested too deeply.",
                        [{"loc": [], "msg": f"nested too deeply: {deepest} levels; at most {MAX_DEPTH}"}])
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                          object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise GateError(f"The {what} is not valid JSON.",
                        [{"loc": [f"line {exc.lineno}", f"column {exc.colno}"], "msg": exc.msg}]) from None
    except (RecursionError, ValueError) as exc:  # not expected after the checks above: still the contract
        raise GateError(f"The {what} is not valid JSON.", [{"loc": [], "msg": type(exc).__name__}]) from None
    errors: list[dict] = []
    _walk(data, [], errors)
    if errors:
        raise GateError(f"The {what} has {len(errors)} problem(s).", errors)
    return data


def load_object(text: str | bytes, limit: int = MAX_CASE_BYTES, what: str = "case") -> dict:
    """``loads`` for a JSON object (what every case is)."""
    data = loads(text, limit, what)
    if not isinstance(data, dict):
        raise GateError(f"The {what} must be a JSON object.",
                        [{"loc": [], "msg": f"expected an object, got {type(data).__name__}"}])
    return data
