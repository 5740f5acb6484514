"""Share links: a whole programming case in one URL parameter.

``?case=`` carries the URL-safe base64 (RFC 4648 section 5, with padding) of
the case JSON in the spec format (``shared/spec/evaluate.md``). Encoding is
compact JSON without nulls; decoding accepts any JSON object in the spec
format and reports every problem as ``{"loc": [...], "msg": "..."}``, the
shape the CLI uses, instead of raising an unexplained exception.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import ValidationError

from . import gate
from .programs import Case

PARAM = "case"
MAX_TOKEN_CHARS = 64_000  # a case is ~1 kB; refuse absurd inputs before decoding


class ShareLinkError(gate.GateError):
    """A ``case`` token (or case file) that cannot be turned into a Case; ``errors`` lists why."""


def case_to_dict(case: Case | dict) -> dict:
    """The spec-format JSON object of a case (nulls left out)."""
    if isinstance(case, Case):
        return case.model_dump(mode="json", exclude_none=True)
    return case


def encode(case: Case | dict) -> str:
    """URL-safe base64 of the compact case JSON (a dict may be a draft that does not validate).

    Keys are sorted, as the workspace store keeps drafts: one case has one link whoever wrote it
    (a tour step's link and the sandbox's address after a reload are the same string)."""
    text = json.dumps(case_to_dict(case), separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def decode_dict(token: str) -> dict:
    """The JSON object inside a token, without validating it as a Case.

    Raises ShareLinkError for anything that is not base64 of a UTF-8 JSON object."""
    if not isinstance(token, str) or not token.strip():
        raise ShareLinkError("The case link is empty.", [{"loc": [PARAM], "msg": "empty value"}])
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise ShareLinkError("The case link is too long.",
                             [{"loc": [PARAM], "msg": f"{len(token)} characters, at most {MAX_TOKEN_CHARS}"}])
    # tolerate missing padding and standard-alphabet characters (+ /) from hand-made links
    padded = token.replace("+", "-").replace("/", "_")
    padded += "=" * (-len(padded) % 4)
    try:
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ShareLinkError("The case link is not valid URL-safe base64.",
                             [{"loc": [PARAM], "msg": f"not base64: {exc}"}]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ShareLinkError("The case link does not hold UTF-8 text.",
                             [{"loc": [PARAM], "msg": "decoded bytes are not UTF-8 text"}]) from None
    return parse_json(text)


def parse_json(text: str | bytes) -> dict:
    """A JSON object from text (pasted or uploaded case files, share links, the CLI),
    through the one input gate (``pumpmodel.gate``: size, depth, numbers)."""
    try:
        return gate.load_object(text)
    except gate.GateError as exc:
        raise ShareLinkError(str(exc), exc.errors) from None


def decode_text(raw: bytes) -> str:
    """Case file bytes as text: at most 1 MB, UTF-8, with or without a byte-order mark."""
    try:
        return gate.decode(raw)
    except gate.GateError as exc:
        raise ShareLinkError(str(exc), exc.errors) from None


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """``loc`` + ``msg`` of every problem pydantic found (no URLs, no input echo)."""
    return [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]


def to_case(data: dict) -> Case:
    """Validate a spec-format dict; ShareLinkError lists every problem."""
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        errs = validation_errors(exc)
        raise ShareLinkError(f"The case has {len(errs)} problem(s).", errs) from None


def decode(token: str) -> Case:
    """The Case inside a token; ShareLinkError (with ``errors``) when malformed."""
    return to_case(decode_dict(token))


def format_loc(loc: list) -> str:
    """``['proposed', 'steps', 0, 'start']`` -> ``proposed.steps[0].start``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(case)"


def link(base_url: str, case: Case | dict, **params: str) -> str:
    """A full share link, e.g. ``link("http://host/sandbox", case)``."""
    from urllib.parse import urlencode

    return base_url + "?" + urlencode({**params, PARAM: encode(case)})
