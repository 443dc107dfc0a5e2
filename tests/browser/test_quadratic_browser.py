"""The home page and the quadratic explorer in a real Chromium."""

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import open_app, screenshot, start_server, stop_server, wait_idle


def chart_mark_counts(pg) -> list[int]:
    """For each rendered Vega chart, how many drawn marks (paths, symbols, rects…) its SVG holds."""
    return pg.eval_on_selector_all(
        "[data-testid=stVegaLiteChart]",
        "els => els.map(e => e.querySelectorAll('g.mark-line path, g.mark-symbol path, g.mark-area path,"
        " g.mark-rect path, g.mark-rule line, g.mark-text text').length)",
    )


def assert_page_healthy(pg, n_charts: int) -> None:
    assert pg.locator("[data-testid=stException]").count() == 0
    pg.wait_for_function(
        f"document.querySelectorAll('[data-testid=stVegaLiteChart] svg').length >= {n_charts}", timeout=20_000
    )
    counts = chart_mark_counts(pg)
    assert len(counts) >= n_charts and all(c > 0 for c in counts), counts


def status(pg) -> str:
    return pg.locator("[data-testid=stAlert]").filter(has_text="step").first.inner_text()


def test_deep_link_on_a_cold_server_goes_through_the_router(page):
    proc, url = start_server()
    try:
        open_app(page, f"{url}/quadratic")
        # Before the first run the frontend lists the files; the run (rerouted) replaces them with the
        # router's titles. A cold server on a busy machine may not have started that run yet: wait for it.
        menu = "(document.querySelector('[data-testid=stSidebarNav]')?.innerText || '')"
        try:
            page.wait_for_function(f"{menu}.includes('Quadratic explorer')", timeout=30_000)
        except PlaywrightTimeout:  # the assertion below says what the menu shows
            pass
        nav = page.locator("[data-testid=stSidebarNav]").inner_text()
        assert "Quadratic explorer" in nav and "Home" in nav, nav  # the router's titles, not file names
    finally:
        stop_server(proc)


def test_home_page(page, server):
    open_app(page, server)
    assert_page_healthy(page, 1)
    screenshot(page, "home")


def test_quadratic_status_flips_across_eta_max(page, server):
    open_app(page, f"{server}/quadratic")
    assert_page_healthy(page, 1)
    assert "Converges" in page.get_by_text("Converges").first.inner_text()
    box = page.get_by_label("η (exact)")
    box.fill("2.05")
    box.press("Enter")
    wait_idle(page)
    page.get_by_text("Diverges").first.wait_for(timeout=10_000)
    assert_page_healthy(page, 1)
    screenshot(page, "quadratic-diverging", full=False)
    # The η_max button lands exactly on 2/λ_max = 2: oscillates forever.
    page.get_by_role("button", name="η = η_max").click()
    wait_idle(page)
    page.get_by_text("Oscillates forever").first.wait_for(timeout=10_000)
    assert page.get_by_label("η (exact)").input_value() == "2"
