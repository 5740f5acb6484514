"""Server CPU per script run, before and after a change, measured in the same run.

    .venv/bin/python bench/cpu_per_run.py [--before main] [--rounds 40]

Starts two app servers: this tree ("after") and ``--before`` (a git revision, exported with
``git archive`` into a temporary folder; default ``main``). One protocol-level client
(``bench/stclient.py``) drives both alternately, one action at a time: load the pump
overview (a page switch), open the sandbox, edit the reservoir volume. The CPU each server
process spends (utime + stime from /proc) is divided by the number of script runs, per
action; medians over ``--rounds`` rounds. CPU time, unlike latency, hardly depends on the
other load on the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from load import EDIT_KEY, proc_cpu_s  # noqa: E402
from pages import serve  # noqa: E402
from stclient import Session  # noqa: E402


def export(ref: str, dest: Path) -> Path:
    data = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


async def measure(urls: dict[str, str], pids: dict[str, int], rounds: int) -> dict[str, dict[str, list[float]]]:
    sessions = {}
    for name, url in urls.items():
        s = Session(url)
        await s.connect()
        await s.open_page("")
        await s.open_page("sandbox")
        sessions[name] = (s, s.widget(EDIT_KEY, "number_input"))
    out = {n: {"overview": [], "sandbox": [], "edit": []} for n in urls}
    for i in range(rounds):
        for name, (s, _) in sessions.items():
            for action in ("overview", "sandbox", "edit", "edit", "edit"):
                c0 = proc_cpu_s([pids[name]])
                if action == "edit":
                    r = await s.set_widget(s.widget(EDIT_KEY, "number_input"), 6.0 + (i * 7 + len(out[name]["edit"])) % 13)
                else:
                    r = await s.open_page("" if action == "overview" else "sandbox")
                await asyncio.sleep(0.05)  # let the server finish sending before reading its CPU time
                assert not r.exceptions, r.exceptions
                out[name][action].append(proc_cpu_s([pids[name]]) - c0)
    for s, _ in sessions.values():
        await s.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="main")
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pump-cpu-"))
    procs = []
    try:
        before = export(args.before, tmp / "before")
        env = dict(os.environ, PUMP_DATABASE_URL=f"sqlite:///{tmp}/ws.sqlite")
        urls, pids = {}, {}
        for name, tree in (("before", before), ("after", ROOT)):
            p, url = serve(str(tree / "dashboard.py"), cwd=tree, env=env)
            procs.append(p)
            urls[name], pids[name] = url, p.pid
        out = asyncio.run(measure(urls, pids, args.rounds))
        print(f"server CPU per script run, mean over {args.rounds} rounds (before = {args.before}, after = this tree); "
              f"clock tick {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms, so single actions are rounded to ticks, means are not:")
        for action in ("overview", "sandbox", "edit"):
            b = statistics.mean(out["before"][action]) * 1000
            a = statistics.mean(out["after"][action]) * 1000
            print(f"  {action:9s} before {b:6.1f} ms   after {a:6.1f} ms   ({a / b:.2f}x)")
        b = statistics.mean(x for v in out["before"].values() for x in v) * 1000
        a = statistics.mean(x for v in out["after"].values() for x in v) * 1000
        print(f"  all runs  before {b:6.1f} ms   after {a:6.1f} ms   ({a / b:.2f}x)")
    finally:
        for p in procs:
            os.killpg(p.pid, 15)
            p.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
