"""One command for a class: k Streamlit replicas of the app behind nginx with sticky sessions.

    python deploy/serve.py --replicas 2 --port 8080

One Streamlit process runs every session's Python under one GIL, so beyond a few dozen visitors the
app needs several processes. This starts k `streamlit run app.py` replicas on their own loopback
ports and Debian's nginx in front of them on --host:--port (127.0.0.1 by default), with:

- sticky sessions by a proxy cookie (st_route), never by client IP: a class behind one NAT address
  still spreads over the replicas, and a session's websocket, uploads and downloads reach the same
  replica (deploy/nginx.conf.template says how, and why not `hash ... consistent`);
- one shared cookie secret (STREAMLIT_SERVER_COOKIE_SECRET if set, else a new random one per start)
  so that signed cookies verify on every replica;
- failover: a replica that dies has its sessions moved by nginx to a live one (the browser
  reconnects by itself and the page re-runs from its URL); the dead replica is restarted after 1 s
  (--no-restart to leave it down), at most 5 times in 5 minutes;
- a warm start: while the replicas start, deploy/warm.py trains what a first visit to the Edge of
  Stability page computes into their shared run store, then visits every page once on each replica
  (the app's imports and chart structures); the proxy opens after it and after each replica's own
  warm-up thread has ended (ui/runtime.py; --no-warm skips both);
- everything in one log directory (replica-<i>.log, nginx-access.log, nginx-error.log, serve.log and
  serve.json: the ports and process ids), all processes stopped together on Ctrl-C or SIGTERM (and
  by the kernel if this process is killed outright).

nginx runs as a foreground child with its configuration, pid file and temporary files in a private
temporary directory: it needs no root and touches nothing of a system nginx. Standard library only.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"
RUN_DIR_ENV = "EOS_RUN_DIR"  # ui/eos_runs.RUN_DIR_ENV (serve.py does not import the app)
WARM_DONE = "warm-up done"  # ui/runtime.WARM_DONE: what a replica logs when its own warm-up has ended
ROUTE_COOKIE = "st_route"
MAX_REPLICAS = 16
WARM_TIMEOUT = 180.0  # seconds for deploy/warm.py; past them the proxy opens anyway (the page trains on demand)
START_TIMEOUT = 180.0  # seconds for every replica to answer /_stcore/health (a busy 2-core machine is slow)
STOP_TIMEOUT = 10.0  # seconds for the children to exit after SIGTERM, then SIGKILL
RESTART_DELAY = 1.0
RESTART_LIMIT = (5, 300.0)  # at most 5 restarts of one replica within 300 s, then it stays down
FAIL_TIMEOUT = "5s"  # how long nginx skips a replica after a refused connection


class Stop(Exception):
    """Ctrl-C, SIGTERM or SIGHUP: stop everything."""


@dataclass
class Replica:
    name: str  # also the value of the route cookie that points at it
    port: int
    log: Path
    proc: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)
    restart_at: float | None = None
    log_start: int = 0  # the log's size when this start began: a line before it is an earlier start's


def find_nginx() -> str | None:
    # /usr/sbin is not on a normal user's PATH on Debian.
    found = [p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()]
    return shutil.which("nginx") or (found[0] if found else None)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replica_ports(port: int, replicas: int, base: int | None) -> list[int]:
    """--replica-base-port, …; else port + 1, …, port + k when all are free; else free ephemeral ports."""
    if base is not None:
        return [base + i for i in range(replicas)]
    wanted = [port + 1 + i for i in range(replicas)]
    if all(p < 65536 and port_free(p) for p in wanted):
        return wanted
    return [free_port() for _ in range(replicas)]


def render(listen: str, runtime: Path, log_dir: Path, replicas: list[Replica]) -> str:
    """nginx.conf for these replicas: one upstream per replica (the others as its backups) and one balanced pool."""
    servers = {r.name: f"127.0.0.1:{r.port}" for r in replicas}
    opts = f"max_fails=1 fail_timeout={FAIL_TIMEOUT}"
    upstreams = ["    upstream st_any {"]
    upstreams += [f"        server {addr} {opts};" for addr in servers.values()]
    upstreams.append("    }")
    for name, addr in servers.items():
        upstreams += [f"    upstream st_{name} {{", f"        server {addr} {opts};"]
        upstreams += [f"        server {other} {opts} backup;" for n, other in servers.items() if n != name]
        upstreams.append("    }")
    fill = {
        "LISTEN": listen,
        "RUNTIME": str(runtime),
        "LOG_DIR": str(log_dir),
        "TRIES": str(len(replicas)),
        "POOL_MAP": "\n".join(f"        {name} st_{name};" for name in servers),
        # $upstream_addr lists every address tried, the one that answered last; ports are unique on loopback.
        "SERVED_MAP": "\n".join(f"        ~:{r.port}$ {r.name};" for r in replicas),
        "UPSTREAMS": "\n".join(upstreams),
    }
    text = TEMPLATE.read_text()
    for key, value in fill.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise RuntimeError("nginx.conf.template has a placeholder serve.py does not fill")
    return text


def _die_with_parent() -> None:
    """In the child: SIGTERM when serve.py dies, even by SIGKILL (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: Ctrl-C and SIGTERM still stop everything
        pass


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as response:
            return response.read() == b"ok"
    except OSError:
        return False


def warmed(r: Replica) -> bool:
    """This start of the replica has logged the end of its own warm-up."""
    with open(r.log, "rb") as log:
        log.seek(r.log_start)
        return WARM_DONE.encode() in log.read()


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Cluster:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.app = Path(args.app).resolve()
        self.log_dir = Path(args.log_dir).resolve()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.secret = os.environ.get(COOKIE_SECRET_ENV) or secrets.token_urlsafe(32)
        self.secret_source = "from the environment" if os.environ.get(COOKIE_SECRET_ENV) else "generated for this start"
        ports = replica_ports(args.port, args.replicas, args.replica_base_port)
        self.replicas = [Replica(f"r{i}", p, self.log_dir / f"replica-{i}.log") for i, p in enumerate(ports)]
        self.runtime = Path(tempfile.mkdtemp(prefix="eos-serve-"))
        # nginx's workers drop root (user nobody) and must reach their temporary directories in here.
        self.runtime.chmod(0o755)
        self.nginx: subprocess.Popen | None = None
        self.warm: subprocess.Popen | None = None
        self.stopping = False
        self.ready = False  # every replica healthy and nginx answering
        host = args.host
        self.listen = f"[{host}]:{args.port}" if ":" in host else f"{host}:{args.port}"
        local = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}  # where this machine reaches an all-interfaces proxy
        self.url = f"http://{local[host]}:{args.port}" if host in local else f"http://{self.listen}"

    # -- output

    def say(self, text: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {text}"
        print(line, flush=True)
        with open(self.log_dir / "serve.log", "a") as f:
            f.write(line + "\n")

    def write_state(self) -> None:
        state = {
            "url": self.url,
            "pid": os.getpid(),
            "cookie": ROUTE_COOKIE,
            "nginx": {"pid": self.nginx.pid if self.nginx else None, "listen": self.listen},
            "replicas": [
                {"name": r.name, "port": r.port, "pid": r.proc.pid if r.proc else None, "log": str(r.log)}
                for r in self.replicas
            ],
            "log_dir": str(self.log_dir),
            "ready": self.ready,
        }
        tmp = self.log_dir / "serve.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, self.log_dir / "serve.json")

    # -- processes

    def start_replica(self, r: Replica) -> None:
        with open(r.log, "ab") as log:
            r.log_start = log.tell()
            log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} replica {r.name} on port {r.port}\n".encode())
            log.flush()
            r.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    str(self.app),
                    "--server.headless=true",
                    "--server.address=127.0.0.1",
                    f"--server.port={r.port}",
                    "--browser.gatherUsageStats=false",
                    # A served app does not reload: an edit on disk must not unload modules under the visitors.
                    "--server.fileWatcherType=none",
                ],
                cwd=self.app.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # One directory of finished EoS runs for all replicas (ui/eos_runs.RunStore): a link trains
                # once between them, and a replica that dies takes no finished run with it.
                env={
                    **os.environ,
                    COOKIE_SECRET_ENV: self.secret,
                    RUN_DIR_ENV: str(self.runtime / "runs"),
                    "PYTHONUNBUFFERED": "1",
                },
                start_new_session=True,  # Ctrl-C reaches serve.py only, which stops the children in order
                preexec_fn=_die_with_parent,
            )

    def start_warm(self) -> None:
        log = open(self.log_dir / "warm.log", "ab")
        self.warm = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("warm.py"))]
            + [f"--replica=http://127.0.0.1:{r.port}" for r in self.replicas],
            cwd=self.app.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, RUN_DIR_ENV: str(self.runtime / "runs"), "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()

    def wait_warm(self) -> None:
        """The warm-up's outcome in serve.log; a failure or a timeout only means the page trains on demand."""
        deadline = time.monotonic() + WARM_TIMEOUT
        while self.warm.poll() is None and time.monotonic() < deadline:
            self.check_stop()
            time.sleep(0.2)
        if self.warm.poll() is None:
            self.warm.kill()
            self.warm.wait(5)
            self.say(f"warm-up stopped after {WARM_TIMEOUT:.0f} s; the EoS page trains on a first visit")
            return
        lines = tail(self.log_dir / "warm.log", 3 + len(self.replicas)).splitlines()
        done = [line for line in lines if line.startswith("warm: ")]
        if self.warm.returncode == 0 and done:
            for line in done:
                self.say(line)
        else:
            self.say(f"warm-up failed ({self.warm.returncode}): {lines[-1:]}")
        # Each replica also prepares in a thread of its own, WARM_AFTER seconds after its first visit (≈ 1 s of
        # Altair and a full garbage collection): a class let in before it ends had its first seconds slowed.
        waiting = list(self.replicas)
        while waiting and time.monotonic() < deadline:
            self.check_stop()
            waiting = [r for r in waiting if not warmed(r)]
            time.sleep(0.2)
        if waiting:
            self.say(f"replica warm-up not done on {', '.join(r.name for r in waiting)}; opening anyway")

    def start_nginx(self, nginx: str) -> None:
        conf = self.runtime / "nginx.conf"
        conf.write_text(render(self.listen, self.runtime, self.log_dir, self.replicas))
        error_log = self.log_dir / "nginx-error.log"
        with open(error_log, "ab") as err:
            self.nginx = subprocess.Popen(
                [nginx, "-p", f"{self.runtime}/", "-c", str(conf), "-e", str(error_log), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(self.replicas)
        while waiting:
            self.check_stop()
            for r in list(waiting):
                if r.proc.poll() is not None:
                    raise RuntimeError(f"replica {r.name} exited with code {r.proc.returncode}:\n{tail(r.log)}")
                if healthy(f"http://127.0.0.1:{r.port}"):
                    self.say(f"replica {r.name} ready on 127.0.0.1:{r.port} (pid {r.proc.pid})")
                    waiting.remove(r)
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"replicas {[r.name for r in waiting]} not healthy within {START_TIMEOUT:.0f} s")
            time.sleep(0.3)

    def wait_proxy(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.check_stop()
            if self.nginx.poll() is not None:
                raise RuntimeError(self.nginx_died())
            if healthy(self.url):
                return
            time.sleep(0.2)
        raise RuntimeError(f"nginx did not answer on {self.url} within 20 s:\n{tail(self.log_dir / 'nginx-error.log')}")

    def nginx_died(self) -> str:
        return f"nginx exited with code {self.nginx.returncode}:\n{tail(self.log_dir / 'nginx-error.log')}"

    def check_stop(self) -> None:
        if self.stopping:
            raise Stop

    def supervise(self) -> None:
        """Until told to stop: restart replicas that died; if nginx dies, give up (raise)."""
        while True:
            self.check_stop()
            if self.nginx.poll() is not None:
                raise RuntimeError(self.nginx_died())
            now = time.monotonic()
            for r in self.replicas:
                if r.proc is None or r.proc.poll() is None:
                    if r.restart_at is not None and now >= r.restart_at:
                        r.restart_at = None
                        r.restarts = [t for t in r.restarts if now - t < RESTART_LIMIT[1]] + [now]
                        self.start_replica(r)
                        self.write_state()
                        self.say(f"replica {r.name} restarted (pid {r.proc.pid})")
                    continue
                code = r.proc.returncode
                r.proc = None
                recent = [t for t in r.restarts if now - t < RESTART_LIMIT[1]]
                if self.args.no_restart or len(recent) >= RESTART_LIMIT[0]:
                    why = "--no-restart" if self.args.no_restart else f"{len(recent)} restarts in 5 min"
                    self.say(f"replica {r.name} exited with code {code}; left down ({why}); its sessions move on")
                else:
                    r.restart_at = now + RESTART_DELAY
                    self.say(f"replica {r.name} exited with code {code}; nginx sends its sessions on; restart in 1 s")
                self.write_state()
            time.sleep(0.2)

    def stop(self) -> None:
        """nginx first (no new requests), then every replica: SIGTERM, then SIGKILL after STOP_TIMEOUT."""
        self.stopping = True
        procs = [p for p in [self.warm, self.nginx] + [r.proc for r in self.replicas] if p is not None]
        for p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for p in procs:
            try:
                p.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        shutil.rmtree(self.runtime, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="Streamlit processes (about one per CPU core)")
    parser.add_argument("--port", type=int, default=8080, help="the proxy's port (the address visitors open)")
    parser.add_argument("--host", default="127.0.0.1", help="the proxy's address (0.0.0.0: every interface)")
    parser.add_argument("--replica-base-port", type=int, help="replica i listens on this + i (default: port + 1 + i)")
    parser.add_argument("--app", default=str(ROOT / "app.py"), help="the Streamlit script")
    parser.add_argument("--log-dir", default=str(ROOT / "deploy" / "logs"), help="every log, and serve.json")
    parser.add_argument("--no-restart", action="store_true", help="leave a replica that dies down")
    parser.add_argument("--no-warm", action="store_true", help="skip deploy/warm.py (the EoS page trains on demand)")
    args = parser.parse_args(argv)
    if not 1 <= args.replicas <= MAX_REPLICAS:
        parser.error(f"--replicas must be 1 to {MAX_REPLICAS}")
    for name in ("port", "replica_base_port"):
        value = getattr(args, name)
        if value is not None and not 1 <= value <= 65535 - (args.replicas if name != "port" else 0):
            parser.error(f"--{name.replace('_', '-')} must leave room for the ports in 1–65535")
    if not Path(args.app).is_file():
        parser.error(f"no such script: {args.app}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nginx = find_nginx()
    if nginx is None:
        print("nginx not found: install Debian's package (apt-get install -y nginx)", file=sys.stderr)
        return 2
    if not port_free(args.port, args.host):
        print(f"port {args.port} on {args.host} is in use", file=sys.stderr)
        return 2

    cluster = Cluster(args)

    def on_signal(signum, frame):
        cluster.stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    code = 0
    try:
        cluster.say(
            f"starting {args.replicas} replica(s) of {cluster.app.name} on ports "
            f"{', '.join(str(r.port) for r in cluster.replicas)}; cookie secret {cluster.secret_source}; "
            f"logs in {cluster.log_dir}"
        )
        for r in cluster.replicas:
            cluster.start_replica(r)
        if not args.no_warm and cluster.app == ROOT / "app.py":  # (another script has no such page)
            cluster.start_warm()
        cluster.write_state()
        cluster.wait_ready()
        if cluster.warm is not None:
            cluster.wait_warm()
        cluster.start_nginx(nginx)
        cluster.write_state()
        cluster.wait_proxy()
        cluster.ready = True
        cluster.write_state()
        cluster.say(f"ready: {cluster.url} (nginx pid {cluster.nginx.pid}); Ctrl-C stops everything")
        cluster.supervise()
    except Stop:
        cluster.say("stopping")
    except RuntimeError as exc:
        cluster.say(f"error: {exc}")
        code = 1
    finally:
        cluster.stop()
        cluster.say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
