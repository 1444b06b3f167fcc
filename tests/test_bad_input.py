"""Each class of bad input gets its status and error code, and nothing already stored is lost."""

from __future__ import annotations

import pytest

from tests.people import Api


async def test_bad_json(api: Api) -> None:
    room = await api.room()
    response = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"], content=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_json"
    not_object = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"], json=["body"])
    assert not_object.status_code == 400 and not_object.json()["error"]["code"] == "bad_json"


@pytest.mark.parametrize("body,status,code", [
    ({}, 422, "empty_message"),
    ({"body": 42}, 422, "invalid_field"),
    ({"body": "   "}, 422, "empty_message"),
    ({"body": "x" * 20_001}, 413, "message_too_long"),
    ({"body": "hi", "files": "f_1"}, 422, "invalid_field"),
    ({"body": "hi", "files": ["f_unknown"]}, 422, "unknown_file"),
    ({"body": "hi", "client_id": 7}, 422, "invalid_field"),
])
async def test_bad_messages(api: Api, body: dict, status: int, code: str) -> None:  # type: ignore[type-arg]
    room = await api.room()
    await api.post(room, room["client"], "kept")
    response = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"], json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
    assert [e["data"].get("body") for e in await api.events(room, room["client"])] == [None, "kept"]


@pytest.mark.parametrize("change,status,code", [
    (lambda b: b.pop("title"), 422, "missing_field"),
    (lambda b: b.update(title="t" * 201), 422, "too_long"),
    (lambda b: b.update(kind="weekly"), 422, "invalid_field"),
    (lambda b: b.update(currency="usd"), 422, "invalid_field"),
    (lambda b: b.update(client="claire"), 422, "invalid_field"),
    (lambda b: b["client"].update(email="not-an-email"), 422, "invalid_field"),
    (lambda b: b["freelancer"].update(email=b["client"]["email"]), 422, "invalid_field"),
    (lambda b: b.update(milestones=[{"title": "M", "amount": -5}]), 422, "invalid_field"),
    (lambda b: b.update(milestones=[{"title": "M", "amount": "500"}]), 422, "invalid_field"),
    (lambda b: b.update(milestones=[{"title": "M", "amount": 5, "due_date": "next week"}]), 422, "invalid_field"),
    (lambda b: b.update(status="complete"), 422, "invalid_field"),
])
async def test_bad_room_specs(api: Api, change, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    body = {"title": "Logo", "kind": "fixed", "currency": "USD",
            "client": {"email": "c@example.com", "name": "C"}, "freelancer": {"email": "f@example.com", "name": "F"}}
    change(body)
    response = await api.call("POST", "/api/rooms", api.marketplace, json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_unknown_ids_and_paths(api: Api) -> None:
    room = await api.room()
    client = room["client"]
    for method, path, body in [
        ("GET", "/api/rooms/r_nope", None),
        ("GET", "/api/files/f_nope", None),
        ("POST", f"/api/rooms/{room.id}/meetings/mt_nope/respond", {"accept": True}),
        ("DELETE", f"/api/rooms/{room.id}/members/a_nope", None),
    ]:
        response = await api.call(method, path, client, json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"].endswith("not_found")
    unknown_route = await api.call("GET", "/api/nothing-here", client)
    assert unknown_route.status_code == 404 and unknown_route.json()["error"]["code"] == "not_found"
    wrong_method = await api.call("PUT", f"/api/rooms/{room.id}/messages", client)
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("query,code", [("since=-1", "invalid_field"), ("since=abc", "invalid_field"),
                                        ("limit=0", "invalid_field"), ("limit=501", "invalid_field")])
async def test_bad_paging(api: Api, query: str, code: str) -> None:
    room = await api.room()
    response = await api.call("GET", f"/api/rooms/{room.id}/events?{query}", room["client"])
    assert response.status_code == 422 and response.json()["error"]["code"] == code


async def test_state_conflicts_are_409(api: Api) -> None:
    room = await api.room(status="proposal")
    response = await api.call("POST", f"/api/rooms/{room.id}/complete", room["client"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_status"
    read_ahead = await api.call("POST", f"/api/rooms/{room.id}/read", room["client"], json={"seq": 99})
    assert read_ahead.status_code == 422


async def test_an_oversized_json_body_is_413(api: Api) -> None:
    room = await api.room()
    response = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"],
                              content=b'{"body": "' + b"x" * (1024 * 1024 + 10) + b'"}',
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
