"""The workspace store's Python API: :class:`Store` opens workspaces by token,
:class:`Workspace` reads and writes that workspace's rows only.

Records returned are frozen dataclasses (plain values, no open session).
Every write is one transaction: it is all there after it returns, or none of
it is (an exception rolls it back).
"""
from __future__ import annotations

import hashlib
import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator, Sequence

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pumpmodel.store import db
from pumpmodel.store.models import (AcknowledgementRow, DraftRow, DraftVersionRow, OverrideRow, SentProgramRow,
                                    UploadRow, WorkspaceRow, utcnow)

TOKEN_BYTES = 24            # secrets.token_urlsafe(24): 32 characters, 192 bits
MAX_DRAFT_VERSIONS = 100    # undo depth kept per draft
KEEP = object()             # save_draft(target=KEEP): the previous version's target


class StoreError(Exception):
    """Base of the store's errors."""


class WorkspaceNotFound(StoreError, LookupError):
    pass


class DuplicateUpload(StoreError, ValueError):
    """The same file (same SHA-256) is already in this workspace."""


# -- records --------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    id: int
    name: str
    digest: str
    size_bytes: int
    created_at: datetime


@dataclass(frozen=True)
class Override:
    """A soft finding overridden when sending (input of ``send_program`` and a log entry)."""
    code: str
    reason: str
    severity: str = "soft"
    message: str = ""
    drug: str | None = None
    # filled in the log:
    pump_id: str = ""
    case_key: str | None = None
    pump_time: datetime | None = None
    sent_at: datetime | None = None
    sent_id: int | None = None


@dataclass(frozen=True)
class Sent:
    id: int
    pump_id: str
    program_json: str
    case_json: str | None
    case_key: str | None
    pump_time: datetime
    sent_at: datetime
    undone_at: datetime | None

    @property
    def program(self) -> dict:
        return json.loads(self.program_json)

    @property
    def case(self) -> dict | None:
        return None if self.case_json is None else json.loads(self.case_json)


@dataclass(frozen=True)
class Ack:
    code: str
    checked: bool
    reason: str


@dataclass(frozen=True)
class Draft:
    slot: str
    case_json: str
    origin: str
    target: str | None
    case_key: str | None
    label: str
    position: int          # 1-based version number shown
    versions: int
    can_undo: bool
    can_redo: bool

    @property
    def case(self) -> dict:
        return json.loads(self.case_json)


def case_key(case: dict | str) -> str:
    """A stable key for a case: SHA-256 of its canonical JSON (for acknowledgements)."""
    if isinstance(case, str):
        case = json.loads(case)
    text = json.dumps(case, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _json(value: dict | str) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


# -- store ------------------------------------------------------------------------

class Store:
    """The database behind the workspaces (``url``: default ``PUMP_DATABASE_URL`` or SQLite)."""

    def __init__(self, url: str | None = None, engine: Engine | None = None):
        self.engine = engine if engine is not None else db.connect(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any exception."""
        with self._sessions.begin() as session:
            yield session

    def create_workspace(self) -> "Workspace":
        for _ in range(3):
            token = secrets.token_urlsafe(TOKEN_BYTES)
            try:
                with self.transaction() as s:
                    row = WorkspaceRow(token=token)
                    s.add(row)
                    s.flush()
                    return Workspace(self, row.id, token)
            except IntegrityError:  # a 192-bit collision: practically never
                continue
        raise StoreError("could not create a workspace")

    def workspace(self, token: str | None) -> "Workspace":
        """The workspace named ``token``; ``WorkspaceNotFound`` when there is none."""
        if not token or not isinstance(token, str) or len(token) > 64:
            raise WorkspaceNotFound("no workspace with this token")
        with self.transaction() as s:
            row = s.scalar(select(WorkspaceRow).where(WorkspaceRow.token == token))
            if row is None:
                raise WorkspaceNotFound("no workspace with this token")
            row.seen_at = utcnow()
            return Workspace(self, row.id, token)

    def open_or_create(self, token: str | None) -> tuple["Workspace", bool]:
        """``(workspace, created)``: the workspace named ``token``, or a new one when it is unknown."""
        try:
            return self.workspace(token), False
        except WorkspaceNotFound:
            return self.create_workspace(), True

    def delete_workspace(self, token: str) -> bool:
        with self.transaction() as s:
            return s.execute(delete(WorkspaceRow).where(WorkspaceRow.token == token)).rowcount > 0


_default: dict[str, Store] = {}


def get_store(url: str | None = None) -> Store:
    """The process's :class:`Store` for ``url`` (default ``PUMP_DATABASE_URL``), created and migrated once."""
    url = db.normalize_url(url or db.database_url())
    store = _default.get(url)
    if store is None:
        store = _default[url] = Store(url)
    return store


# -- one workspace --------------------------------------------------------------

class Workspace:
    """One workspace: every method reads or writes rows of this workspace only."""

    def __init__(self, store: Store, workspace_id: int, token: str):
        self.store, self.id, self.token = store, workspace_id, token

    def __repr__(self) -> str:  # never print the token (it is the workspace's key)
        return f"Workspace(id={self.id})"

    def transaction(self) -> "contextmanager[Session]":
        return self.store.transaction()

    # uploads -----------------------------------------------------------------
    def add_upload(self, name: str, data: bytes) -> Upload:
        digest = hashlib.sha256(data).hexdigest()
        try:
            with self.transaction() as s:
                if s.scalar(select(UploadRow.id).where(UploadRow.workspace_id == self.id,
                                                       UploadRow.digest == digest)) is not None:
                    raise DuplicateUpload(f"{name}: this file is already loaded in this workspace")
                row = UploadRow(workspace_id=self.id, name=name, digest=digest, size_bytes=len(data), data=data)
                s.add(row)
                s.flush()
                return _upload(row)
        except IntegrityError as exc:  # a concurrent identical upload
            raise DuplicateUpload(f"{name}: this file is already loaded in this workspace") from exc

    def uploads(self) -> list[Upload]:
        """Uploads, oldest first (without their bytes)."""
        with self.transaction() as s:
            rows = s.execute(select(UploadRow.id, UploadRow.name, UploadRow.digest, UploadRow.size_bytes,
                                    UploadRow.created_at).where(UploadRow.workspace_id == self.id)
                             .order_by(UploadRow.id)).all()
            return [Upload(*r) for r in rows]

    def upload_data(self, upload_id: int) -> bytes:
        with self.transaction() as s:
            data = s.scalar(select(UploadRow.data).where(UploadRow.workspace_id == self.id,
                                                         UploadRow.id == upload_id))
        if data is None:
            raise KeyError(f"no upload {upload_id} in this workspace")
        return data

    def remove_upload(self, upload_id: int) -> bool:
        with self.transaction() as s:
            return s.execute(delete(UploadRow).where(UploadRow.workspace_id == self.id,
                                                     UploadRow.id == upload_id)).rowcount > 0

    def remove_uploads(self) -> int:
        with self.transaction() as s:
            return s.execute(delete(UploadRow).where(UploadRow.workspace_id == self.id)).rowcount

    # sent programs -------------------------------------------------------------
    def send_program(self, pump_id: str, program: dict | str, pump_time: datetime, *,
                     case: dict | str | None = None, case_key: str | None = None,
                     overrides: Sequence[Override] = (), sent_at: datetime | None = None) -> Sent:
        """Record ``program`` as the pump's current program, with the soft findings overridden,
        in one transaction. ``pump_time``: the pump clock (local, naive); ``case``: the whole
        case as sent (its ``current`` is the program before)."""
        sent_at = sent_at or utcnow()
        with self.transaction() as s:
            row = SentProgramRow(workspace_id=self.id, pump_id=pump_id, program_json=_json(program),
                                 case_json=None if case is None else _json(case), case_key=case_key,
                                 pump_time=pump_time, sent_at=sent_at)
            s.add(row)
            s.flush()
            for o in overrides:
                if not o.reason or not o.reason.strip():
                    raise ValueError(f"{o.code}: an override needs a reason")
                s.add(OverrideRow(workspace_id=self.id, sent_id=row.id, pump_id=pump_id, case_key=case_key,
                                  code=o.code, severity=o.severity, message=o.message, drug=o.drug,
                                  reason=o.reason, pump_time=pump_time, sent_at=sent_at))
            s.flush()
            return _sent(row)

    def sent_history(self, pump_id: str | None = None, *, include_undone: bool = True) -> list[Sent]:
        """Sent programs, oldest first (one pump, or all)."""
        q = select(SentProgramRow).where(SentProgramRow.workspace_id == self.id)
        if pump_id is not None:
            q = q.where(SentProgramRow.pump_id == pump_id)
        if not include_undone:
            q = q.where(SentProgramRow.undone_at.is_(None))
        with self.transaction() as s:
            return [_sent(r) for r in s.scalars(q.order_by(SentProgramRow.id))]

    def current_program(self, pump_id: str) -> Sent | None:
        """The last sent program still in force on this pump (not undone), if any."""
        with self.transaction() as s:
            row = s.scalar(select(SentProgramRow).where(SentProgramRow.workspace_id == self.id,
                                                        SentProgramRow.pump_id == pump_id,
                                                        SentProgramRow.undone_at.is_(None))
                           .order_by(SentProgramRow.id.desc()).limit(1))
            return None if row is None else _sent(row)

    def sent_pumps(self) -> dict[str, str]:
        """``{pump_id: program_json}`` of every pump with a program in force (for cache keys)."""
        out: dict[str, str] = {}
        for sent in self.sent_history(include_undone=False):
            out[sent.pump_id] = sent.program_json
        return out

    def undo_send(self, pump_id: str) -> bool:
        """Take back the last program in force on the pump; False when there was none."""
        with self.transaction() as s:
            sid = s.scalar(select(SentProgramRow.id).where(SentProgramRow.workspace_id == self.id,
                                                           SentProgramRow.pump_id == pump_id,
                                                           SentProgramRow.undone_at.is_(None))
                           .order_by(SentProgramRow.id.desc()).limit(1))
            if sid is None:
                return False
            s.execute(update(SentProgramRow).where(SentProgramRow.id == sid).values(undone_at=utcnow()))
            return True

    def reset_sent(self, pump_id: str) -> int:
        """Take back every program sent to the pump (it runs its original program again)."""
        with self.transaction() as s:
            return s.execute(update(SentProgramRow).where(SentProgramRow.workspace_id == self.id,
                                                          SentProgramRow.pump_id == pump_id,
                                                          SentProgramRow.undone_at.is_(None))
                             .values(undone_at=utcnow())).rowcount

    # acknowledgements and overrides ---------------------------------------------
    def set_ack(self, case_key: str, code: str, *, checked: bool, reason: str = "") -> Ack:
        """Acknowledge (or untick) finding ``code`` of case ``case_key`` with ``reason``."""
        with self.transaction() as s:
            row = s.scalar(select(AcknowledgementRow).where(AcknowledgementRow.workspace_id == self.id,
                                                            AcknowledgementRow.case_key == case_key,
                                                            AcknowledgementRow.code == code))
            if row is None:
                row = AcknowledgementRow(workspace_id=self.id, case_key=case_key, code=code)
                s.add(row)
            row.checked, row.reason, row.updated_at = bool(checked), reason or "", utcnow()
            return Ack(code, row.checked, row.reason)

    def acks(self, case_key: str) -> dict[str, Ack]:
        """Acknowledgements of one case, by finding code (other cases' never appear)."""
        with self.transaction() as s:
            rows = s.scalars(select(AcknowledgementRow).where(AcknowledgementRow.workspace_id == self.id,
                                                              AcknowledgementRow.case_key == case_key))
            return {r.code: Ack(r.code, r.checked, r.reason) for r in rows}

    def clear_acks(self, case_key: str | None = None, codes: Sequence[str] | None = None) -> int:
        """Delete acknowledgements: of one case (optionally only ``codes``), or all."""
        q = delete(AcknowledgementRow).where(AcknowledgementRow.workspace_id == self.id)
        if case_key is not None:
            q = q.where(AcknowledgementRow.case_key == case_key)
        if codes is not None:
            q = q.where(AcknowledgementRow.code.in_(list(codes)))
        with self.transaction() as s:
            return s.execute(q).rowcount

    def override_log(self, pump_id: str | None = None) -> list[Override]:
        """Every override ever sent (also of programs later undone), oldest first."""
        q = select(OverrideRow).where(OverrideRow.workspace_id == self.id)
        if pump_id is not None:
            q = q.where(OverrideRow.pump_id == pump_id)
        with self.transaction() as s:
            return [Override(code=r.code, reason=r.reason, severity=r.severity, message=r.message, drug=r.drug,
                             pump_id=r.pump_id, case_key=r.case_key, pump_time=r.pump_time, sent_at=r.sent_at,
                             sent_id=r.sent_id)
                    for r in s.scalars(q.order_by(OverrideRow.id))]

    # drafts ----------------------------------------------------------------------
    def draft(self, slot: str = "sandbox") -> Draft | None:
        with self.transaction() as s:
            return self._draft(s, slot)

    def save_draft(self, case: dict | str, *, slot: str = "sandbox", origin: str | None = None,
                   target: str | None | object = KEEP, case_key: str | None | object = KEEP,
                   label: str = "edit", replace: bool = False) -> Draft:
        """Make ``case`` the draft's newest version (an undo step); later versions (redo) are
        dropped. ``origin``/``target``/``case_key`` default to the previous version's. Saving
        the same case, origin, target and case key again changes nothing. ``replace``: overwrite
        the current version instead (no new undo step; e.g. the editor's first normalised read)."""
        case_json = _json(case)
        with self.transaction() as s:
            d = s.scalar(select(DraftRow).where(DraftRow.workspace_id == self.id, DraftRow.slot == slot)
                         .with_for_update())
            if d is None:
                d = DraftRow(workspace_id=self.id, slot=slot, position=0, updated_at=utcnow())
                s.add(d)
                s.flush()
                cur = None
            else:
                cur = self._version(s, d.id, d.position)
            origin = origin if origin is not None else (cur.origin if cur else "")
            target = target if target is not KEEP else (cur.target if cur else None)
            case_key = case_key if case_key is not KEEP else (cur.case_key if cur else None)
            if cur is not None and ((cur.case_json, cur.origin, cur.target, cur.case_key)
                                    == (case_json, origin, target, case_key)):
                return self._draft(s, slot)
            if replace and cur is not None:
                cur.case_json, cur.origin, cur.target, cur.case_key = case_json, origin, target, case_key
                d.updated_at = utcnow()
                s.flush()
                return self._draft(s, slot)
            s.execute(delete(DraftVersionRow).where(DraftVersionRow.draft_id == d.id,
                                                    DraftVersionRow.seq > d.position))
            d.position += 1
            d.updated_at = utcnow()
            s.add(DraftVersionRow(draft_id=d.id, seq=d.position, case_json=case_json, origin=origin,
                                  target=target, case_key=case_key, label=label))
            s.execute(delete(DraftVersionRow).where(DraftVersionRow.draft_id == d.id,
                                                    DraftVersionRow.seq <= d.position - MAX_DRAFT_VERSIONS))
            s.flush()
            return self._draft(s, slot)

    def draft_base(self, slot: str = "sandbox") -> Draft | None:
        """The oldest kept version with the current version's ``case_key``: the case as it was
        loaded, before its edits (what "discard the changes" goes back to)."""
        with self.transaction() as s:
            found = self._same_case(s, slot)
            if found is None:
                return None
            d, same = found
            first = s.scalar(select(func.min(DraftVersionRow.seq)).where(DraftVersionRow.draft_id == d.id,
                                                                        DraftVersionRow.seq <= d.position, same))
            return self._draft(s, slot, first)

    def earlier_cases(self, slot: str = "sandbox", limit: int = 50) -> list[dict]:
        """The current case's versions before the current one, newest first (at most ``limit``):
        where the sandbox finds the last valid program after a reload with an invalid field."""
        with self.transaction() as s:
            found = self._same_case(s, slot)
            if found is None:
                return []
            d, same = found
            rows = s.scalars(select(DraftVersionRow.case_json)
                             .where(DraftVersionRow.draft_id == d.id, DraftVersionRow.seq < d.position, same)
                             .order_by(DraftVersionRow.seq.desc()).limit(limit)).all()
            return [json.loads(r) for r in rows]

    def _same_case(self, s: Session, slot: str):
        """The slot's draft row and a filter for its versions of the current version's case
        (``case_key``); None without a current version."""
        d = s.scalar(select(DraftRow).where(DraftRow.workspace_id == self.id, DraftRow.slot == slot))
        cur = None if d is None else self._version(s, d.id, d.position)
        if cur is None:
            return None
        return d, (DraftVersionRow.case_key.is_(None) if cur.case_key is None
                   else DraftVersionRow.case_key == cur.case_key)

    def undo_draft(self, slot: str = "sandbox") -> Draft | None:
        """Step back one version; None when there is nothing to undo."""
        return self._move(slot, -1)

    def redo_draft(self, slot: str = "sandbox") -> Draft | None:
        """Step forward one version; None when there is nothing to redo."""
        return self._move(slot, +1)

    def discard_draft(self, slot: str = "sandbox") -> bool:
        """Delete the draft and its undo history."""
        with self.transaction() as s:
            return s.execute(delete(DraftRow).where(DraftRow.workspace_id == self.id,
                                                    DraftRow.slot == slot)).rowcount > 0

    def _move(self, slot: str, step: int) -> Draft | None:
        with self.transaction() as s:
            d = s.scalar(select(DraftRow).where(DraftRow.workspace_id == self.id, DraftRow.slot == slot)
                         .with_for_update())
            if d is None or self._version(s, d.id, d.position + step) is None:
                return None
            d.position += step
            d.updated_at = utcnow()
            s.flush()
            return self._draft(s, slot)

    @staticmethod
    def _version(s: Session, draft_id: int, seq: int) -> DraftVersionRow | None:
        return s.scalar(select(DraftVersionRow).where(DraftVersionRow.draft_id == draft_id,
                                                      DraftVersionRow.seq == seq))

    def _draft(self, s: Session, slot: str, seq: int | None = None) -> Draft | None:
        d = s.scalar(select(DraftRow).where(DraftRow.workspace_id == self.id, DraftRow.slot == slot))
        if d is None:
            return None
        seq = d.position if seq is None else seq
        v = self._version(s, d.id, seq)
        if v is None:
            return None
        lo, hi = s.execute(select(func.min(DraftVersionRow.seq), func.max(DraftVersionRow.seq))
                           .where(DraftVersionRow.draft_id == d.id)).one()
        return Draft(slot=slot, case_json=v.case_json, origin=v.origin, target=v.target,
                     case_key=v.case_key, label=v.label,
                     position=seq - lo + 1, versions=hi - lo + 1, can_undo=seq > lo, can_redo=seq < hi)


def _upload(r: UploadRow) -> Upload:
    return Upload(r.id, r.name, r.digest, r.size_bytes, r.created_at)


def _sent(r: SentProgramRow) -> Sent:
    return Sent(r.id, r.pump_id, r.program_json, r.case_json, r.case_key, r.pump_time, r.sent_at, r.undone_at)
