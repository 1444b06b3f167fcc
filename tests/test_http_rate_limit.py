"""A person's writes over HTTP are limited per minute, as a socket's posts are: past the limit a
write gets 429 `rate_limited` with Retry-After and changes nothing; reads go on; other people and
the marketplace's service account are not held back; a minute later (on the test clock) writes
are taken again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.people import Api
from workroom.config import ConfigError


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    return {"WORKROOM_HTTP_WRITES_PER_MINUTE": "3"}


async def test_the_fourth_write_in_a_minute_is_refused_and_changes_nothing(api: Api) -> None:
    room = await api.room()
    client, freelancer = room["client"], room["freelancer"]
    path = f"/api/rooms/{room.id}/messages"
    for n in range(3):
        await api.ok("POST", path, client, json={"body": f"Message {n}"})

    refused = await api.call("POST", path, client, json={"body": "One too many"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    bodies = [e["data"].get("body") for e in await api.events(room, client)]
    assert "One too many" not in bodies and bodies.count("Message 2") == 1
    # Reading is not writing; another person has a minute of their own; the marketplace is not limited.
    assert (await api.call("GET", f"/api/rooms/{room.id}", client)).status_code == 200
    await api.ok("POST", path, freelancer, json={"body": "Still here"})
    for _ in range(4):
        await api.room()

    await api.advance("PT61S")
    await api.ok("POST", path, client, json={"body": "A minute later"})
    assert "A minute later" in [e["data"].get("body") for e in await api.events(room, client)]


@pytest.mark.parametrize("raw", ["0", "-5", "many"])
def test_a_bad_write_limit_stops_start_up_naming_the_variable(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="WORKROOM_HTTP_WRITES_PER_MINUTE"):
        make_settings("sqlite+aiosqlite:///" + str(tmp_path / "x.db"), tmp_path,
                      WORKROOM_HTTP_WRITES_PER_MINUTE=raw)
