"""Load bench: simulated trainees against one app server and against the cluster, same run.

    .venv/bin/python bench/load.py                 # starts its own cluster (temp dir, free ports)
    .venv/bin/python bench/load.py --steps 20,40 --step-s 20 --servers 2

Each simulated trainee is a protocol-level client (``bench/stclient.py``: WebSocket + Streamlit's
protobuf messages, no browser): it opens a session and loads the pump overview, thinks, opens the
programming sandbox, edits the reservoir volume three times, goes back to the overview, and so on,
thinking (uniform 0.5-1.5 x ``--think-s``) before every action. Loopback only; every step is
bounded in time.

The same cluster (``deploy/cluster.py``: PostgreSQL, N app servers, nginx) serves both targets:
first app server 1 directly (the others idle), then nginx in front of all N. For each number of
concurrent sessions it prints actions/s, p50/p95 per action, errors, the servers' CPU per
script run (from /proc) and the CPU of nginx and of this client (they share the cores). The
capacity of a target is the highest actions/s of a step whose p95 stays within ``--slo-s``; the cluster/one-server ratio is what scaling out buys (target >= 1.6x
with 2 servers on 2 cores).

Then the restart check: ``--restart-sessions`` trainees work through nginx, app server 1 stops;
its trainees' connections drop, they reconnect (nginx sends them to another server) and must find
their workspace as they left it (the reservoir volume they typed last, and the rest of the
address's state: ``?ws=`` names the workspace in PostgreSQL); then server 1 starts again.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "deploy"))

import cluster as cl  # noqa: E402
from stclient import ProtocolError, Session  # noqa: E402

EDIT_KEY = r"^sbx\d*_reservoir$"   # the sandbox's reservoir volume input (user key of the widget)
ACTIONS = ("overview", "sandbox", "edit")
EDITS_PER_VISIT = 3
TARGET_RATIO = 1.6


@dataclass
class Step:
    target: str
    sessions: int
    seconds: float
    lat: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})
    errors: dict[str, int] = field(default_factory=lambda: {a: 0 for a in ACTIONS})
    error_samples: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    other_cpu_s: dict[str, float] = field(default_factory=dict)  # nginx, this client
    runs: int = 0

    @property
    def done(self) -> int:
        return sum(len(v) for v in self.lat.values())

    def rate(self) -> float:
        return self.done / self.seconds

    def pct(self, q: float, action: str | None = None) -> float:
        xs = sorted(self.lat[action] if action else [x for v in self.lat.values() for x in v])
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(q * len(xs)))]


def proc_cpu_s(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])  # utime + stime
        except (OSError, IndexError):
            pass
    return total / tick


async def trainee(url: str, step: Step, t_start: float, t_end: float, think_s: float, rng: random.Random) -> None:
    """One simulated trainee, until ``t_end``; actions finishing inside [t_start, t_end] count."""
    def record(action: str, seconds: float, exceptions: list[str]) -> None:
        now = time.monotonic()
        if not (t_start <= now <= t_end):
            return
        if exceptions:
            step.errors[action] += 1
            step.error_samples.append(f"{action}: {exceptions[0][:160]}")
        else:
            step.lat[action].append(seconds)
        step.runs += 1

    async def think():
        await asyncio.sleep(min(think_s * rng.uniform(0.5, 1.5), max(0.0, t_end - time.monotonic())))

    s = Session(url)
    action = "overview"
    try:
        t = time.perf_counter()
        await s.connect()
        r = await s.open_page("")
        record("overview", time.perf_counter() - t, r.exceptions)
        while time.monotonic() < t_end:  # a cycle: sandbox, EDITS_PER_VISIT edits, back to the overview
            await think()
            action = "sandbox"
            r = await s.open_page("sandbox")
            record("sandbox", r.seconds, r.exceptions)
            widget = s.widget(EDIT_KEY, "number_input")
            action = "edit"
            for _ in range(EDITS_PER_VISIT):
                await think()
                if time.monotonic() >= t_end:
                    return
                r = await s.set_widget(widget, round(rng.uniform(5.0, 19.0), 2))
                record("edit", r.seconds, r.exceptions)
            await think()
            action = "overview"
            r = await s.open_page("")
            record("overview", r.seconds, r.exceptions)
    except (ProtocolError, OSError, asyncio.TimeoutError) as exc:
        if time.monotonic() <= t_end:
            step.errors[action] += 1
            step.error_samples.append(f"{action}: {type(exc).__name__}: {exc}"[:200])
    finally:
        await s.close()


def client_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


async def run_step(target: str, url: str, pids: list[int], sessions: int, seconds: float, warm_s: float,
                   think_s: float, seed: int, nginx_pids: list[int]) -> Step:
    ramp_s = min(warm_s, 5.0)
    t0 = time.monotonic()
    t_start, t_end = t0 + warm_s, t0 + warm_s + seconds
    step = Step(target, sessions, seconds)
    cpu0 = None
    others = {"nginx": lambda: proc_cpu_s(nginx_pids), "client": client_cpu_s}
    others0: dict[str, float] = {}

    async def start_cpu():
        nonlocal cpu0
        await asyncio.sleep(max(0.0, t_start - time.monotonic()))
        cpu0 = proc_cpu_s(pids)
        others0.update({k: f() for k, f in others.items()})

    async def staggered(i: int):
        await asyncio.sleep(ramp_s * i / sessions)
        await trainee(url, step, t_start, t_end, think_s, random.Random(seed * 1000 + i))

    cpu_task = asyncio.create_task(start_cpu())
    tasks = [asyncio.create_task(staggered(i)) for i in range(sessions)]
    await asyncio.sleep(max(0.0, t_end - time.monotonic()))
    step.cpu_s = proc_cpu_s(pids) - (cpu0 if cpu0 is not None else proc_cpu_s(pids))
    step.other_cpu_s = {k: f() - others0.get(k, f()) for k, f in others.items()}
    await cpu_task
    # sessions still waiting for an answer get a bounded grace period, then are cancelled
    done, pending = await asyncio.wait(tasks, timeout=30)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return step


def show(step: Step) -> None:
    per = "  ".join(f"{a} {step.pct(0.5, a) * 1000:5.0f}/{step.pct(0.95, a) * 1000:5.0f}" for a in ACTIONS)
    errs = sum(step.errors.values())
    cpu_run = step.cpu_s / step.runs * 1000 if step.runs else float("nan")
    print(f"  {step.target:10s} {step.sessions:4d} sessions  {step.rate():6.1f} actions/s   p50/p95 ms: {per}   "
          f"all {step.pct(0.5) * 1000:5.0f}/{step.pct(0.95) * 1000:5.0f}   errors {errs}   "
          f"server CPU {step.cpu_s / step.seconds:4.2f} cores, {cpu_run:4.1f} ms/run   " +
          ", ".join(f"{k} {v / step.seconds:4.2f}" for k, v in step.other_cpu_s.items()), flush=True)
    for e in step.error_samples[:3]:
        print(f"      {e}")


def capacity(steps: list[Step], slo_s: float) -> Step | None:
    ok = [s for s in steps if s.pct(0.95) <= slo_s and not sum(s.errors.values())]
    return max(ok, key=Step.rate) if ok else None


async def restart_check(c: cl.Cluster, sessions: int) -> tuple[int, int, int, list[str]]:
    """Trainees through nginx type a value; app server 1 stops; those on it reconnect the way the
    browser does (same cookie, same address) and must be shown what they typed. Returns
    (sessions, sessions that were on server 1, sessions that lost their workspace, problems)."""
    rng = random.Random(7)
    people: list[Session] = []
    typed: list[float] = []
    for _ in range(sessions):
        s = Session(c.url)
        await s.connect()
        await s.open_page("")
        await s.open_page("sandbox")
        v = round(rng.uniform(5.0, 19.0), 2)
        await s.set_widget(s.widget(EDIT_KEY, "number_input"), v)
        people.append(s)
        typed.append(v)
    server1 = f"127.0.0.1:{c.state['apps']['1']['port']}"
    on1 = sum(s.upstream == server1 for s in people)
    await asyncio.to_thread(c.stop_app, 1)
    lost, problems = 0, []
    try:
        for s, v in zip(people, typed):
            address = s.query_string
            try:
                try:  # the old connection: alive on server 2, dropped on server 1
                    await s.open_page("sandbox")
                    here = s
                except ProtocolError:
                    here = Session(c.url, query_string=address)
                    here.cookies = dict(s.cookies)  # the same browser: the same affinity cookie
                    await here.connect("sandbox")
                    await here.open_page("sandbox")
                    assert here.upstream != server1, "nginx sent the reconnect to the stopped server"
                got = here.widget(EDIT_KEY, "number_input").value
                if got is None or abs(float(got) - v) > 1e-6:
                    lost += 1
                    problems.append(f"typed {v}, found {got}")
                if here is not s:
                    await here.close()
            except (ProtocolError, OSError, asyncio.TimeoutError, AssertionError) as exc:
                lost += 1
                problems.append(f"{type(exc).__name__}: {exc}")
            finally:
                await s.close()
    finally:
        await asyncio.to_thread(c.start_app, 1, c.state["apps"]["1"]["port"])
        await asyncio.to_thread(c.wait_app, 1)
    return sessions, on1, lost, problems


def children(pid: int) -> list[int]:
    """``pid`` and its direct children (nginx: the master and its workers)."""
    out = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return out


async def main_async(args) -> int:
    steps = [int(x) for x in args.steps.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="pump-load-", dir=args.tmp))
    tmp.chmod(0o755)  # PostgreSQL runs as the `postgres` user when we are root
    c = cl.Cluster(tmp / "cluster")
    ports = [cl.free_port() for _ in range(2)]
    app_port = cl.free_port()
    while not all(cl.port_free(app_port + i) for i in range(args.servers)):
        app_port = cl.free_port()
    cl.start(c, args.servers, ports[0], app_port, ports[1])
    try:
        apps = c.state["apps"]
        one_url = f"http://127.0.0.1:{apps['1']['port']}"
        print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; think time {args.think_s} s "
              f"(x0.5-1.5); steps of {args.step_s:.0f} s after {args.warm_s:.0f} s warm-up; SLO p95 <= {args.slo_s} s")
        # warm both servers' caches (story telemetry) so neither target pays a cold start
        for a in apps.values():
            s = Session(f"http://127.0.0.1:{a['port']}")
            await s.connect()
            await s.open_page("")
            await s.open_page("sandbox")
            await s.close()
        results: dict[str, list[Step]] = {}
        for target, url, pids in (("one", one_url, [apps["1"]["pid"]]),
                                  (f"cluster-{args.servers}", c.url, [a["pid"] for a in apps.values()])):
            print(f"\n{target}: {url}")
            results[target] = []
            for n in steps:
                st = await run_step(target, url, pids, n, args.step_s, args.warm_s, args.think_s, seed=n,
                                    nginx_pids=children(c.state["nginx"]["pid"]))
                show(st)
                results[target].append(st)
        one, many = (capacity(v, args.slo_s) for v in results.values())
        print()
        if one and many:
            ratio = many.rate() / one.rate()
            print(f"capacity at p95 <= {args.slo_s} s: one server {one.rate():.1f} actions/s ({one.sessions} sessions, "
                  f"p95 {one.pct(0.95) * 1000:.0f} ms); cluster of {args.servers} {many.rate():.1f} actions/s "
                  f"({many.sessions} sessions, p95 {many.pct(0.95) * 1000:.0f} ms): {ratio:.2f}x   "
                  f"target >= {TARGET_RATIO}x: {'OK' if ratio >= TARGET_RATIO else 'MISSED'}")
            per_run = one.cpu_s / one.runs * 1000 if one.runs else float("nan")
            print(f"one server: {per_run:.1f} ms of CPU per script run -> about {1000 / per_run:.0f} runs/s per core "
                  f"at full use")
        else:
            print("no step met the SLO for one of the targets: lower --steps or raise --slo-s")
        if args.restart_sessions:
            n, on1, lost, problems = await restart_check(c, args.restart_sessions)
            print(f"\nrestart check: {n} sessions through nginx, {on1} of them on app server 1, which stopped (they "
                  f"reconnected to another server) and started again: {lost} lost their workspace   "
                  f"target 0: {'OK' if lost == 0 else 'MISSED'}")
            for p in problems[:5]:
                print("   " + p)
    finally:
        cl.stop(c)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", type=int, default=2)
    ap.add_argument("--steps", default="10,20,40,60,80,120", help="concurrent sessions per step")
    ap.add_argument("--step-s", type=float, default=25.0)
    ap.add_argument("--warm-s", type=float, default=8.0)
    ap.add_argument("--think-s", type=float, default=2.0)
    ap.add_argument("--slo-s", type=float, default=1.0)
    ap.add_argument("--restart-sessions", type=int, default=10)
    ap.add_argument("--tmp", default=None, help="where the cluster's temporary directory goes")
    return asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
