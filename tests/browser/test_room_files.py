"""Files: by picker or by drag and drop, each with an upload progress bar; the file opens for
the other party, byte for byte."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import Pages, open_room
from tests.people import Api

pytestmark = pytest.mark.asyncio(loop_scope="module")

WATCH_PROGRESS = """() => { window.__progress = [];
  new MutationObserver((changes) => { for (const c of changes) if (c.target.tagName === 'PROGRESS')
    window.__progress.push(Number(c.target.value)); })
  .observe(document.querySelector('.uploads'), {attributes: true, subtree: true, attributeFilter: ['value']}); }"""


async def test_upload_by_picker_with_progress_then_the_other_party_opens_it(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Brand files")
    content = os.urandom(3 * 1024 * 1024)
    client_page = await open_room(pages, setup["client"], setup.id)
    free_page = await open_room(pages, setup["freelancer"], setup.id)

    await client_page.evaluate(WATCH_PROGRESS)
    await client_page.locator("input[type=file]").set_input_files(
        files=[{"name": "brief final.pdf", "mimeType": "application/pdf", "buffer": content}])
    upload = client_page.locator(".upload")
    await upload.locator(".upload-state:has-text('ready')").wait_for()
    assert await upload.locator("progress").get_attribute("value") == "1"
    progress = await client_page.evaluate("window.__progress")
    assert progress and progress[-1] == 1 and progress == sorted(progress)
    await client_page.get_by_role("textbox", name="Message").fill("Brief attached")
    await client_page.get_by_role("textbox", name="Message").press("Enter")

    link = free_page.locator(".type-message-posted a.file:has-text('brief final.pdf')")
    await link.wait_for()
    async with free_page.expect_download() as info:
        await link.click()
    download = await info.value
    assert download.suggested_filename == "brief final.pdf"
    with open(await download.path(), "rb") as saved:
        assert saved.read() == content


async def test_upload_by_drag_and_drop(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Dropped files")
    page = await open_room(pages, setup["freelancer"], setup.id)
    await page.evaluate("""() => { const data = new DataTransfer();
        data.items.add(new File(['first concepts'], 'concepts.txt', {type: 'text/plain'}));
        document.querySelector('.room-main').dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true})); }""")
    await page.locator(".upload .upload-state:has-text('ready')").wait_for()
    await page.get_by_role("button", name="Send").click()
    await page.locator(".type-message-posted a.file:has-text('concepts.txt')").wait_for()
    events = await api.events(setup, setup["client"])
    files = [f for e in events if e["type"] == "message.posted" for f in e["data"]["files"]]
    assert [(f["name"], f["size"]) for f in files] == [("concepts.txt", len("first concepts"))]
