"""Issue 11 in Chromium: the trajectory plane keeps equal units at every window width."""

import math
import re

import pytest

from tests.browser.conftest import open_app, screenshot
from tests.browser.test_quadratic_browser import assert_page_healthy


def line_angle(d: str) -> float:
    """The direction (degrees, on screen) of an SVG path "M x1,y1 L x2,y2"."""
    x1, y1, x2, y2 = (float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", d)[:4])
    return math.degrees(math.atan2(y2 - y1, x2 - x1))


@pytest.mark.parametrize("width", [1000, 1400, 1920])
def test_eigenvectors_are_drawn_at_right_angles(page, server, width):
    page.set_viewport_size({"width": width, "height": 1100})
    open_app(page, f"{server}/trajectory?phi=30&l1=0.2&l2=1")
    assert_page_healthy(page, 1)  # one live chart: read-out, the plane, the eigen-coordinates
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    # The eigenvector axes are the chart's only dashed lines (stroke-dasharray 5,4).
    paths = chart.locator("g.mark-line.role-mark path[stroke-dasharray='5,4']")
    page.wait_for_function(
        "(el) => el.querySelectorAll(\"g.mark-line.role-mark path[stroke-dasharray='5,4']\").length == 2",
        arg=chart.element_handle(),
        timeout=15_000,
    )
    a, b = (line_angle(paths.nth(i).get_attribute("d")) for i in range(2))
    between = abs(a - b) % 180
    assert abs(between - 90) <= 1, (width, a, b)
    # And q₁ at φ = 30° is drawn 30° above the horizontal (SVG y points down).
    assert min(abs(-a % 180 - 30), abs(-b % 180 - 30)) <= 1, (a, b)
    screenshot(page, f"trajectory-{width}")
