"""The checks the console's browser tests rely on can fail: axe and the overflow probe."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.browser.conftest import axe_violations, horizontal_overflow

_GOOD = (
    '<!doctype html><html lang="pt-BR"><head><title>ok</title></head>'
    "<body><main><h1>Olá</h1><p>Tudo certo.</p></main></body></html>"
)


def test_axe_and_the_overflow_probe_pass_a_sound_page_and_catch_broken_ones(
    browser: Browser,
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        page.set_content(_GOOD)
        assert (axe_violations(page), horizontal_overflow(page)) == ([], 0)

        page.set_content(_GOOD.replace("<p>Tudo certo.</p>", '<img src="data:,x">'))
        assert "image-alt" in {v["id"] for v in axe_violations(page)}

        page.set_content(_GOOD.replace("<p>", '<p style="width: 900px">'))
        assert horizontal_overflow(page) > 0
    finally:
        context.close()
