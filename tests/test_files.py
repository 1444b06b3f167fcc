"""Files: streamed to disk, sha256 recorded, members-only attachment downloads, 413 over the limit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.people import Api
from workroom.services import Services

LIMIT = 64 * 1024


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    return {"WORKROOM_MAX_UPLOAD_BYTES": str(LIMIT)}


async def test_upload_share_and_download(api: Api, services: Services) -> None:
    room = await api.room()
    content = b"%PDF-1.4 brief " + bytes(range(256)) * 100
    uploaded = await api.ok("POST", f"/api/rooms/{room.id}/files", room["client"],
                            files={"file": ("Brief ü.pdf", content, "application/pdf")})
    assert uploaded["name"] == "Brief ü.pdf" and uploaded["size"] == len(content)
    assert uploaded["sha256"] == hashlib.sha256(content).hexdigest()
    event = await api.post(room, room["client"], "The brief", files=[uploaded["id"]])
    assert event["data"]["files"] == [uploaded]
    download = await api.call("GET", f"/api/files/{uploaded['id']}", room["freelancer"])
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    stranger = api.person("stranger@example.com")
    assert (await api.call("GET", f"/api/files/{uploaded['id']}", stranger)).status_code == 404


async def test_over_the_limit_is_413_and_leaves_nothing(api: Api, services: Services) -> None:
    room = await api.room()
    response = await api.call("POST", f"/api/rooms/{room.id}/files", room["client"],
                              files={"file": ("big.bin", b"x" * (LIMIT + 1), "application/octet-stream")})
    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"
    stored = [p for p in Path(services.settings.upload_dir).rglob("*") if p.is_file()]
    assert stored == []
    at_limit = await api.call("POST", f"/api/rooms/{room.id}/files", room["client"],
                              files={"file": ("ok.bin", b"x" * LIMIT, "application/octet-stream")})
    assert at_limit.status_code == 201


async def test_upload_refusals(api: Api) -> None:
    room = await api.room()
    not_multipart = await api.call("POST", f"/api/rooms/{room.id}/files", room["client"], json={"file": "x"})
    assert not_multipart.status_code == 400 and not_multipart.json()["error"]["code"] == "not_multipart"
    wrong_field = await api.call("POST", f"/api/rooms/{room.id}/files", room["client"],
                                 files={"attachment": ("a.txt", b"hi", "text/plain")})
    assert wrong_field.status_code == 422 and wrong_field.json()["error"]["code"] == "missing_field"
    stranger = api.person("stranger@example.com")
    hidden = await api.call("POST", f"/api/rooms/{room.id}/files", stranger, files={"file": ("a.txt", b"hi")})
    assert hidden.status_code == 404


async def test_a_file_from_another_room_cannot_be_attached(api: Api) -> None:
    room, other = await api.room(), await api.room()
    uploaded = await api.ok("POST", f"/api/rooms/{other.id}/files", other["client"], files={"file": ("a.txt", b"hi")})
    response = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"],
                              json={"body": "see", "files": [uploaded["id"]]})
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_file"


async def test_path_parts_in_file_names_are_dropped(api: Api) -> None:
    room = await api.room()
    uploaded = await api.ok("POST", f"/api/rooms/{room.id}/files", room["client"],
                            files={"file": ("../../etc/passwd", b"root", "text/plain")})
    assert uploaded["name"] == "passwd"
