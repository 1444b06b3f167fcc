"""Safety: user content is text, never markup (XSS payloads in a message, a file name, a room
title and a display name stay inert); links are clickable only for http(s); the page is served
with a CSP that forbids inline script; cookie sessions refuse cross-site writes."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import Pages, open_room
from tests.browser.live import LiveServer
from tests.people import Api

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAYLOADS = {
    "message": '<img src=x onerror="window.__xss=\'message\'"><script>window.__xss="script"</script>',
    "file": "<img src=x onerror=window.__xss='file'>.png",
    "title": "<svg onload=window.__xss='title'>Bakery</svg>",
    "name": "<img src=x onerror=window.__xss='name'>Eve",
}


async def test_xss_payloads_in_message_file_name_title_and_display_name_are_inert(api: Api, pages: Pages) -> None:
    setup = await api.room(title=PAYLOADS["title"],
                           freelancer={"email": f"xss-{id(api)}@example.com", "name": PAYLOADS["name"]})
    freelancer = api.person(f"xss-{id(api)}@example.com", PAYLOADS["name"])
    await api.me(freelancer)
    upload = await api.ok("POST", f"/api/rooms/{setup.id}/files", freelancer,
                          files={"file": (PAYLOADS["file"], b"\x89PNG fake", "image/png")})
    await api.post(setup, freelancer, PAYLOADS["message"], files=[upload["id"]])
    await api.post(setup, freelancer, "see javascript:window.__xss='link' and https://example.com/a?b=<i>c</i> ok")

    page = await open_room(pages, setup["client"], setup.id)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.wait_for_selector(".type-message-posted .file")
    await page.wait_for_timeout(300)  # give any injected handler its chance to run

    assert await page.evaluate("window.__xss") is None
    assert dialogs == []
    # Each payload is shown literally, as the text people typed.
    assert await page.locator(".room-title").inner_text() == PAYLOADS["title"]
    assert PAYLOADS["message"] in await page.locator(".type-message-posted .body").first.inner_text()
    assert await page.locator(".type-message-posted .file").inner_text() == PAYLOADS["file"]
    assert PAYLOADS["name"] in await page.locator(".byline .author").all_inner_texts()
    assert PAYLOADS["name"] in await page.locator(".members").inner_text()
    # No element the payloads describe exists anywhere in the page.
    assert await page.locator("main img, main svg, main script").count() == 0
    # Only the http(s) URL became a link, opened without an opener or referrer.
    links = page.locator(".type-message-posted .body a")
    assert await links.count() == 1
    assert await links.first.get_attribute("href") == "https://example.com/a?b="  # a link ends at "<"
    assert await links.first.get_attribute("rel") == "noopener noreferrer nofollow"
    assert await page.locator("a[href^='javascript']").count() == 0
    # The document title is text too.
    assert PAYLOADS["title"] in await page.title()


async def test_page_and_static_files_carry_a_csp_without_inline_script(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url) as http:
        for path in ("/", "/static/app.js", "/static/style.css"):
            response = await http.get(path)
            assert response.status_code == 200, path
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
        page = (await http.get("/")).text
        assert "<script>" not in page and " on" not in page.split("<body>")[1].replace(" only", "")


async def test_inline_script_is_refused_by_the_browser(api: Api, pages: Pages) -> None:
    setup = await api.room()
    page = await open_room(pages, setup["client"], setup.id)
    # Even if markup got in somehow, the CSP stops inline handlers from running.
    await page.evaluate("""() => { const d = document.createElement('div');
        d.setAttribute('onclick', 'window.__inline = 1'); document.body.append(d); d.click(); }""")
    assert await page.evaluate("window.__inline") is None


async def test_cookie_session_refuses_cross_site_writes(api: Api, live: LiveServer) -> None:
    setup = await api.room()
    async with httpx.AsyncClient(base_url=live.url) as browser_like:
        await browser_like.get(f"/login?token={setup['client'].token}")
        assert browser_like.cookies.get("workroom_session")
        path = f"/api/rooms/{setup.id}/messages"
        evil = await browser_like.post(path, json={"body": "forged"}, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403 and evil.json()["error"]["code"] == "cross_site_request"
        no_origin = await browser_like.post(path, json={"body": "forged"})
        assert no_origin.status_code == 403
        ours = await browser_like.post(path, json={"body": "from our page"}, headers={"Origin": live.url})
        assert ours.status_code == 201
    bodies = [e["data"]["body"] for e in await api.events(setup, setup["client"]) if e["type"] == "message.posted"]
    assert bodies == ["from our page"]
