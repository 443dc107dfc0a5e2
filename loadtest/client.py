"""A headless Streamlit client: one browser tab's worth of protocol, no browser.

It speaks what the frontend speaks on ws://127.0.0.1:PORT/_stcore/stream (subprotocol "streamlit"):
it sends BackMsg protobufs (rerun_script = ClientState: query_string, page_name or page_script_hash,
widget_states) and reads ForwardMsg protobufs until the run's script_finished. Like the frontend it
keeps the URL's query string as the server rewrites it (page_info_changed), remembers every
widget's current value (the element's value when the server set one, else its default, else what
this client sent) and sends all of them with each rerun. Only loopback addresses are accepted.

Behind a proxy (cookies=True) it also does what a browser does around the websocket: it first asks
/_stcore/health (the frontend's ping, which returns the proxy's route cookie and Streamlit's XSRF
cookie), keeps a cookie jar, sends the XSRF token in the websocket handshake, and can upload a file,
fetch a download, reconnect after its replica died and re-send its view (`restore`), as the frontend
does after a reconnect that interrupted a run.

Also: start/stop a `streamlit run` server on a free loopback port, or deploy/serve.py's replicas
behind nginx, and read their resident memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileUploaderState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")

# ForwardMsg.script_finished statuses that end the run the client asked for (FINISHED_EARLY_FOR_RERUN
# = 2 does not: the script called st.rerun() and goes on).
DONE = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}
# Widget element → the WidgetState field the frontend fills for it.
VALUE_FIELDS = {
    "slider": "double_array_value",
    "number_input": "double_value",
    "selectbox": "string_value",
    "radio": "string_value",
    "checkbox": "bool_value",
    "text_input": "string_value",
    "text_area": "string_value",
    "vega_lite_chart": "string_value",  # a chart with on_select: its selections, as JSON
}
TRIGGERS = {"button"}
# Widgets kept (by key) for their own calls, never sent as a plain value: upload() and download().
FILE_WIDGETS = {"file_uploader", "download_button"}
XSRF_COOKIE = "_streamlit_xsrf"
ROUTE_COOKIE = "st_route"  # deploy/nginx.conf.template: names the replica that answered last
SERVE = ROOT / "deploy" / "serve.py"
MAX_CACHED_MESSAGE_AGE = 2  # the default of global.maxCachedMessageAge: reruns a cached message is kept


# ---- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MB; nan if it is gone."""
    try:
        import psutil  # optional: /proc otherwise

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        pass
    except Exception:  # psutil.NoSuchProcess
        return float("nan")
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process's own threads, not its children's, in seconds; nan if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: str

    def rss_mb(self) -> float:
        """Resident memory of the server process (VmRSS), in MB."""
        return rss_mb(self.proc.pid)

    def cpu(self) -> dict[int, float]:
        """pid → CPU seconds of the serving process."""
        return {self.proc.pid: cpu_seconds(self.proc.pid)}

    def check(self) -> None:
        """Raise if the server process has exited (for instance killed from outside)."""
        code = self.proc.poll()
        if code is not None:
            raise RuntimeError(f"the server {self.url} exited with code {code} (log: {self.log})")

    def wait_for_log(self, text: str, timeout: float = 60.0) -> bool:
        """Wait until the server's log shows text (its own warm-up's end): True, or False after timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in Path(self.log).read_text(errors="replace"):
                return True
            self.check()
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def start_server(script: Path, timeout: float = 60) -> Server:
    """`streamlit run script` on a free loopback port, once /_stcore/health answers ok."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="loadtest-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.headless=true",
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--browser.gatherUsageStats=false",
            # No file watcher: a served app does not reload, and an edit made while the test runs must
            # not unload modules under the visitors (KeyError: 'ui' in the middle of an import).
            "--server.fileWatcherType=none",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return Server(proc, url, log.name)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s (log: {log.name})")


@dataclass
class Cluster:
    """`python deploy/serve.py --replicas k --port P`: k replicas behind nginx, one URL (the proxy)."""

    proc: subprocess.Popen
    url: str
    log: str  # the log directory (serve.json, replica-<i>.log, nginx-*.log, serve.log)

    def state(self) -> dict:
        return json.loads((Path(self.log) / "serve.json").read_text())

    def replicas(self) -> dict[str, dict]:
        """name → {"port", "pid", "log"} as serve.py last wrote them (a restarted replica has a new pid)."""
        return {r["name"]: r for r in self.state()["replicas"]}

    def rss_mb(self) -> float:
        """Resident memory of all replicas together, MB (nginx adds a few MB, not counted)."""
        return sum(rss_mb(r["pid"]) for r in self.replicas().values() if r["pid"])

    def cpu(self) -> dict[int, float]:
        """pid → CPU seconds of each replica (their EoS training children not included)."""
        return {r["pid"]: cpu_seconds(r["pid"]) for r in self.replicas().values() if r["pid"]}

    def kill_replica(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Kill one replica as a crash would (SIGKILL by default); its pid."""
        pid = self.replicas()[name]["pid"]
        os.kill(pid, sig)
        return pid

    def check(self) -> None:
        code = self.proc.poll()
        if code is not None:
            raise RuntimeError(f"deploy/serve.py exited with code {code} (logs: {self.log})")

    def stop(self) -> None:
        """SIGTERM to serve.py, which stops nginx and every replica."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def start_cluster(replicas: int = 2, log_dir: str | None = None, timeout: float = 180, extra=()) -> Cluster:
    """deploy/serve.py on a free loopback port, once the proxy answers /_stcore/health."""
    port = free_port()
    log_dir = log_dir or tempfile.mkdtemp(prefix="serve-")
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    out = open(Path(log_dir) / "serve.out", "ab")
    proc = subprocess.Popen(
        [sys.executable, str(SERVE), "--replicas", str(replicas), "--port", str(port), "--log-dir", log_dir, *extra],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out.close()
    cluster = Cluster(proc, f"http://127.0.0.1:{port}", log_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            state = cluster.state()  # (a log directory may hold an earlier start's serve.json)
            if state["pid"] == proc.pid and state["ready"]:  # serve.py has checked the proxy and stopped polling
                return cluster
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.3)
    cluster.stop()
    out_text = (Path(log_dir) / "serve.out").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"deploy/serve.py did not come up within {timeout:.0f} s (logs: {log_dir}):\n{out_text}")


# ---- one session --------------------------------------------------------------------------


@dataclass
class Widget:
    id: str
    kind: str
    proto: object
    value: object = None
    fragment: str = ""  # the fragment that drew it: changing it reruns only that fragment


@dataclass
class Result:
    """One rerun as the client saw it."""

    label: str
    seconds: float
    status: int | None = None  # ForwardMsg script_finished status; None: no answer
    errors: list[str] = field(default_factory=list)
    warnings: int = 0
    progress: int = 0  # st.progress elements received (a training ran in this session)
    last_progress: float = 0.0  # time.perf_counter() of the last one (the training's end, near enough)
    alerts: list[str] = field(default_factory=list)  # st.error/warning/info/success texts
    spinners: list[str] = field(default_factory=list)  # st.spinner texts received (long work began)
    deltas: int = 0
    nbytes: int = 0  # ForwardMsg bytes received for this rerun
    started: float = 0.0  # time.perf_counter() when sent
    closed: bool = False  # the websocket dropped before the run finished (its server or replica died)

    @property
    def ok(self) -> bool:
        return self.status in DONE and self.status != ForwardMsg.FINISHED_WITH_COMPILE_ERROR and not self.errors


def _widget_key(widget_id: str) -> str:
    """`$$ID-<hash>-<user key>` → the user key ("None" for unkeyed widgets)."""
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 else widget_id


def _url_text(value) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if len(value) == 1 else ",".join(_url_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _current_value(kind: str, proto, known, default: bool = False):
    """The value the frontend would hold for this widget after the run (default=True: its default)."""
    set_value = getattr(proto, "set_value", False) and not default
    if kind in ("file_uploader", "vega_lite_chart"):  # the frontend keeps its files, and a chart its selections
        return known
    if kind == "slider":
        return list(proto.value) if set_value else (known if known is not None else list(proto.default))
    if kind == "number_input":
        return proto.value if set_value else (known if known is not None else proto.default)
    if kind in ("selectbox", "radio"):
        if set_value:
            return proto.raw_value
        if known is not None:
            return known
        return proto.options[proto.default] if 0 <= proto.default < len(proto.options) else None
    if kind in ("checkbox", "text_input", "text_area"):
        return proto.value if set_value else (known if known is not None else proto.default)
    return None


class Session:
    """One visitor's tab: a websocket and the state the frontend would keep."""

    def __init__(self, url: str, rerun_timeout: float = 60.0, cookies: bool = False):
        host = urlparse(url).hostname
        if host not in LOOPBACK:
            raise ValueError(f"load tests talk to loopback only, not {host!r}")
        self.url = url.rstrip("/")
        self.ws_url = url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        self.rerun_timeout = rerun_timeout
        self.ws = None
        # A browser's cookie jar (None: no cookies, no XSRF token: how the single-server load test connects).
        self.cookies: dict[str, str] | None = {} if cookies else None
        self.session_id = ""  # the server's AppSession id (uploads and backend requests name it)
        self.pending_open: tuple[str, str] | None = None  # an open() whose run has not finished yet
        self.confirmed_view: tuple | None = None  # view() after the last run that finished
        self.query = ""
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # url path → page_script_hash
        self.widgets: dict[str, Widget] = {}  # user key → widget of the last run
        self.results: list[Result] = []
        # The frontend's message cache: large new_element deltas by hash, with the run that last used
        # them; their hashes go with each rerun and the server answers with ref_hash for unchanged ones.
        self.cache: dict[str, tuple[bytes, int]] = {}
        self.runs = 0
        # Fragments with run_every (a training's progress box): fragment id → seconds between the reruns the
        # frontend asks for by itself (set by auto_rerun, cleared by a full run and by stop_auto_rerun).
        self.auto_reruns: dict[str, float] = {}

    async def connect(self) -> None:
        if self.cookies is None:
            self.ws = await websockets.connect(
                self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30, ping_interval=None
            )
            return
        # As the frontend: ping first (cookies), then the websocket with the XSRF token and, on a
        # reconnect, the previous session id (a replica that does not know it starts a new session).
        status, _ = await asyncio.to_thread(self.http, "GET", "/_stcore/health")
        if status != 200:
            raise ConnectionError(f"/_stcore/health answered {status}")
        protocols = ["streamlit", self.cookies.get(XSRF_COOKIE, "none")]
        if self.session_id:
            protocols.append(self.session_id)
        self.ws = await websockets.connect(
            self.ws_url,
            subprotocols=protocols,
            additional_headers={"Cookie": self._cookie_header()},
            origin=self.url,
            max_size=None,
            open_timeout=30,
            ping_interval=None,
        )
        self._take_cookies(self.ws.response.headers.get_all("Set-Cookie"))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def __aenter__(self) -> Session:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def wait_closed(self) -> None:
        await self.ws.wait_closed()

    async def reconnect(self) -> None:
        """A new websocket after the old one dropped (the frontend does this by itself)."""
        try:
            await self.close()
        except Exception:  # the old socket is already dead
            pass
        await self.connect()

    async def restore(self, label: str = "restore") -> Result:
        """Re-send the view this tab holds (URL, page, every widget's value): what the frontend sends
        after reconnecting when the connection dropped during a run (App.handleConnectionStateChanged).
        A page opened whose first run never finished is opened again (the person's click or link), with
        the URL the address bar shows by then: the cut run may already have written the values it
        carried from the previous page into it (page_info_changed is sent as a widget registers)."""
        if self.pending_open is not None:
            return await self.open(self.pending_open[0], self.query, label)
        return await self._rerun(self._state(), label)

    @property
    def replica(self) -> str | None:
        """The replica the proxy's cookie names (None without the proxy)."""
        return None if self.cookies is None else self.cookies.get(ROUTE_COOKIE)

    def view(self) -> tuple:
        """What the person sees selected: the page, the URL and every control's value."""
        values = tuple(sorted((k, repr(w.value)) for k, w in self.widgets.items() if w.kind in VALUE_FIELDS))
        return self.page_hash, tuple(sorted(parse_qsl(self.query, keep_blank_values=True))), values

    # -- HTTP beside the websocket (cookies=True)

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in (self.cookies or {}).items())

    def _take_cookies(self, headers: list[str]) -> None:
        for header in headers:
            name, _, value = header.split(";", 1)[0].strip().partition("=")
            if name and self.cookies is not None:
                self.cookies[name] = value

    def http(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        """One request with this tab's cookies (and XSRF header on writes); (status, body)."""
        url = path if path.startswith("http") else self.url + path
        if urlparse(url).hostname not in LOOPBACK:
            raise ValueError(f"load tests talk to loopback only, not {url!r}")
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        if self.cookies:
            request.add_header("Cookie", self._cookie_header())
        if method not in ("GET", "HEAD") and self.cookies and XSRF_COOKIE in self.cookies:
            request.add_header("X-Xsrftoken", self.cookies[XSRF_COOKIE])
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                self._take_cookies(response.headers.get_all("Set-Cookie") or [])
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            self._take_cookies(exc.headers.get_all("Set-Cookie") or [])
            return exc.code, exc.read()

    async def upload(self, key: str, name: str, data: bytes, mime: str = "text/csv") -> Result:
        """Put a file into the file_uploader with this key, as the frontend does: ask the session for an
        upload URL, PUT the file there (multipart), then rerun with the uploader's new state."""
        widget = self.widgets[key]
        request_id = str(uuid.uuid4())
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        await self.ws.send(msg.SerializeToString())
        reply = await self._wait_for(
            lambda f: f.WhichOneof("type") == "file_urls_response" and f.file_urls_response.response_id == request_id
        )
        urls = reply.file_urls_response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: {mime}\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, text = await asyncio.to_thread(
            self.http, "PUT", urls.upload_url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        self.last_upload_status = status
        if status not in (200, 204):
            return Result(f"upload {key}", 0.0, errors=[f"upload answered {status}: {text[:200]!r}"])
        state = FileUploaderState()
        info = state.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        widget.value = state
        return await self._rerun(self._state(), f"upload {key}")

    async def download(self, key: str) -> tuple[int, bytes, str]:
        """Click the download button with this key: (HTTP status, body, URL). A deferred download
        (data given as a callable) first asks the session for its URL over the websocket."""
        proto = self.widgets[key].proto
        url = proto.url
        if proto.HasField("deferred_file_id"):
            request_id = str(uuid.uuid4())
            msg = BackMsg()
            msg.backend_operation_request.request_id = request_id
            msg.backend_operation_request.session_id = self.session_id
            msg.backend_operation_request.deferred_file.file_id = proto.deferred_file_id
            await self.ws.send(msg.SerializeToString())
            reply = await self._wait_for(
                lambda f: (
                    f.WhichOneof("type") == "backend_operation_response"
                    and f.backend_operation_response.request_id == request_id
                )
            )
            if reply.backend_operation_response.error_msg:
                return 0, reply.backend_operation_response.error_msg.encode(), ""
            url = reply.backend_operation_response.deferred_file.url
        status, body = await asyncio.to_thread(self.http, "GET", url)
        return status, body, url

    async def _wait_for(self, wanted, timeout: float = 30.0) -> ForwardMsg:
        """Read messages until one satisfies wanted (used between runs only)."""
        deadline = time.perf_counter() + timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(deadline - time.perf_counter(), 0.01))
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            if wanted(fwd):
                return fwd

    # -- what the frontend does by itself

    @property
    def _interval(self) -> float:
        """Seconds between the frontend's reruns of the page's (first) run_every fragment."""
        return next(iter(self.auto_reruns.values()))

    async def poll(self, label: str = "poll") -> Result:
        """The rerun the frontend sends for a run_every fragment when its interval has passed."""
        fragment = next(iter(self.auto_reruns))
        return await self._rerun(self._state(fragment=fragment, auto=True), label)

    async def idle(self, seconds: float, polls: list | None = None) -> bool:
        """Wait like a person looking at the page for seconds, while the frontend polls the page's run_every
        fragments (each Result appended to polls); True if the websocket dropped meanwhile."""
        end = time.perf_counter() + seconds
        while True:
            left = end - time.perf_counter()
            if left <= 0:
                return False
            wait = min(left, self._interval) if self.auto_reruns else left
            closed = asyncio.ensure_future(self.wait_closed())
            try:
                done, _ = await asyncio.wait({closed}, timeout=wait)
            finally:
                closed.cancel()
            if done:
                return True
            if self.auto_reruns and time.perf_counter() < end:
                result = await self.poll()
                if polls is not None:
                    polls.append(result)
                if result.closed:
                    return True

    async def settle(self, timeout: float = 120.0) -> Result | None:
        """Follow the page's run_every fragments until the page has none left (a training's box: until the
        trained page is drawn); the last rerun, or None if there was nothing to follow."""
        last, end = None, time.perf_counter() + timeout
        while self.auto_reruns and time.perf_counter() < end:
            await asyncio.sleep(self._interval)
            last = await self.poll()
            if last.closed:
                break
        return last

    # -- interactions

    async def open(self, page: str, query: str | None = None, label: str | None = None) -> Result:
        """Open a page (url path, e.g. "quadratic"): with a query string, as a link would; without, as the
        menu does (the frontend sends the address bar's query with the new page, checked in Chromium, and
        the server keeps what that page's controls bind)."""
        query = self.query if query is None else query
        state = BackMsg()
        if page in self.pages:
            state.rerun_script.page_script_hash = self.pages[page]
        else:
            state.rerun_script.page_name = page
        state.rerun_script.query_string = query
        self._add_cached_hashes(state.rerun_script)
        self.query = query
        self.widgets = {}
        self.auto_reruns.clear()  # (the frontend's onPageChange)
        self.pending_open = (page, query)
        return await self._rerun(state, label or f"open {page}")

    async def set(self, key: str, value, label: str | None = None) -> Result:
        """Change the widget with this user key to value, as a person would, and wait for the rerun."""
        widget = self.widgets[key]
        if widget.kind == "slider" and not isinstance(value, list | tuple):
            value = [float(value)]
        widget.value = value
        param = getattr(widget.proto, "query_param_key", "")
        if param:  # the frontend writes a bound widget's new value into the URL
            pairs = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k != param]
            pairs.append((param, _url_text(value)))
            self.query = urlencode(pairs)
        return await self._rerun(self._state(fragment=widget.fragment), label or f"set {key}")

    async def select(self, key: str, name: str, point: dict, label: str | None = None) -> Result:
        """Return a point selection from the chart with this key, as the browser does when a live
        slider under it is released (ui.live.live_params): {"selection": {name: [point]}}."""
        return await self.set(key, json.dumps({"selection": {name: [point]}}), label or f"select {name}")

    async def press(self, key: str, label: str | None = None) -> Result:
        """Press the button with this user key."""
        widget = self.widgets[key]
        return await self._rerun(self._state(trigger=widget.id, fragment=widget.fragment), label or f"press {key}")

    def has(self, key: str) -> bool:
        return key in self.widgets

    def widget(self, key: str) -> Widget:
        return self.widgets[key]

    # -- protocol

    def _state(self, trigger: str | None = None, fragment: str = "", auto: bool = False) -> BackMsg:
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query
        rs.page_script_hash = self.page_hash
        if fragment:  # as the frontend does for a widget inside a fragment
            rs.fragment_id = fragment
        rs.is_auto_rerun = auto
        self._add_cached_hashes(rs)
        for w in self.widgets.values():
            if w.kind in TRIGGERS:
                continue
            if w.kind == "file_uploader" and w.value is not None:
                ws = rs.widget_states.widgets.add()
                ws.id = w.id
                ws.file_uploader_state_value.CopyFrom(w.value)
                continue
            field_name = VALUE_FIELDS.get(w.kind)
            if field_name is None or w.value is None:
                continue
            ws = rs.widget_states.widgets.add()
            ws.id = w.id
            if field_name == "double_array_value":
                ws.double_array_value.data.extend(float(v) for v in w.value)
            else:
                setattr(ws, field_name, w.value)
        if trigger is not None:
            ws = rs.widget_states.widgets.add()
            ws.id = trigger
            ws.trigger_value = True
        return msg

    def _add_cached_hashes(self, client_state) -> None:
        self.runs += 1
        for key, (_, used) in list(self.cache.items()):
            if self.runs - used > MAX_CACHED_MESSAGE_AGE:
                del self.cache[key]
        client_state.cached_message_hashes.extend(self.cache)

    async def _rerun(self, msg: BackMsg, label: str) -> Result:
        result = Result(label, 0.0, started=time.perf_counter())
        seen: dict[str, Widget] = {}
        try:
            await self.ws.send(msg.SerializeToString())
            # One timeout for the whole run: asyncio.wait_for around each recv made a task per message (a run
            # sends 10–70), the client's largest cost per message, and its time is in every latency measured.
            async with asyncio.timeout(self.rerun_timeout - (time.perf_counter() - result.started)):
                while True:
                    raw = await self.ws.recv()
                    result.nbytes += len(raw)
                    fwd = ForwardMsg()
                    fwd.ParseFromString(raw)
                    kind = fwd.WhichOneof("type")
                    if kind == "ref_hash":  # "you have this one": the frontend takes it from its cache
                        cached = self.cache.get(fwd.ref_hash)
                        if cached is None:
                            result.errors.append(f"ref_hash {fwd.ref_hash} not in the client's cache")
                            continue
                        self.cache[fwd.ref_hash] = (cached[0], self.runs)
                        fwd = ForwardMsg()
                        fwd.ParseFromString(cached[0])
                        kind = fwd.WhichOneof("type")
                    elif fwd.metadata.cacheable and fwd.hash:
                        self.cache[fwd.hash] = (raw, self.runs)
                    if kind == "delta":
                        result.deltas += 1
                        self._read_delta(fwd, result, seen)
                    elif kind == "new_session":
                        if not fwd.metadata.run.fragment_ids:  # a full run: the frontend drops its timers
                            self.auto_reruns.clear()
                        self.page_hash = fwd.new_session.page_script_hash
                        if fwd.new_session.HasField("initialize"):
                            self.session_id = fwd.new_session.initialize.session_id
                        seen = {}  # a new run (or the router's st.rerun) draws the page again
                        for p in fwd.new_session.app_pages:
                            self.pages.setdefault(p.url_pathname, p.page_script_hash)
                    elif kind == "navigation":
                        self.pages.update({p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages})
                        if fwd.navigation.page_script_hash:
                            self.page_hash = fwd.navigation.page_script_hash
                    elif kind == "page_info_changed":
                        self.query = fwd.page_info_changed.query_string
                    elif kind == "auto_rerun":
                        self.auto_reruns[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
                    elif kind == "stop_auto_rerun":
                        for fragment_id in fwd.stop_auto_rerun.fragment_ids:
                            self.auto_reruns.pop(fragment_id, None)
                    elif kind == "page_not_found":
                        result.errors.append("page not found")
                    elif kind == "script_finished" and fwd.script_finished in DONE:
                        result.status = fwd.script_finished
                        break
        except TimeoutError:
            result.errors.append(f"no script_finished within {self.rerun_timeout:.0f} s")
        except websockets.ConnectionClosed as exc:
            result.errors.append(f"connection closed: {exc}")
            result.closed = True
        result.seconds = time.perf_counter() - result.started
        # A run cut short (timeout, dropped connection) leaves the tab's widgets as they were.
        if seen and result.status is not None:
            for key, w in seen.items():
                old = self.widgets.get(key)
                known = old.value if old is not None and old.id == w.id else None
                w.value = _current_value(w.kind, w.proto, known)
            if result.status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.widgets.update(seen)  # a fragment redraws only its own widgets
            else:
                self.widgets = seen
            self._bind_url(seen.values())
        if result.status is not None:
            self.pending_open = None
        if result.ok:
            self.confirmed_view = self.view()
        self.results.append(result)
        return result

    def _bind_url(self, widgets) -> None:
        """Write bound widgets' values into the URL as the frontend does: a value other than the
        widget's default is in the URL, the default is not (e.g. a method kept from another page)."""
        pairs = parse_qsl(self.query, keep_blank_values=True)
        for w in widgets:
            param = getattr(w.proto, "query_param_key", "")
            if not param or w.value is None:
                continue
            pairs = [(k, v) for k, v in pairs if k != param]
            if w.value != _current_value(w.kind, w.proto, None, default=True):
                pairs.append((param, _url_text(w.value)))
        self.query = urlencode(pairs)

    @staticmethod
    def _read_delta(fwd: ForwardMsg, result: Result, seen: dict) -> None:
        which = fwd.delta.WhichOneof("type")
        if which == "new_transient":  # st.spinner arrives as a transient element after 0.5 s
            result.spinners += [e.spinner.text for e in fwd.delta.new_transient.elements if e.HasField("spinner")]
            return
        if which != "new_element":
            return
        el = fwd.delta.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            if el.exception.is_warning:
                result.warnings += 1
            else:
                result.errors.append(f"{el.exception.type}: {el.exception.message}"[:300])
        elif kind == "progress":
            result.progress += 1
            result.last_progress = time.perf_counter()
        elif kind == "alert":
            result.alerts.append(el.alert.body[:200])
        elif kind in VALUE_FIELDS or kind in TRIGGERS or kind in FILE_WIDGETS:
            proto = getattr(el, kind)
            if proto.id:  # (a chart without on_select is no widget)
                seen[_widget_key(proto.id)] = Widget(proto.id, kind, proto, fragment=fwd.delta.fragment_id)
