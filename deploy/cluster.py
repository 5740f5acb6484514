"""A local cluster: PostgreSQL + N trainer app servers + nginx in front (the production layout).

    python deploy/cluster.py start --servers 2     # make cluster N=2
    python deploy/cluster.py status
    python deploy/cluster.py restart-server 1      # stop app server 1 and start it again
    python deploy/cluster.py stop                  # make cluster-stop: ends exactly what start started

Everything lives under ``--dir`` (default ``data/cluster``): the PostgreSQL data directory,
the rendered nginx configuration, logs, and ``state.json`` recording every process started
(its pid, port and command line). ``stop`` ends only those processes, checking each pid
still runs the command it recorded. Uses Debian's ``postgresql`` (initdb / pg_ctl; run as the
``postgres`` user when called as root) and ``nginx`` packages.

``render-compose`` writes deploy/compose/pump.conf from the same nginx template.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("pump-nginx.conf.tmpl")
COMPOSE_CONF = Path(__file__).parent / "compose" / "pump.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DATABASE = "pump"


# --------------------------------------------------------------------------- helpers

def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        sys.exit("PostgreSQL is not installed (apt-get install -y postgresql)")
    return found[-1]


def as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_healthy(url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 within {timeout_s:.0f} s")


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def alive_as(pid: int, cmd: list[str]) -> bool:
    """``pid`` still runs ``cmd`` (not a recycled pid). A script started through its shebang
    shows the interpreter first, so the recorded command must end the process's command line."""
    running = cmdline(pid)
    return bool(pid) and bool(cmd) and running[-len(cmd):] == cmd


def end(pid: int, cmd: list[str], send, first: int, then: int, wait_s: float = 10.0) -> None:
    """Send ``first`` to a process we started (only if ``pid`` still runs ``cmd``), wait for it to
    go, then ``then`` if it is still there."""
    if not alive_as(pid, cmd):
        return
    send(first)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not alive_as(pid, cmd):
            return
        time.sleep(0.1)
    send(then)


def render_nginx(servers: list[str], listen: str, extra: str = "") -> str:
    lines = "\n".join(f"    server {s} max_fails=1 fail_timeout=5s;" for s in servers)
    return TEMPLATE.read_text().replace("@SERVERS@", lines).replace("@LISTEN@", listen).replace("@EXTRA@", extra)


# --------------------------------------------------------------------------- state

class Cluster:
    def __init__(self, directory: Path):
        self.dir = directory.resolve()
        self.state_file = self.dir / "state.json"
        self.state: dict = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(self.state, indent=2))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.state['nginx']['port']}"

    # -- PostgreSQL --------------------------------------------------------------------------

    def start_postgres(self, port: int) -> str:
        pgdir = self.dir / "pg"
        data = pgdir / "data"
        pgdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(pgdir, "postgres")
        if not (data / "PG_VERSION").exists():
            subprocess.run(as_postgres([pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                        "--no-sync", "-E", "UTF8"]),
                           check=True, stdout=subprocess.DEVNULL)
        subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-l", str(pgdir / "server.log"), "-w",
                                    "-o", f"-p {port} -k {pgdir} -c listen_addresses=127.0.0.1 "
                                          f"-c max_connections=200", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.state["postgres"] = {"data": str(data), "port": port}
        self.save()
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        exists = subprocess.run([pg_bin("psql"), admin, "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{DATABASE}'"],
                                check=True, capture_output=True, text=True).stdout.strip()
        if not exists:
            subprocess.run([pg_bin("psql"), admin, "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
        return f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"

    def stop_postgres(self) -> None:
        pg = self.state.get("postgres")
        if pg and (Path(pg["data"]) / "postmaster.pid").exists():
            subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", pg["data"], "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL)
        self.state.pop("postgres", None)
        self.save()

    # -- app servers -------------------------------------------------------------------------

    def app_env(self) -> dict:
        env = dict(os.environ)
        env["PUMP_DATABASE_URL"] = self.state["database_url"]
        env["STREAMLIT_SERVER_COOKIE_SECRET"] = self.state["cookie_secret"]  # same XSRF cookies on every server
        return env

    def start_app(self, i: int, port: int) -> None:
        cmd = [str(Path(sys.executable).with_name("streamlit")), "run", str(ROOT / "dashboard.py"),
               "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
        log = open(self.dir / f"app-{i}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.app_env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.state.setdefault("apps", {})[str(i)] = {"pid": proc.pid, "port": port, "cmd": cmd}
        self.save()

    def wait_app(self, i: int) -> None:
        wait_healthy(f"http://127.0.0.1:{self.state['apps'][str(i)]['port']}/_stcore/health")

    def stop_app(self, i: int) -> None:
        app = self.state.get("apps", {}).get(str(i))
        if not app:
            return
        end(app["pid"], app["cmd"], lambda sig: os.killpg(app["pid"], sig), signal.SIGTERM, signal.SIGKILL)
        app["pid"] = 0
        self.save()

    # -- nginx -------------------------------------------------------------------------------

    def start_nginx(self, port: int) -> None:
        ng = self.dir / "nginx"
        for sub in ("logs", "tmp"):
            (ng / sub).mkdir(parents=True, exist_ok=True)
        servers = [f"127.0.0.1:{a['port']}" for _, a in sorted(self.state["apps"].items())]
        http = render_nginx(servers, f"127.0.0.1:{port}",
                            extra="        add_header X-Pump-Upstream $upstream_addr always;  # local only: tests")
        conf = ng / "nginx.conf"
        conf.write_text(f"""# generated by deploy/cluster.py from {TEMPLATE.name}
worker_processes 1;
pid {ng}/nginx.pid;
error_log {ng}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {ng}/logs/access.log;
    client_body_temp_path {ng}/tmp/body;
    proxy_temp_path {ng}/tmp/proxy;
    fastcgi_temp_path {ng}/tmp/fastcgi;
    uwsgi_temp_path {ng}/tmp/uwsgi;
    scgi_temp_path {ng}/tmp/scgi;
{http}
}}
""")
        subprocess.run([NGINX, "-t", "-q", "-p", str(ng), "-c", str(conf)], check=True)
        subprocess.run([NGINX, "-p", str(ng), "-c", str(conf)], check=True)
        pid = int((ng / "nginx.pid").read_text())
        self.state["nginx"] = {"pid": pid, "port": port, "conf": str(conf), "cmd": cmdline(pid)}
        self.save()

    def stop_nginx(self) -> None:
        ng = self.state.get("nginx")
        if ng:  # SIGQUIT: graceful, the master ends its workers
            end(ng["pid"], ng["cmd"], lambda sig: os.kill(ng["pid"], sig), signal.SIGQUIT, signal.SIGTERM)
        self.state.pop("nginx", None)
        self.save()


# --------------------------------------------------------------------------- commands

def migrate(database_url: str) -> None:
    if not (ROOT / "pumpmodel" / "store" / "__main__.py").exists():
        print("no workspace store in this tree (pumpmodel/store): no migrations to run")
        return
    env = dict(os.environ, PUMP_DATABASE_URL=database_url)
    subprocess.run([sys.executable, "-m", "pumpmodel.store", "upgrade"], cwd=ROOT, env=env, check=True)


def start(c: Cluster, servers: int, port: int, app_port: int, pg_port: int) -> None:
    if c.state.get("apps") or c.state.get("nginx") or c.state.get("postgres"):
        sys.exit(f"a cluster is already recorded in {c.state_file}: run `stop` first")
    ports = [port, pg_port] + [app_port + i for i in range(servers)]
    busy = [p for p in ports if not port_free(p)]
    if busy:
        sys.exit(f"port(s) {busy} are in use: pick others (--port, --app-port, --pg-port)")
    c.dir.mkdir(parents=True, exist_ok=True)
    c.state = {"servers": servers, "cookie_secret": secrets.token_urlsafe(32)}
    try:
        t = time.perf_counter()
        c.state["database_url"] = c.start_postgres(pg_port)
        c.save()
        migrate(c.state["database_url"])
        for i in range(1, servers + 1):
            c.start_app(i, app_port + i - 1)
        for i in range(1, servers + 1):
            c.wait_app(i)
        c.start_nginx(port)
        wait_healthy(c.url + "/healthz")
    except BaseException:
        stop(c)
        raise
    print(f"cluster up in {time.perf_counter() - t:.1f} s: {c.url}  ({servers} app servers on ports "
          f"{app_port}-{app_port + servers - 1}, PostgreSQL on {pg_port}; state in {c.state_file})")


def stop(c: Cluster) -> None:
    c.stop_nginx()
    for i in sorted(c.state.get("apps", {}), key=int):
        c.stop_app(int(i))
    c.state.pop("apps", None)
    c.stop_postgres()
    c.state_file.unlink(missing_ok=True)
    print("cluster stopped")


def restart_server(c: Cluster, i: int, down_s: float = 0.0) -> None:
    app = c.state["apps"][str(i)]
    c.stop_app(i)
    time.sleep(down_s)
    c.start_app(i, app["port"])
    c.wait_app(i)


def status(c: Cluster) -> int:
    if not c.state:
        print("no cluster recorded")
        return 1
    for i, a in sorted(c.state.get("apps", {}).items()):
        print(f"app {i}: pid {a['pid']} port {a['port']} {'up' if alive_as(a['pid'], a['cmd']) else 'DOWN'}")
    ng = c.state.get("nginx")
    if ng:
        print(f"nginx: pid {ng['pid']} {c.url} {'up' if alive_as(ng['pid'], ng['cmd']) else 'DOWN'}")
    print(f"postgres: {c.state.get('database_url')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=str(ROOT / "data" / "cluster"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--servers", type=int, default=2)
    s.add_argument("--port", type=int, default=8500, help="nginx (what users open)")
    s.add_argument("--app-port", type=int, default=8601, help="first app server; the others follow")
    s.add_argument("--pg-port", type=int, default=5544)
    sub.add_parser("stop")
    sub.add_parser("status")
    r = sub.add_parser("restart-server")
    r.add_argument("index", type=int)
    sub.add_parser("render-compose")
    args = ap.parse_args(argv)
    c = Cluster(Path(args.dir))
    if args.cmd == "start":
        start(c, args.servers, args.port, args.app_port, args.pg_port)
    elif args.cmd == "stop":
        stop(c)
    elif args.cmd == "status":
        return status(c)
    elif args.cmd == "restart-server":
        restart_server(c, args.index)
    elif args.cmd == "render-compose":
        COMPOSE_CONF.parent.mkdir(exist_ok=True)
        COMPOSE_CONF.write_text("# generated by `python deploy/cluster.py render-compose`: edit pump-nginx.conf.tmpl\n"
                                + render_nginx(["app1:8501", "app2:8501"], "80"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
