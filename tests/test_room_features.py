"""Status reports, meetings, read markers and unread counts, archive, members and guests, status."""

from __future__ import annotations

from datetime import timedelta

from tests.people import Api


async def test_status_report_carries_percent_per_milestone(api: Api) -> None:
    room = await api.room()
    m1, m2 = (m["id"] for m in room.milestones)
    report = await api.ok("POST", f"/api/rooms/{room.id}/status-reports", room["freelancer"], json={
        "summary": "Concepts nearly done", "milestones": [{"id": m1, "percent_complete": 80},
                                                          {"id": m2, "percent_complete": 10}]})
    assert report["type"] == "status_report.submitted"
    assert [(m["id"], m["percent_complete"]) for m in report["data"]["milestones"]] == [(m1, 80), (m2, 10)]
    view = await api.ok("GET", f"/api/rooms/{room.id}", room["client"])
    assert [m["percent_complete"] for m in view["terms"]["milestones"]] == [80, 10]
    for bad, code in [({"id": m1, "percent_complete": 101}, "invalid_field"),
                      ({"id": "m_other", "percent_complete": 5}, "unknown_milestone"),
                      ({"id": m1, "percent_complete": 90, "add_to_billing": True}, "invalid_field")]:
        response = await api.call("POST", f"/api/rooms/{room.id}/status-reports", room["freelancer"],
                                  json={"summary": "x", "milestones": [bad]})
        assert response.status_code == 422 and response.json()["error"]["code"] == code


async def test_meeting_invite_and_answer(api: Api) -> None:
    room = await api.room(team=True)
    invite = await api.ok("POST", f"/api/rooms/{room.id}/meetings", room["freelancer"], json={
        "invitee": room["team"].id, "proposed_at": "2026-03-05T15:00:00Z", "note": "Walk through concepts"})
    assert invite["type"] == "meeting.invited" and invite["data"]["invitee"]["id"] == room["team"].id
    meeting = invite["data"]["meeting"]
    path = f"/api/rooms/{room.id}/meetings/{meeting}/respond"
    not_invitee = await api.call("POST", path, room["client"], json={"accept": True})
    assert not_invitee.status_code == 403 and not_invitee.json()["error"]["code"] == "not_invitee"
    accepted = await api.ok("POST", path, room["team"], json={"accept": True})
    assert accepted["type"] == "meeting.accepted" and accepted["data"]["meeting"] == meeting
    twice = await api.call("POST", path, room["team"], json={"accept": False})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_answered"
    outsider = await api.call("POST", f"/api/rooms/{room.id}/meetings", room["client"],
                              json={"invitee": "a_stranger"})
    assert outsider.status_code == 422 and outsider.json()["error"]["code"] == "unknown_member"


async def test_unread_counts_follow_the_reader_across_devices(api: Api) -> None:
    room = await api.room()
    for i in range(3):
        await api.post(room, room["client"], f"update {i}")
    await api.post(room, room["freelancer"], "my own post is never unread")
    laptop = room["freelancer"]
    phone = api.person(laptop.email, laptop.name)  # another token, another device, same account
    listing = await api.ok("GET", "/api/rooms", phone)
    assert [(r["id"], r["unread"]) for r in listing["rooms"]] == [(room.id, 4)]  # room.created + 3 posts
    assert (await api.ok("POST", f"/api/rooms/{room.id}/read", laptop, json={"seq": 3}))["seq"] == 3
    assert (await api.ok("GET", "/api/rooms", phone))["rooms"][0]["unread"] == 1
    assert (await api.ok("POST", f"/api/rooms/{room.id}/read", phone, json={"seq": 1}))["seq"] == 3  # never back
    await api.ok("POST", f"/api/rooms/{room.id}/read", phone, json={"seq": 5})
    assert (await api.ok("GET", "/api/rooms", laptop))["rooms"][0]["unread"] == 0


async def test_archive_is_per_user_bulk_and_only_in_allowed_statuses(api: Api) -> None:
    working = await api.room()
    client = working["client"]
    # A second and third job for the same client.
    second = await api.room()
    proposal = await api.room(status="proposal")
    ids = [working.id]
    for other in (second, proposal):
        await api.ok("POST", f"/api/rooms/{other.id}/members", other["client"],
                     json={"email": client.email, "name": client.name, "role": "team"})
    ids.append(second.id)
    done = await api.ok("POST", "/api/rooms/archive", client, json={"rooms": ids})
    assert sorted(done["rooms"]) == sorted(ids)
    mine = await api.ok("GET", "/api/rooms?archived=false", client)
    assert [r["id"] for r in mine["rooms"]] == [proposal.id]
    archived = await api.ok("GET", "/api/rooms?archived=true", client)
    assert sorted(r["id"] for r in archived["rooms"]) == sorted(ids)
    # The other party's list is unchanged.
    assert [r["id"] for r in (await api.ok("GET", "/api/rooms", working["freelancer"]))["rooms"]] == [working.id]
    refused = await api.call("POST", "/api/rooms/archive", client, json={"rooms": [proposal.id]})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_archivable"
    # All or nothing: one bad room leaves the good one unarchived.
    await api.ok("POST", "/api/rooms/unarchive", client, json={"rooms": [working.id]})
    mixed = await api.call("POST", "/api/rooms/archive", client, json={"rooms": [working.id, proposal.id]})
    assert mixed.status_code == 409
    assert working.id in [r["id"] for r in (await api.ok("GET", "/api/rooms", client))["rooms"]]
    empty = await api.call("POST", "/api/rooms/archive", client, json={"rooms": []})
    assert empty.status_code == 422


async def test_guest_access_ends_and_the_room_shows_it(api: Api) -> None:
    room = await api.room(guest_for=timedelta(days=3))
    guest = room["guest"]
    await api.post(room, guest, "Thanks for having me")
    await api.advance("P2DT23H")
    assert (await api.call("GET", f"/api/rooms/{room.id}", guest)).status_code == 200
    fired = await api.advance("PT1H")
    assert fired["timers_fired"] == 1
    locked = await api.call("GET", f"/api/rooms/{room.id}/events", guest)
    assert locked.status_code == 403 and locked.json()["error"]["code"] == "access_expired"
    post = await api.call("POST", f"/api/rooms/{room.id}/messages", guest, json={"body": "still here?"})
    assert post.status_code == 403
    events = await api.events(room, room["client"])
    assert events[-1]["type"] == "member.access_ended" and events[-1]["data"]["member"]["id"] == guest.id
    view = await api.ok("GET", f"/api/rooms/{room.id}", room["client"])
    assert {m["id"]: m["access"] for m in view["members"]}[guest.id] == "expired"


async def test_members_are_added_and_removed_by_the_client(api: Api) -> None:
    room = await api.room(team=True)
    guest_without_expiry = await api.call("POST", f"/api/rooms/{room.id}/members", room["client"],
                                          json={"email": "g@example.com", "name": "G", "role": "guest"})
    assert guest_without_expiry.status_code == 422
    twice = await api.call("POST", f"/api/rooms/{room.id}/members", room["client"],
                           json={"email": room["team"].email, "name": "T", "role": "team"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_member"
    removed = await api.ok("DELETE", f"/api/rooms/{room.id}/members/{room['team'].id}", room["client"])
    assert removed["type"] == "member.removed"
    assert (await api.call("GET", f"/api/rooms/{room.id}", room["team"])).status_code == 404
    party = await api.call("DELETE", f"/api/rooms/{room.id}/members/{room['freelancer'].id}", room["client"])
    assert party.status_code == 409


async def test_email_notifications_switch(api: Api) -> None:
    room = await api.room()
    assert (await api.ok("PATCH", f"/api/rooms/{room.id}/members/me", room["freelancer"],
                         json={"email_notifications": False})) == {"email_notifications": False}
    view = await api.ok("GET", f"/api/rooms/{room.id}", room["freelancer"])
    assert view["me"] == {"role": "freelancer", "email_notifications": False, "last_read_seq": 0}


async def test_award_complete_reopen(api: Api) -> None:
    room = await api.room(status="proposal")
    post = await api.post(room, room["freelancer"], "Here is my proposal")
    assert post["seq"] == 2
    awarded = await api.ok("POST", f"/api/rooms/{room.id}/award", api.marketplace)
    assert awarded["type"] == "room.awarded"
    assert (await api.ok("GET", f"/api/rooms/{room.id}", room["client"]))["status"] == "working"
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["freelancer"])
    by_freelancer = await api.call("POST", f"/api/rooms/{room.id}/reopen", room["freelancer"])
    assert by_freelancer.status_code == 403
    await api.advance("P14D")
    reopened = await api.ok("POST", f"/api/rooms/{room.id}/reopen", room["client"])
    assert reopened["type"] == "room.reopened"
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["client"])
    await api.advance("P14DT1S")
    late = await api.call("POST", f"/api/rooms/{room.id}/reopen", room["client"])
    assert late.status_code == 409 and late.json()["error"]["code"] == "reopen_window_closed"


async def test_room_view_tells_me_where_i_stopped_reading(api: Api) -> None:
    room = await api.room()
    await api.post(room, room["client"], "one")
    head = (await api.post(room, room["client"], "two"))["seq"]
    await api.ok("POST", f"/api/rooms/{room.id}/read", room["freelancer"], json={"seq": head - 1})
    view = await api.ok("GET", f"/api/rooms/{room.id}", room["freelancer"])
    assert view["me"]["last_read_seq"] == head - 1
