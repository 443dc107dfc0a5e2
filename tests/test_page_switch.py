"""A URL-bound control's value goes with the visitor to another page that draws the same control, on the
first visit too, and stays in the URL there (through a real server and Streamlit's protocol: a menu
click is a rerun of the other page with the address bar's query, as the browser sends it)."""

from urllib.parse import parse_qsl

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from loadtest.client import Session
from tests.apptest_helpers import run_async


@pytest.mark.parametrize(
    ("first", "query", "then", "carried"),
    [
        # A shared momentum link, then the trajectory page from the menu (Streamlit 1.67 alone showed
        # gradient descent there and dropped the link's values from the URL until the second visit).
        ("momentum", "method=heavy+ball&beta=0.7", "trajectory", {"method": "heavy ball", "beta": 0.7}),
        # A class link to the quadratic explorer with its η, then the momentum map (alone: η = 0 there).
        ("quadratic", "preset=log-spaced&n=50&lr=1.7", "momentum", {"lr": 1.7}),
    ],
)
def test_a_links_values_carry_to_the_next_page_on_its_first_visit(app_server, first, query, then, carried):
    async def go():
        async with Session(app_server.url) as session:
            assert (await session.open(first, query)).ok
            switched = await session.open(then)  # the menu
            assert switched.ok and switched.status == ForwardMsg.FINISHED_SUCCESSFULLY, switched.errors
            url = dict(parse_qsl(session.query))
            for key, value in carried.items():
                if isinstance(value, str):
                    assert session.widget(key).value == value and url[key] == value
                else:
                    assert session.widget(key).value == pytest.approx(value)
                    assert float(url[key]) == pytest.approx(value)

    run_async(go())


def test_values_carry_after_a_session_was_restored_on_another_server(app_server):
    """A run cut by a replica's death: the browser reconnects (a new session) and re-sends its view, URL
    and every widget's value. Streamlit keeps no copy of such values for another page: the carrying must."""

    async def go():
        async with Session(app_server.url) as session:
            assert (await session.open("momentum", "method=heavy+ball")).ok
            assert (await session.set("beta", 0.3)).ok
            await session.reconnect()  # a new session, as on the replica the proxy picks next
            assert (await session.restore()).ok
            for page in ("trajectory", "eos"):  # the menu
                assert (await session.open(page)).ok
                assert session.widget("method").value == "heavy ball"
                url = dict(parse_qsl(session.query))
                assert url["method"] == "heavy ball" and float(url["beta"]) == pytest.approx(0.3)

    run_async(go())


def test_a_value_the_next_page_does_not_offer_gives_its_default(app_server):
    """Adam exists on the EoS page only: the momentum map then starts from gradient descent, no error."""

    async def go():
        async with Session(app_server.url, rerun_timeout=120) as session:
            assert (await session.open("eos", "method=Adam&esteps=20&flow=false")).ok
            switched = await session.open("momentum")
            assert switched.ok, switched.errors
            assert session.widget("method").value == "gradient descent"
            assert "method" not in dict(parse_qsl(session.query))

    run_async(go())


def test_adams_eps_and_the_quadratic_tolerance_are_two_controls(app_server):
    """The quadratic page's tolerance ε and Adam's ε on the EoS page do not reach each other."""

    async def go():
        async with Session(app_server.url, rerun_timeout=120) as session:
            assert (await session.open("quadratic", "eps=0.001")).ok
            assert (await session.open("eos", "method=Adam&aeps=0.01&esteps=20&flow=false")).ok
            assert session.widget("aeps").value == pytest.approx(0.01)
            assert (await session.open("quadratic")).ok  # the menu
            assert session.widget("eps").value == pytest.approx(0.001)
            assert dict(parse_qsl(session.query))["eps"] == "0.001"

    run_async(go())
