"""Browser tests: Debian's Chromium (never a downloaded browser) driven by Playwright, against a
real server process. One browser and one server per test module keep them fast."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from tests.conftest import missing
from tests.browser.live import LiveServer, RemoteServices
from tests.people import Api, Person

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def need_chromium() -> None:
    if not CHROMIUM.exists():
        missing("Chromium (/usr/bin/chromium)", "browser tests need Debian's Chromium (`apt-get install chromium`)")


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    need_chromium()
    with tempfile.TemporaryDirectory(prefix="workroom-browser-") as root:
        server = LiveServer(Path(root))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(live: LiveServer) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(live: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=live.url, timeout=20) as client:
        yield Api(client, RemoteServices(live.settings))  # type: ignore[arg-type]


class Pages:
    """Signed-in pages, each in its own browser context (its own cookies: its own person)."""

    def __init__(self, browser: object, live: LiveServer) -> None:
        self.browser = browser
        self.live = live
        self.contexts: list[object] = []
        self.problems: list[str] = []

    async def open(self, person: Person | None, path: str = "/", *, width: int = 1200, height: int = 900) -> object:
        context = await self.browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        if person is not None:
            await page.goto(f"{self.live.url}/login?token={person.token}")
        if path != "/" or person is None:
            await page.goto(f"{self.live.url}{path}")
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()  # type: ignore[attr-defined]


@pytest_asyncio.fixture(loop_scope="module")
async def pages(browser: object, live: LiveServer) -> AsyncIterator[Pages]:
    opened = Pages(browser, live)
    yield opened
    await opened.close()
    assert not opened.problems, opened.problems


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


async def open_room(pages: Pages, person: Person, room_id: str, **size: int) -> object:
    page = await pages.open(person, f"/#/room/{room_id}", **size)
    await page.wait_for_selector(".timeline li.event")  # type: ignore[attr-defined]
    return page


async def shown_bodies(page: object) -> list[str]:
    return await page.locator(".type-message-posted .body").all_inner_texts()  # type: ignore[attr-defined,no-any-return]
