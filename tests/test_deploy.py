"""deploy/serve.py: two replicas of the app behind Debian's nginx, driven over Streamlit's own protocol.

Checked here: health through the proxy; sticky sessions by the proxy's cookie (not by client IP:
two tabs from one address spread over both replicas); one shared cookie secret; a session's upload
and its download reach the replica that holds its websocket (the other replica refuses them, so
stickiness is what makes them work); one failover (a replica killed with SIGKILL: its session comes
back on the other replica with the same page and controls, a training in flight is offered again,
never shown as done, the other replica's session sees no error, and the moved session stays on its
new replica after the dead one is restarted); everything stops with serve.py.

In CI (CI=true) a missing nginx fails; locally these tests skip with the reason. The long load and
failover runs are in loadtest/run.py --proxy, not here.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from deploy import serve
from deploy.serve import find_nginx
from loadtest.client import XSRF_COOKIE, Server, Session, start_cluster
from tests.apptest_helpers import run_async

SPECTRUM = b"0.5\n1.5\n3.25\n7.75\n"  # an uploaded column of eigenvalues: its verdict names lambda = 7.75
VIEW = "preset=two+clusters&n=12&lo=0.3&hi=4&lr=0.4"  # a class link: the view lives in the URL
LONG_RUN = "esteps=10000&eseed=31337&flow=false"  # above the first-visit budget: only Run trains it


def _require_nginx() -> None:
    if find_nginx() is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing in CI: .ci/run must install Debian's nginx package")
        pytest.skip("no nginx on this machine (apt-get install -y nginx); deploy tests need it")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    _require_nginx()
    c = start_cluster(2, log_dir=str(tmp_path_factory.mktemp("serve")))
    yield c
    c.stop()


def access_log(cluster) -> list[str]:
    return (Path(cluster.log) / "nginx-access.log").read_text().splitlines()


def logged(cluster, text: str, timeout: float = 5.0) -> list[str]:
    """The access-log lines containing text (nginx writes a line just after the reply's last byte)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in access_log(cluster) if text in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def port_of(cluster, name: str) -> int:
    return cluster.replicas()[name]["port"]


def other(name: str) -> str:
    return "r1" if name == "r0" else "r0"


def test_health_cookie_and_spread_over_replicas(cluster):
    async def go():
        # New visitors from one address are spread round-robin: among three, both replicas appear
        # (three, since a request of another test or of the cluster's start may sit between two of them).
        a, b, c = (Session(cluster.url, cookies=True) for _ in range(3))
        await a.connect()
        await b.connect()
        await c.connect()
        try:
            assert {a.replica, b.replica, c.replica} == {"r0", "r1"}, (a.cookies, b.cookies, access_log(cluster))
            assert a.cookies[XSRF_COOKIE].startswith("2|")
            # The cookie, not the address, decides: ten more requests with a's cookie all go to a's replica.
            for _ in range(10):
                status, body = a.http("GET", "/_stcore/health")
                assert (status, body) == (200, b"ok")
                assert a.replica == a.cookies["st_route"]
            served = [line for line in access_log(cluster) if "GET /_stcore/health" in line][-10:]
            assert all(f"upstream=127.0.0.1:{port_of(cluster, a.replica)} " in line for line in served), served
        finally:
            for session in (a, b, c):
                await session.close()

    run_async(go())


def test_replicas_share_one_cookie_secret_that_is_not_written_down(cluster):
    secrets = set()
    for r in cluster.replicas().values():
        env = Path(f"/proc/{r['pid']}/environ").read_bytes().split(b"\0")
        secrets |= {e for e in env if e.startswith(b"STREAMLIT_SERVER_COOKIE_SECRET=")}
    assert len(secrets) == 1 and len(secrets.pop()) > len("STREAMLIT_SERVER_COOKIE_SECRET=") + 30
    for path in Path(cluster.log).iterdir():
        assert b"COOKIE_SECRET=" not in path.read_bytes()


def test_upload_and_download_reach_the_sessions_replica(cluster):
    async def go():
        s = Session(cluster.url, cookies=True)
        await s.connect()
        try:
            opened = await s.open("quadratic", "src=uploaded+matrix")
            assert opened.ok, opened.errors
            home = s.replica
            uploaded = await s.upload("upload", "spectrum.csv", SPECTRUM)
            assert s.last_upload_status == 204 and uploaded.ok, uploaded.errors
            assert any("7.75" in a for a in uploaded.alerts), uploaded.alerts  # the page uses the file
            csv_key = next(k for k, w in s.widgets.items() if w.kind == "download_button" and k.endswith("_csv"))
            status, body, url = await s.download(csv_key)
            assert status == 200 and b"7.75" in body, (status, body[:200])
            assert s.replica == home

            # The proxy sent both to the replica with the websocket ...
            put = logged(cluster, f"PUT /_stcore/upload_file/{s.session_id}/")
            media = logged(cluster, f"GET {url} ")
            assert put and media
            assert all(f"upstream=127.0.0.1:{port_of(cluster, home)} " in line for line in put + media), put + media
            # ... and only there do they work: the other replica does not know the session or the file.
            elsewhere = f"http://127.0.0.1:{port_of(cluster, other(home))}"
            path = f"/_stcore/upload_file/{s.session_id}/{'0' * 32}"
            code, text = s.http("PUT", elsewhere + path, b"x", {"Content-Type": "text/csv"})
            assert code == 400 and b"Invalid session_id" in text, (code, text[:200])
            assert s.http("GET", elsewhere + url)[0] == 404
            assert s.http("GET", f"http://127.0.0.1:{port_of(cluster, home)}{url}")[0] == 200
        finally:
            await s.close()

    run_async(go())


def test_the_default_eos_run_is_warm_before_the_proxy_opens(cluster):
    """deploy/warm.py trained the EoS page's default run (and its flow comparison) into the shared store
    while the replicas started: a first visit on either replica shows it without training or integrating."""
    log = (Path(cluster.log) / "serve.log").read_text()
    assert "warm: eos done" in log, log
    # and every page was visited once on each replica (imports and chart structures built before the class)
    for replica in ("r0", "r1"):
        assert f"warm: replica http://127.0.0.1:{port_of(cluster, replica)} done" in log, log
    # and each replica's own warm-up thread (chart structures, a frozen heap) had ended when the proxy opened
    from ui.runtime import WARM_DONE

    assert serve.WARM_DONE == WARM_DONE and "replica warm-up not done" not in log, log
    state = json.loads((Path(cluster.log) / "serve.json").read_text())
    for replica in state["replicas"]:
        assert WARM_DONE in Path(replica["log"]).read_text(), replica

    async def go():
        for replica in ("r0", "r1"):
            s = Session(cluster.url, cookies=True)
            s.cookies["st_route"] = replica
            await s.connect()
            try:
                opened = await s.open("eos")
                assert s.replica == replica and opened.ok, (s.replica, opened.errors)
                assert opened.progress == 0 and not opened.spinners, (opened.progress, opened.spinners)
                assert not any("Press **Run**" in a for a in opened.alerts), opened.alerts
            finally:
                await s.close()

    run_async(go())


def test_a_run_trained_on_one_replica_is_shown_by_the_other(cluster):
    """The replicas share finished EoS runs (deploy/serve.py gives them one directory): a class link
    trains once between them, and a failover finds what the dead replica had finished."""

    async def go():
        first, second = Session(cluster.url, cookies=True), Session(cluster.url, cookies=True)
        await first.connect()
        second.cookies["st_route"] = other(first.replica)
        await second.connect()
        assert second.replica == other(first.replica)
        try:
            link = "esteps=300&eseed=4242&flow=false"
            opened = await first.open("eos", link)
            assert opened.ok and opened.progress > 0, (opened.errors, opened.alerts)  # a first visit trains…
            trained = await first.settle()  # …in the background, its progress box polled until the page is drawn
            assert trained is not None and trained.ok and not first.auto_reruns, trained and trained.errors
            assert not any("Press **Run**" in a for a in trained.alerts), trained.alerts
            shown = await second.open("eos", link)
            assert shown.ok and shown.progress == 0, (shown.errors, shown.progress)  # read, not trained again
            assert not any("Press **Run**" in a for a in shown.alerts), shown.alerts
        finally:
            await first.close()
            await second.close()

    run_async(go())


def test_a_link_opened_on_both_replicas_at_once_trains_once(cluster):
    """A class reaches both replicas at the same moment: the second waits for the first one's claim on the
    shared directory (ui/eos_runs.RunStore.claim) instead of training the same run again."""
    link = "esteps=310&eseed=5151&flow=false"  # 310 steps: its own line in the replicas' logs

    def trainings() -> int:
        logs = [(Path(cluster.log) / f"replica-{i}.log").read_text() for i in (0, 1)]
        return sum(text.count("EoS training started: η = 0.2, 310 steps") for text in logs)

    async def visit(replica: str):
        s = Session(cluster.url, cookies=True)
        s.cookies["st_route"] = replica
        await s.connect()
        try:
            opened = await s.open("eos", link)
            done = await s.settle() or opened
            return s.replica, done
        finally:
            await s.close()

    async def go():
        return await asyncio.gather(visit("r0"), visit("r1"))

    visits = run_async(go())
    assert {replica for replica, _ in visits} == {"r0", "r1"}
    for replica, done in visits:
        assert done.ok and not any("Press **Run**" in a for a in done.alerts), (replica, done.errors, done.alerts)
    assert trainings() == 1


def test_failover_restores_the_view_and_offers_a_cut_run_again(cluster):
    async def go():
        visitor = Session(cluster.url, cookies=True)  # a class link with a moved slider
        trainer = Session(cluster.url, cookies=True)  # presses Run on a long EoS run
        bystander = Session(cluster.url, cookies=True)  # on the replica that stays up
        await visitor.connect()
        victim = visitor.replica
        trainer.cookies["st_route"] = victim  # as a browser that was sent there earlier
        bystander.cookies["st_route"] = other(victim)
        for s in (trainer, bystander):
            await s.connect()
        assert (trainer.replica, bystander.replica) == (victim, other(victim))
        try:
            assert (await visitor.open("quadratic", VIEW)).ok
            linked = visitor.view()
            moved = await visitor.select("live", "eta", {"eta": 1.25, "at": 1})  # a live η released
            before = visitor.view()
            assert moved.ok and before != linked, (moved.errors, before)
            assert (await bystander.open("momentum", "method=heavy+ball")).ok
            opened = await trainer.open("eos", LONG_RUN)
            assert opened.ok and any("Press **Run**" in a for a in opened.alerts), opened.alerts
            pressed = await trainer.press("run")  # the page answers at once with the training's progress box
            assert pressed.ok and pressed.progress > 0 and trainer.auto_reruns, (pressed.errors, pressed.progress)
            polls: list = []
            following = asyncio.ensure_future(trainer.idle(60, polls))  # the frontend polls the box
            await asyncio.sleep(2.0)  # the 10,000-step run takes ≥ 10 s: it is in flight now
            assert not following.done()

            killed_at = time.perf_counter()
            pid = cluster.kill_replica(victim)
            assert await following  # the websocket dropped
            # It was training (its box polled) and never finished: no poll drew the trained page.
            assert polls and all(p.status in (None, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY) for p in polls)
            await asyncio.wait_for(visitor.wait_closed(), 10)

            # The tab reconnects through the proxy and re-sends its view: same page, same controls.
            await visitor.reconnect()
            assert visitor.replica == other(victim)
            restored = await visitor.restore()
            took = time.perf_counter() - killed_at
            assert restored.ok and visitor.view() == before, (restored.errors, visitor.view(), before)
            assert took < 30, took  # a bound for a loaded CI machine; loadtest/run.py --proxy measures it

            # The cut run is offered again on the new replica, never shown as a finished run.
            await trainer.reconnect()
            again = await trainer.restore()
            assert again.ok and trainer.replica == other(victim)
            assert again.progress == 0 and any("Press **Run** to train" in a for a in again.alerts), again.alerts
            assert trainer.has("run")

            # The other replica's session never noticed.
            for beta in (0.3, 0.6):
                assert (await bystander.set("beta", beta)).ok

            # serve.py restarts the dead replica; the moved session's requests stay where its websocket is.
            deadline = time.monotonic() + 60
            while cluster.replicas()[victim]["pid"] in (pid, None) and time.monotonic() < deadline:
                await asyncio.sleep(0.3)
            assert cluster.replicas()[victim]["pid"] not in (pid, None), "the killed replica was not restarted"
            assert (await visitor.open("quadratic", "src=uploaded+matrix")).ok
            await asyncio.sleep(max(0.0, 5.5 - (time.perf_counter() - killed_at)))  # nginx's fail_timeout is over
            uploaded = await visitor.upload("upload", "spectrum.csv", SPECTRUM)
            assert visitor.last_upload_status == 204 and uploaded.ok and visitor.replica == other(victim)
        finally:
            for s in (visitor, trainer, bystander):
                await s.close()

    run_async(go())
    serve_log = (Path(cluster.log) / "serve.log").read_text()
    assert "exited with code -9" in serve_log and "restarted" in serve_log


def test_everything_stops_together(cluster, tmp_path):
    # Last test of the module: SIGTERM to serve.py stops nginx and both replicas (the restarted one too).
    state = cluster.state()
    pids = [state["nginx"]["pid"]] + [r["pid"] for r in state["replicas"]]
    cluster.proc.send_signal(signal.SIGTERM)
    assert cluster.proc.wait(30) == 0
    assert not [p for p in pids if _alive(p)]

    # Killed outright, serve.py cannot clean up: the kernel stops its children (PR_SET_PDEATHSIG).
    c = start_cluster(1, log_dir=str(tmp_path / "kill"), extra=["--app", "loadtest/minimal_app.py"])
    state = json.loads((Path(c.log) / "serve.json").read_text())
    pids = [state["nginx"]["pid"]] + [r["pid"] for r in state["replicas"]]
    c.proc.kill()
    c.proc.wait(10)
    deadline = time.monotonic() + 20
    while [p for p in pids if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in pids if _alive(p)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "State:\tZ" not in f.read()  # a zombie has exited
    except FileNotFoundError:
        return False


def test_the_load_test_waits_for_a_servers_own_warm_up(tmp_path):
    """loadtest/run.py starts its scenarios only once the app's warm-up thread has said it ended (its log line):
    started before, the one-process scenario had timed that warm-up's seconds of GIL, not the visitors."""
    log = tmp_path / "server.log"
    log.write_text("starting\n")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        server = Server(proc, "http://127.0.0.1:9", str(log))
        assert not server.wait_for_log(serve.WARM_DONE, timeout=0.5)
        log.write_text(f"starting\n{serve.WARM_DONE} in 2.0 s\n")
        assert server.wait_for_log(serve.WARM_DONE, timeout=5)
    finally:
        proc.kill()
        proc.wait()
