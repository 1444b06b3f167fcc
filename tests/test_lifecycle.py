"""The job as a whole (contract.md): proposal rooms, award, complete, reopen within 14 days,
cancelling a job not yet awarded, and per-user archiving of the statuses that allow it."""

from __future__ import annotations

from typing import Any

from tests.people import Api, Person, RoomSetup
from workroom.ids import new_id


async def proposal_rooms(api: Api, job_ref: str, candidates: int) -> tuple[Person, list[RoomSetup]]:
    """One client, one proposal room per candidate, all for the same job."""
    client = api.person(f"client-{new_id('p').lower()}@example.com", "Claire Client")
    rooms = []
    for n in range(candidates):
        freelancer = api.person(f"cand{n}-{new_id('p').lower()}@example.com", f"Candidate {n}")
        view = await api.ok("POST", "/api/rooms", api.marketplace, json={
            "title": "Logo redesign", "job_ref": job_ref, "kind": "fixed", "currency": "USD", "status": "proposal",
            "client": {"email": client.email, "name": client.name},
            "freelancer": {"email": freelancer.email, "name": freelancer.name}})
        await api.me(freelancer)
        rooms.append(RoomSetup(id=view["id"], view=view, people={"client": client, "freelancer": freelancer}))
    await api.me(client)
    return client, rooms


async def status_of(api: Api, room: RoomSetup, who: Person) -> str:
    return (await api.ok("GET", f"/api/rooms/{room.id}", who))["status"]  # type: ignore[no-any-return]


async def test_proposal_room_talks_then_award_starts_the_contract(api: Api) -> None:
    room = await api.room(status="proposal")
    await api.post(room, room["freelancer"], "Here is my proposal.")
    view = await api.ok("GET", f"/api/rooms/{room.id}", room["client"])
    assert view["status"] == "proposal" and view["started_at"] is None
    awarded = await api.ok("POST", f"/api/rooms/{room.id}/award", room["client"])
    assert awarded["type"] == "room.awarded" and awarded["data"]["status"] == "working"
    view = await api.ok("GET", f"/api/rooms/{room.id}", room["freelancer"])
    assert view["status"] == "working" and view["started_at"] == awarded["at"]
    again = await api.call("POST", f"/api/rooms/{room.id}/award", room["client"])
    assert again.status_code == 409


async def test_freelancer_cannot_award(api: Api) -> None:
    room = await api.room(status="proposal")
    response = await api.call("POST", f"/api/rooms/{room.id}/award", room["freelancer"])
    assert response.status_code == 403
    assert await status_of(api, room, room["client"]) == "proposal"


async def test_either_party_completes(api: Api) -> None:
    for who in ("client", "freelancer"):
        room = await api.room()
        done = await api.ok("POST", f"/api/rooms/{room.id}/complete", room[who])
        assert done["type"] == "room.completed" and done["actor"]["role"] == who
        assert done["data"]["reopen_until"] and done["data"]["feedback_until"]
        assert await status_of(api, room, room["client"]) == "complete"


async def test_completing_a_job_issues_the_closing_statement_to_both_parties(api: Api) -> None:
    room = await api.room()
    first, second = (m["id"] for m in room.milestones)
    await api.ok("POST", f"/api/rooms/{room.id}/milestones/{first}/fund", room["client"])
    await api.ok("POST", f"/api/rooms/{room.id}/milestones/{first}/release", room["client"])
    done = await api.ok("POST", f"/api/rooms/{room.id}/complete", room["freelancer"])
    events = await api.events(room, room["client"])
    issued = events[-1]
    assert [e["type"] for e in events[-2:]] == ["room.completed", "escrow.statement_issued"]
    assert issued["seq"] == done["seq"] + 1 and issued["data"]["notify"] == ["client", "freelancer"]
    doc = await api.ok("GET", f"/api/rooms/{room.id}/statement", room["freelancer"])
    assert issued["data"]["totals"] == doc["totals"] and doc["totals"]["releases"] == room.milestones[0]["amount"]
    assert issued["data"]["reconciles"] is True and issued["data"]["closing"] is True
    assert second not in {line["milestone"] for line in doc["lines"]}  # never funded: not on the statement


async def test_team_member_cannot_complete(api: Api) -> None:
    room = await api.room(team=True)
    response = await api.call("POST", f"/api/rooms/{room.id}/complete", room["team"])
    assert response.status_code == 403


async def test_reopen_on_day_14_is_allowed(api: Api) -> None:
    room = await api.room()
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["freelancer"])
    await api.advance("P14D")
    reopened = await api.ok("POST", f"/api/rooms/{room.id}/reopen", room["client"])
    assert reopened["type"] == "room.reopened"
    assert await status_of(api, room, room["freelancer"]) == "working"


async def test_reopen_on_day_15_is_refused(api: Api) -> None:
    room = await api.room()
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["freelancer"])
    await api.advance("P15D")
    response = await api.call("POST", f"/api/rooms/{room.id}/reopen", room["client"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "reopen_window_closed"
    assert await status_of(api, room, room["client"]) == "complete"


async def test_only_the_client_reopens(api: Api) -> None:
    room = await api.room()
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["client"])
    response = await api.call("POST", f"/api/rooms/{room.id}/reopen", room["freelancer"])
    assert response.status_code == 403


async def test_cancel_unawarded_job_posts_reason_to_every_proposal_room(api: Api) -> None:
    job = f"job-{new_id('j')}"
    client, rooms = await proposal_rooms(api, job, 3)
    result = await api.ok("POST", f"/api/jobs/{job}/cancel", client, json={"reason": "Budget was cut."})
    assert sorted(result["rooms"]) == sorted(r.id for r in rooms)
    for room in rooms:
        events = await api.events(room, room["freelancer"])
        last = events[-1]
        assert last["type"] == "room.cancelled"
        assert last["data"]["reason"] == "Budget was cut." and last["data"]["job_ref"] == job
        assert await status_of(api, room, room["freelancer"]) == "cancelled"
    again = await api.call("POST", f"/api/jobs/{job}/cancel", client, json={"reason": "again"})
    assert again.status_code == 409


async def test_cancel_job_needs_a_reason_and_the_client(api: Api) -> None:
    job = f"job-{new_id('j')}"
    client, rooms = await proposal_rooms(api, job, 2)
    missing = await api.call("POST", f"/api/jobs/{job}/cancel", client, json={})
    assert missing.status_code == 422
    candidate = await api.call("POST", f"/api/jobs/{job}/cancel", rooms[0]["freelancer"], json={"reason": "no"})
    assert candidate.status_code == 404  # a candidate is not the job's client: nothing of theirs to cancel
    unknown = await api.call("POST", "/api/jobs/no-such-job/cancel", client, json={"reason": "x"})
    assert unknown.status_code == 404
    for room in rooms:
        assert await status_of(api, room, client) == "proposal"


async def test_cancel_job_after_award_is_refused(api: Api) -> None:
    job = f"job-{new_id('j')}"
    client, rooms = await proposal_rooms(api, job, 2)
    await api.ok("POST", f"/api/rooms/{rooms[0].id}/award", client)
    response = await api.call("POST", f"/api/jobs/{job}/cancel", client, json={"reason": "changed my mind"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "job_awarded"
    assert await status_of(api, rooms[1], client) == "proposal"


async def test_marketplace_can_cancel_a_job(api: Api) -> None:
    job = f"job-{new_id('j')}"
    client, rooms = await proposal_rooms(api, job, 2)
    await api.ok("POST", f"/api/jobs/{job}/cancel", api.marketplace, json={"reason": "Job post expired."})
    for room in rooms:
        assert await status_of(api, room, client) == "cancelled"


async def listed(api: Api, who: Person, archived: bool) -> list[str]:
    rooms: list[dict[str, Any]] = (await api.ok("GET", f"/api/rooms?archived={str(archived).lower()}", who))["rooms"]
    return [r["id"] for r in rooms]


async def test_archive_is_per_user_and_bulk(api: Api) -> None:
    first, second = await api.room(), await api.room()
    await api.ok("POST", f"/api/rooms/{first.id}/complete", first["client"])
    before = (await api.events(first, first["freelancer"]))[-1]["seq"]
    await api.ok("POST", "/api/rooms/archive", first["client"], json={"rooms": [first.id]})
    assert first.id in await listed(api, first["client"], True)
    assert first.id not in await listed(api, first["client"], False)
    assert first.id in await listed(api, first["freelancer"], False)  # nothing changes for the other party
    assert (await api.events(first, first["freelancer"]))[-1]["seq"] == before  # and nothing is posted
    await api.ok("POST", "/api/rooms/unarchive", first["client"], json={"rooms": [first.id]})
    assert first.id in await listed(api, first["client"], False)
    await api.ok("POST", "/api/rooms/archive", second["freelancer"], json={"rooms": [second.id]})
    assert second.id in await listed(api, second["freelancer"], True)


async def test_bulk_archive_of_one_client_s_rooms(api: Api) -> None:
    job = f"job-{new_id('j')}"
    client, rooms = await proposal_rooms(api, job, 2)
    for room in rooms:
        await api.ok("POST", f"/api/rooms/{room.id}/award", client)
    ids = [r.id for r in rooms]
    result = await api.ok("POST", "/api/rooms/archive", client, json={"rooms": ids})
    assert result["archived"] is True
    assert set(ids) <= set(await listed(api, client, True))
    await api.ok("POST", "/api/rooms/unarchive", client, json={"rooms": ids})
    assert set(ids) <= set(await listed(api, client, False))


async def test_archiving_a_proposal_job_is_refused(api: Api) -> None:
    job = f"job-{new_id('j')}"
    client, rooms = await proposal_rooms(api, job, 2)
    await api.ok("POST", f"/api/rooms/{rooms[0].id}/award", client)
    # all or none: the working room is archivable, the proposal room is not, so neither is archived
    response = await api.call("POST", "/api/rooms/archive", client, json={"rooms": [rooms[0].id, rooms[1].id]})
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_archivable"
    assert rooms[1].id in response.json()["error"]["message"]
    assert await listed(api, client, True) == []


async def test_cancelled_job_can_be_archived(api: Api) -> None:
    job = f"job-{new_id('j')}"
    client, rooms = await proposal_rooms(api, job, 1)
    await api.ok("POST", f"/api/jobs/{job}/cancel", client, json={"reason": "Filled elsewhere."})
    await api.ok("POST", "/api/rooms/archive", rooms[0]["freelancer"], json={"rooms": [rooms[0].id]})
    assert rooms[0].id in await listed(api, rooms[0]["freelancer"], True)


async def test_archiving_a_job_in_dispute_is_refused(api: Api) -> None:
    room = await api.room()
    await api.ok("POST", f"/api/rooms/{room.id}/cancel", room["client"], json={"reason": "Not working out"})
    await api.ok("POST", f"/api/rooms/{room.id}/cancel/reject", room["freelancer"])
    assert await status_of(api, room, room["client"]) == "disputed"
    response = await api.call("POST", "/api/rooms/archive", room["client"], json={"rooms": [room.id]})
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_archivable"
    assert room.id not in await listed(api, room["client"], True)
