"""η (and β) changes rerun only their page's fragment, through a real server and Streamlit's protocol
(loadtest/client.py speaks it as the browser does, fragment ids included), and what they drive follows."""

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from loadtest.client import ROOT, Session, start_server
from tests.apptest_helpers import run_async


@pytest.fixture(scope="module")
def server():
    s = start_server(ROOT / "app.py")
    yield s
    s.stop()


def move(session: Session, key: str, fraction: float) -> float:
    proto = session.widget(key).proto
    return proto.min + round((proto.max - proto.min) * fraction / proto.step) * proto.step


@pytest.mark.parametrize(
    ("page", "query", "key", "box", "others"),
    [
        ("quadratic", "n=10", "_lr_slider", "lr", ["n", "eps"]),
        ("momentum", "method=heavy+ball", "_beta_slider", "beta", ["n", "method"]),
        ("momentum", "method=nesterov", "_lr_slider", "lr", ["n", "method"]),
    ],
)
def test_a_slider_of_eta_or_beta_reruns_only_its_fragment_and_its_box_follows(server, page, query, key, box, others):
    async def go():
        session = Session(server.url)
        await session.connect()
        try:
            opened = await session.open(page, query)
            assert opened.ok and opened.status == ForwardMsg.FINISHED_SUCCESSFULLY
            assert session.widget(key).fragment and session.widget(box).fragment  # drawn by the fragment
            assert all(not session.widget(k).fragment for k in others)  # the rest of the sidebar is not
            value = move(session, key, 0.37)
            moved = await session.set(key, value)
            assert moved.ok and moved.status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY, moved.errors
            assert session.widget(box).proto.value == pytest.approx(value)  # the exact box was redrawn with it
            assert moved.deltas < opened.deltas  # less than the page was sent
            again = await session.open(page, f"{query}&{box}={value}")  # the link with that value: same box
            assert again.ok and session.widget(box).proto.value == pytest.approx(value)
        finally:
            await session.close()

    run_async(go())


def test_a_mark_that_switches_the_method_reruns_the_whole_page(server):
    """(η*, β*) is drawn by the momentum page's η fragment but switches GD to heavy ball, which the page
    outside the fragment shows (the method radio, the update rule, the β controls): the page reruns."""

    async def go():
        session = Session(server.url)
        await session.connect()
        try:
            assert (await session.open("momentum", "")).ok
            assert session.widget("method").value == "gradient descent" and not session.has("_beta_slider")
            jumped = await session.press("jump")  # (the client reads on past the fragment run's st.rerun())
            assert jumped.ok and jumped.status == ForwardMsg.FINISHED_SUCCESSFULLY, jumped.errors
            assert session.widget("method").value == "heavy ball" and session.has("_beta_slider")
        finally:
            await session.close()

    run_async(go())
