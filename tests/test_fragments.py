"""η (and β) changes rerun only their page's fragment, through a real server and Streamlit's protocol
(loadtest/client.py speaks it as the browser does, fragment ids included), and what they drive follows."""

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from loadtest.client import Session
from tests.apptest_helpers import run_async


@pytest.mark.parametrize(
    ("page", "query", "box", "value", "others"),
    [
        ("quadratic", "n=10", "lr", 1.2, ["n", "eps"]),
        ("momentum", "method=heavy+ball", "beta", 0.3, ["n", "method"]),
        ("momentum", "method=nesterov", "lr", 0.5, ["n", "method"]),
    ],
)
def test_the_exact_eta_or_beta_box_reruns_only_its_fragment(app_server, page, query, box, value, others):
    async def go():
        async with Session(app_server.url) as session:
            opened = await session.open(page, query)
            assert opened.ok and opened.status == ForwardMsg.FINISHED_SUCCESSFULLY
            assert session.widget(box).fragment  # drawn by the fragment
            assert all(not session.widget(k).fragment for k in others)  # the rest of the sidebar is not
            moved = await session.set(box, value)
            assert moved.ok and moved.status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY, moved.errors
            assert moved.deltas < opened.deltas  # less than the page was sent
            assert f"{box}={value}" in session.query  # the URL follows
            again = await session.open(page, session.query)  # the link with that value: same box
            assert again.ok and session.widget(box).proto.value == pytest.approx(value)

    run_async(go())


@pytest.mark.parametrize(
    ("page", "query", "chart", "name", "box", "value"),
    [
        ("quadratic", "n=10", "live", "eta", "lr", 1.2),
        ("momentum", "method=heavy+ball", "mom", "beta", "beta", 0.3),
        ("momentum", "method=nesterov", "mom", "eta", "lr", 0.5),
    ],
)
def test_a_live_release_reruns_only_the_fragment_and_sets_the_box(app_server, page, query, chart, name, box, value):
    """What the browser sends when the live slider (under the chart, or the sidebar's: ui.live_slider) is
    released: the chart's point selection. Only the fragment reruns, and the exact box shows the value."""

    async def go():
        async with Session(app_server.url) as session:
            assert (await session.open(page, query)).ok
            released = await session.select(chart, name, {name: value, "at": 1})
            assert released.ok and released.status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY, released.errors
            assert session.widget(box).proto.value == pytest.approx(value)
            assert f"{box}={value}" in session.query

    run_async(go())


def test_a_mark_that_switches_the_method_reruns_the_whole_page(app_server):
    """(η*, β*) is drawn by the momentum page's η fragment but switches GD to heavy ball, which the page
    outside the fragment shows (the method radio, the update rule, the β controls): the page reruns."""

    async def go():
        async with Session(app_server.url) as session:
            assert (await session.open("momentum", "")).ok
            assert session.widget("method").value == "gradient descent" and not session.has("beta")
            jumped = await session.press("jump")  # (the client reads on past the fragment run's st.rerun())
            assert jumped.ok and jumped.status == ForwardMsg.FINISHED_SUCCESSFULLY, jumped.errors
            assert session.widget("method").value == "heavy ball" and session.has("beta")

    run_async(go())


def test_the_trajectory_angle_reruns_only_the_path_and_its_verdict(app_server):
    """φ only turns the picture: the path, its verdict and the link follow in a fragment run; the rest of the
    sidebar and the metrics (which do not depend on φ) are not sent again. At η = 2.5 (GD, λ = 0.2 and 1) the
    path leaves the view at step 8 for φ = −45° and at step 11 for φ = −40°."""

    async def go():
        async with Session(app_server.url) as session:
            opened = await session.open("trajectory", "lr=2.5&phi=-45")
            assert opened.ok and session.widget("phi").fragment and not session.widget("l1").fragment
            assert any("Diverged at step 8" in a for a in opened.alerts)
            turned = await session.set("phi", -40)
            assert turned.ok and turned.status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY, turned.errors
            assert [a for a in turned.alerts if "Diverged" in a] == [a for a in turned.alerts if "step 11" in a] != []
            assert turned.deltas < opened.deltas and "phi=-40" in session.query

    run_async(go())
