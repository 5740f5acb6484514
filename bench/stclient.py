"""A protocol-level Streamlit client (no browser) for the load bench and the cluster test.

It speaks what the browser speaks: an HTTP GET of the page (so a load balancer can set its
affinity cookie), then the WebSocket ``/_stcore/stream`` carrying Streamlit's protobuf
``BackMsg`` (client -> server: rerun requests with widget states) and ``ForwardMsg``
(server -> client: deltas, navigation, page info, script finished). Like the browser it
remembers the hashes of cacheable messages and sends them back, so the server answers with
references instead of re-sending large elements; and it keeps the address's query string
(``?pump=``, ``?case=``, ``?ws=``) so a reconnect to another server restores the same state.

Only the standard library, ``websockets`` (a Streamlit dependency) and ``streamlit.proto``.
"""
from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

TERMINAL = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
            ForwardMsg.FINISHED_WITH_COMPILE_ERROR}


class ProtocolError(Exception):
    """The server closed the connection, timed out or sent something unexpected."""


@dataclass
class Widget:
    id: str
    kind: str          # element type, e.g. "number_input"
    fragment_id: str
    value: float | str | None = None


@dataclass
class RunResult:
    seconds: float
    status: int
    exceptions: list[str] = field(default_factory=list)
    elements: int = 0


class Session:
    """One browser tab's worth of Streamlit session over one WebSocket (reconnects on demand)."""

    def __init__(self, base_url: str, query_string: str = "", timeout_s: float = 60.0):
        self.base = base_url.rstrip("/")
        self.query_string = query_string
        self.timeout_s = timeout_s
        self.cookies: dict[str, str] = {}
        self.pages: dict[str, str] = {}      # url path ("" for the default page) -> page_script_hash
        self.page_hash = ""
        self.widgets: dict[str, Widget] = {}
        self.session_id = ""
        self.upstream = ""                   # the app server nginx chose (X-Pump-Upstream, local cluster only)
        self._cache: dict[str, bytes] = {}   # hash -> serialized cacheable ForwardMsg
        self._ws = None

    # -- connection --------------------------------------------------------------------------

    def _get_page(self, path: str) -> None:
        """What the browser does first: GET the page (nginx sets its affinity cookie here)."""
        url = f"{self.base}/{path}" + (f"?{self.query_string}" if self.query_string else "")
        req = urllib.request.Request(url, headers=self._cookie_header())
        with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
            r.read()
            self.upstream = r.headers.get("X-Pump-Upstream", "")
            for h in r.headers.get_all("Set-Cookie") or []:
                c = SimpleCookie()
                c.load(h)
                self.cookies.update({k: m.value for k, m in c.items()})

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def connect(self, path: str = "") -> None:
        await asyncio.to_thread(self._get_page, path)
        ws_url = re.sub(r"^http", "ws", self.base) + "/_stcore/stream"
        self._ws = await asyncio.wait_for(websockets.connect(
            ws_url, subprotocols=["streamlit", "PLACEHOLDER_AUTH_TOKEN"], max_size=None,
            additional_headers=self._cookie_header(), open_timeout=self.timeout_s, ping_interval=None),
            self.timeout_s)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    # -- script runs ---------------------------------------------------------------------------

    async def open_page(self, path: str = "") -> RunResult:
        """Show a page (its url path, "" for the default page) as a click in the navigation does."""
        page_hash = self.pages.get(path)
        return await self._rerun(page_name=path if page_hash is None else "", page_hash=page_hash or "")

    async def set_widget(self, widget: Widget, value) -> RunResult:
        """Change one widget, as the browser does (a fragment's widget reruns only the fragment)."""
        widget.value = value
        return await self._rerun(page_hash=self.page_hash, widget=widget, fragment_id=widget.fragment_id)

    async def _rerun(self, page_name: str = "", page_hash: str = "", widget: Widget | None = None,
                     fragment_id: str = "") -> RunResult:
        if self._ws is None:
            raise ProtocolError("not connected")
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_name = page_name
        cs.page_script_hash = page_hash
        cs.fragment_id = fragment_id
        cs.cached_message_hashes.extend(self._cache)
        if widget is not None:
            w = cs.widget_states.widgets.add()
            w.id = widget.id
            if isinstance(widget.value, str):
                w.string_value = widget.value
            else:
                w.double_value = float(widget.value)
        t = time.perf_counter()
        try:
            await self._ws.send(msg.SerializeToString())
        except websockets.ConnectionClosed as exc:
            raise ProtocolError(f"connection closed: {exc}") from exc
        res = await asyncio.wait_for(self._until_finished(), self.timeout_s)
        res.seconds = time.perf_counter() - t
        return res

    async def _until_finished(self) -> RunResult:
        res = RunResult(0.0, -1)
        while True:
            try:
                data = await self._ws.recv()
            except websockets.ConnectionClosed as exc:
                raise ProtocolError(f"connection closed: {exc}") from exc
            m = ForwardMsg()
            m.ParseFromString(data)
            kind = m.WhichOneof("type")
            if kind == "ref_hash":
                cached = self._cache.get(m.ref_hash)
                if cached is None:
                    raise ProtocolError("reference to a message this client never received")
                m = ForwardMsg()
                m.ParseFromString(cached)
                kind = m.WhichOneof("type")
            elif m.metadata.cacheable and m.hash:
                self._cache[m.hash] = data
            if kind == "delta":
                self._delta(m, res)
            elif kind == "new_session":
                self.session_id = m.new_session.initialize.session_id or self.session_id
                self.page_hash = m.new_session.page_script_hash
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in m.navigation.app_pages}
                self.page_hash = m.navigation.page_script_hash or self.page_hash
            elif kind == "page_info_changed":
                self.query_string = m.page_info_changed.query_string
            elif kind == "script_finished":
                res.status = m.script_finished
                if m.script_finished in TERMINAL:
                    return res

    def _delta(self, m: ForwardMsg, res: RunResult) -> None:
        d = m.delta
        if d.WhichOneof("type") != "new_element":
            return
        res.elements += 1
        el = d.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            res.exceptions.append(f"{el.exception.type}: {el.exception.message}")
            return
        sub = getattr(el, kind, None)
        wid = getattr(sub, "id", "") if sub is not None else ""
        if wid.startswith("$$ID"):
            value = getattr(sub, "value", None) if getattr(sub, "set_value", False) else getattr(sub, "default", None)
            old = self.widgets.get(wid)
            self.widgets[wid] = Widget(wid, kind, d.fragment_id,
                                       old.value if old is not None and old.value is not None else value)

    def widget(self, key_pattern: str, kind: str | None = None) -> Widget:
        """The widget whose user key matches ``key_pattern`` (a regular expression, searched)."""
        found = [w for w in self.widgets.values()
                 if re.search(key_pattern, w.id.split("-", 2)[-1]) and (kind is None or w.kind == kind)]
        if not found:
            raise ProtocolError(f"no widget matching {key_pattern!r} on the page "
                                f"({len(self.widgets)} widgets seen)")
        return found[-1]
