"""Feedback (feedback.md): end-of-job feedback after a release within 60 days, immutable; the
three mid-contract rules at their edges; freelancer requests expiring after 14 days; private
comments that only staff read; all of a contract's feedback together; the work history."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.billing_steps import advance
from tests.money import release_payment
from tests.people import Api, Person, RoomSetup


async def feedback(api: Api, room: RoomSetup, who: Person, rating: int = 5, comment: str = "Great work",
                   **extra: Any) -> Any:
    return await api.call("POST", f"/api/rooms/{room.id}/feedback", who,
                          json={"rating": rating, "comment": comment, **extra})


async def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


async def completed_with_release(api: Api, **extra: Any) -> RoomSetup:
    room = await api.room(**extra)
    await release_payment(api, room, 30000)
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["freelancer"])
    return room


# --- end of job ---------------------------------------------------------------------------------

async def test_each_party_leaves_public_feedback_on_the_other(api: Api) -> None:
    room = await completed_with_release(api)
    client_fb = await feedback(api, room, room["client"], 5, "Fast and careful.")
    assert client_fb.status_code == 201
    event = client_fb.json()
    assert event["type"] == "feedback.left" and event["data"]["kind"] == "final"
    assert event["data"]["subject"]["id"] == room["freelancer"].id and event["data"]["rating"] == 5
    freelancer_fb = await feedback(api, room, room["freelancer"], 4, "Clear brief, paid on time.")
    assert freelancer_fb.json()["data"]["subject"]["id"] == room["client"].id
    types = [e["type"] for e in await api.events(room, room["freelancer"])]
    assert types.count("feedback.left") == 2


async def test_feedback_twice_is_refused_and_the_first_stands(api: Api) -> None:
    room = await completed_with_release(api)
    assert (await feedback(api, room, room["client"], 5, "Lovely")).status_code == 201
    await refused(await feedback(api, room, room["client"], 1, "Changed my mind"), 409, "feedback_already_given")
    listed = await api.ok("GET", f"/api/rooms/{room.id}/feedback", room["freelancer"])
    assert [(f["rating"], f["comment"]) for f in listed["feedback"]] == [(5, "Lovely")]


async def test_feedback_with_no_release_is_refused(api: Api) -> None:
    room = await api.room()
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["client"])
    await refused(await feedback(api, room, room["client"]), 409, "no_payment_released")
    await refused(await feedback(api, room, room["freelancer"]), 409, "no_payment_released")


async def test_feedback_window_open_on_day_60(api: Api) -> None:
    room = await completed_with_release(api)
    await advance(api, room, "P60D")
    assert (await feedback(api, room, room["client"])).status_code == 201


async def test_feedback_window_closed_on_day_61(api: Api) -> None:
    room = await completed_with_release(api)
    await advance(api, room, "P61D")
    await refused(await feedback(api, room, room["client"]), 409, "feedback_window_closed")
    await refused(await feedback(api, room, room["freelancer"]), 409, "feedback_window_closed")


async def cancelled(api: Api, room: RoomSetup) -> None:
    await api.ok("POST", f"/api/rooms/{room.id}/cancel", room["client"], json={"reason": "Budget cut", "refund": 0})
    await api.ok("POST", f"/api/rooms/{room.id}/cancel/confirm", room["freelancer"])


async def test_a_job_cancelled_after_a_release_takes_end_of_job_feedback_for_60_days(api: Api) -> None:
    room = await api.room()
    await release_payment(api, room, 30000)
    await cancelled(api, room)
    view = await api.ok("GET", f"/api/rooms/{room.id}/feedback", room["client"])
    assert view["eligibility"]["final"] == {"eligible": True, "unmet": []}
    left = await feedback(api, room, room["client"], 3, "Good start, then our budget went.")
    assert left.status_code == 201 and left.json()["data"]["kind"] == "final"
    await advance(api, room, "P61D")
    await refused(await feedback(api, room, room["freelancer"]), 409, "feedback_window_closed")


async def test_a_job_cancelled_before_any_release_takes_no_feedback(api: Api) -> None:
    room = await api.room()
    await cancelled(api, room)
    await refused(await feedback(api, room, room["client"]), 409, "no_payment_released")
    await refused(await feedback(api, room, room["freelancer"]), 409, "no_payment_released")


async def test_only_the_parties_leave_feedback(api: Api) -> None:
    room = await completed_with_release(api, team=True, support=True)
    await refused(await feedback(api, room, room["team"]), 403, "role_not_allowed")
    await refused(await feedback(api, room, room["support"]), 403, "role_not_allowed")


async def test_invite_only_client_may_hide_job_details(api: Api) -> None:
    room = await completed_with_release(api, invite_only=True, title="Secret rebrand")
    await refused(await feedback(api, room, room["freelancer"], hide_job_details=True), 422, "invalid_field")
    assert (await feedback(api, room, room["client"], 5, "Superb", hide_job_details=True)).status_code == 201
    history = await api.ok("GET", f"/api/accounts/{room['freelancer'].id}/work-history", room["client"])
    contract = next(c for c in history["contracts"] if c["room"] == room.id)
    assert contract["title"] is None and contract["job_details_hidden"] is True
    assert "Secret rebrand" not in str(history)
    assert contract["feedback"][0]["comment"] == "Superb"


async def test_public_job_cannot_hide_details(api: Api) -> None:
    room = await completed_with_release(api)
    await refused(await feedback(api, room, room["client"], hide_job_details=True), 422, "invalid_field")


# --- mid-contract: the three rules at their edges -------------------------------------------------

async def test_mid_contract_refused_on_day_29_since_start(api: Api) -> None:
    room = await api.room()
    await advance(api, room, "P29D")
    await release_payment(api, room, 30000)
    await refused(await feedback(api, room, room["client"]), 409, "contract_too_new")


async def test_mid_contract_allowed_on_day_30_since_start(api: Api) -> None:
    room = await api.room()
    await advance(api, room, "P30D")
    await release_payment(api, room, 30000)
    response = await feedback(api, room, room["client"], 4, "Good progress so far")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["kind"] == "mid_contract" and data["counts_toward_success_score"] is False
    assert (await api.ok("GET", f"/api/rooms/{room.id}", room["client"]))["status"] == "working"  # not ended


async def test_mid_contract_with_payment_30_days_ago(api: Api) -> None:
    room = await api.room()
    await advance(api, room, "P10D")
    await release_payment(api, room, 30000)
    await advance(api, room, "P30D")
    assert (await feedback(api, room, room["client"])).status_code == 201


async def test_mid_contract_refused_with_payment_31_days_ago(api: Api) -> None:
    room = await api.room()
    await advance(api, room, "P10D")
    await release_payment(api, room, 30000)
    await advance(api, room, "P31D")
    await refused(await feedback(api, room, room["client"]), 409, "no_recent_payment")


async def test_mid_contract_refused_29_days_after_last_feedback(api: Api) -> None:
    room = await api.room()
    await advance(api, room, "P30D")
    await release_payment(api, room, 30000)
    assert (await feedback(api, room, room["client"])).status_code == 201
    await advance(api, room, "P20D")
    await release_payment(api, room, 30000)
    await advance(api, room, "P9D")
    await refused(await feedback(api, room, room["client"]), 409, "feedback_too_recent")


async def test_mid_contract_allowed_30_days_after_last_feedback(api: Api) -> None:
    room = await api.room()
    await advance(api, room, "P30D")
    await release_payment(api, room, 30000)
    assert (await feedback(api, room, room["client"])).status_code == 201
    await advance(api, room, "P20D")
    await release_payment(api, room, 30000)
    await advance(api, room, "P10D")
    assert (await feedback(api, room, room["client"], 3, "Slower this month")).status_code == 201
    listed = await api.ok("GET", f"/api/rooms/{room.id}/feedback", room["freelancer"])
    assert [f["kind"] for f in listed["feedback"]] == ["mid_contract", "mid_contract"]


async def test_freelancer_cannot_leave_mid_contract_feedback(api: Api) -> None:
    room = await api.room()
    await advance(api, room, "P30D")
    await release_payment(api, room, 30000)
    await refused(await feedback(api, room, room["freelancer"]), 403, "role_not_allowed")


async def test_no_feedback_on_a_proposal(api: Api) -> None:
    room = await api.room(status="proposal")
    await refused(await feedback(api, room, room["client"]), 409, "invalid_status")


# --- requests ---------------------------------------------------------------------------------

async def eligible_room(api: Api) -> RoomSetup:
    room = await api.room()
    await advance(api, room, "P30D")
    await release_payment(api, room, 30000)
    return room


async def request(api: Api, room: RoomSetup, who: Person) -> Any:
    return await api.call("POST", f"/api/rooms/{room.id}/feedback/request", who)


async def test_request_needs_the_same_eligibility(api: Api) -> None:
    room = await api.room()
    await advance(api, room, "P29D")
    await refused(await request(api, room, room["freelancer"]), 409, "contract_too_new")
    await advance(api, room, "P1D")
    await refused(await request(api, room, room["freelancer"]), 409, "no_recent_payment")
    await refused(await request(api, room, room["client"]), 403, "role_not_allowed")


async def test_request_still_open_on_day_14_and_fulfilled(api: Api) -> None:
    room = await eligible_room(api)
    asked = await request(api, room, room["freelancer"])
    assert asked.status_code == 201 and asked.json()["type"] == "feedback.requested"
    await advance(api, room, "P14D")
    await refused(await request(api, room, room["freelancer"]), 409, "request_pending")
    types = [e["type"] for e in await api.events(room, room["client"])]
    assert "feedback.request_expired" not in types
    given = await feedback(api, room, room["client"], 5, "As requested: excellent")
    assert given.json()["data"]["request"] == asked.json()["data"]["request"]
    listed = await api.ok("GET", f"/api/rooms/{room.id}/feedback", room["freelancer"])
    assert listed["requests"][0]["status"] == "fulfilled"


async def test_request_expired_on_day_15_and_can_be_made_again(api: Api) -> None:
    room = await eligible_room(api)
    first = (await request(api, room, room["freelancer"])).json()
    await advance(api, room, "P15D")
    events = await api.events(room, room["freelancer"])
    expired = [e for e in events if e["type"] == "feedback.request_expired"]
    assert len(expired) == 1 and expired[0]["data"]["request"] == first["data"]["request"]
    assert expired[0]["source"] == "system"
    again = await request(api, room, room["freelancer"])
    assert again.status_code == 201 and again.json()["data"]["request"] != first["data"]["request"]
    listed = await api.ok("GET", f"/api/rooms/{room.id}/feedback", room["client"])
    assert [r["status"] for r in listed["requests"]] == ["expired", "pending"]


async def test_request_again_refused_when_no_longer_eligible(api: Api) -> None:
    room = await eligible_room(api)
    await request(api, room, room["freelancer"])
    await advance(api, room, "P31D")  # the request expired, and the last payment is now too old
    await refused(await request(api, room, room["freelancer"]), 409, "no_recent_payment")


# --- all feedback together, and the work history --------------------------------------------------

async def test_mid_and_final_listed_together_and_history_excludes_mid_from_score(api: Api) -> None:
    room = await eligible_room(api)
    assert (await feedback(api, room, room["client"], 1, "Rough first month")).status_code == 201
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["client"])
    assert (await feedback(api, room, room["client"], 5, "Turned it around")).status_code == 201
    listed = await api.ok("GET", f"/api/rooms/{room.id}/feedback", room["freelancer"])
    assert [(f["kind"], f["rating"]) for f in listed["feedback"]] == [("mid_contract", 1), ("final", 5)]

    stranger = api.person("someone@example.com")
    history = await api.ok("GET", f"/api/accounts/{room['freelancer'].id}/work-history", stranger)
    contract = next(c for c in history["contracts"] if c["room"] == room.id)
    assert contract["title"] == "Logo redesign"
    marks = [(f["kind"], f["mid_contract"], f["counts_toward_success_score"]) for f in contract["feedback"]]
    assert marks == [("mid_contract", True, False), ("final", False, True)]
    assert history["success_score"] == {"based_on": 1, "average_rating": 5.0, "satisfied_percent": 100}


async def test_work_history_pages_through_every_contract_once_newest_first(api: Api) -> None:
    fay = api.person("fay-history@example.com", "Fay Freelancer")
    made = []
    for n in range(5):
        made.append((await api.ok("POST", "/api/rooms", api.marketplace, json={
            "title": f"Job {n}", "kind": "fixed", "currency": "USD", "status": "working",
            "client": {"email": f"client{n}-history@example.com", "name": f"Client {n}"},
            "freelancer": {"email": fay.email, "name": fay.name},
            "milestones": [{"title": "All of it", "amount": 10000, "due_date": "2026-12-01"}]}))["id"])
        if n % 2:
            await api.advance("PT1H")  # two by two in the same hour: pages must not split a tie wrongly
    proposal = await api.ok("POST", "/api/rooms", api.marketplace, json={
        "title": "Not awarded", "kind": "fixed", "currency": "USD", "status": "proposal",
        "client": {"email": "client-p-history@example.com", "name": "Client P"},
        "freelancer": {"email": fay.email, "name": fay.name}})
    await api.me(fay)
    stranger = api.person("reader-history@example.com")

    pages, after = [], None
    while True:
        query = "?limit=2" + (f"&after={quote(after)}" if after else "")
        page = await api.ok("GET", f"/api/accounts/{fay.id}/work-history{query}", stranger)
        pages.append([c["room"] for c in page["contracts"]])
        assert page["success_score"]["based_on"] == 0
        after = page["next"]
        if after is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    listed = [room for p in pages for room in p]
    whole = await api.ok("GET", f"/api/accounts/{fay.id}/work-history", stranger)
    assert [c["room"] for c in whole["contracts"]] == listed and whole["next"] is None
    assert sorted(listed) == sorted(made)  # each contract once; the proposal is no contract
    assert proposal["id"] not in listed
    newest_first = sorted(whole["contracts"], key=lambda c: (c["started_at"], c["room"]), reverse=True)
    assert listed == [c["room"] for c in newest_first]


async def test_work_history_refuses_a_bad_page(api: Api) -> None:
    room = await api.room()
    stranger = api.person("someone@example.com")
    path = f"/api/accounts/{room['freelancer'].id}/work-history"
    for query, field in (("?limit=0", "limit"), ("?limit=100000", "limit"), ("?limit=two", "limit"),
                         ("?after=yesterday", "after")):
        response = await api.call("GET", path + query, stranger)
        assert response.status_code == 422, (query, response.text)
        assert response.json()["error"]["code"] == "invalid_field"
        assert field in response.json()["error"]["message"]


async def test_work_history_of_unknown_account_is_404(api: Api) -> None:
    stranger = api.person("someone@example.com")
    response = await api.call("GET", "/api/accounts/a_nobody/work-history", stranger)
    assert response.status_code == 404


# --- private comments -----------------------------------------------------------------------------

async def test_private_comment_is_never_visible_to_the_freelancer(api: Api) -> None:
    room = await api.room(support=True, team=True)
    secret = "Between us: he missed three calls."
    sent = await api.ok("POST", f"/api/rooms/{room.id}/private-comments", room["client"], json={"body": secret})
    assert sent["visibility"] == "staff"
    for who in ("freelancer", "team"):
        response = await api.call("GET", f"/api/rooms/{room.id}/private-comments", room[who])
        assert response.status_code == 403
        assert secret not in str(await api.events(room, room[who]))
        assert secret not in (await api.call("GET", f"/api/rooms/{room.id}/export", room[who])).text
        assert secret not in (await api.call("GET", f"/api/rooms/{room.id}/feedback", room[who])).text
    history = await api.call("GET", f"/api/accounts/{room['freelancer'].id}/work-history", room["freelancer"])
    assert secret not in history.text
    staff = await api.ok("GET", f"/api/rooms/{room.id}/private-comments", room["support"])
    assert [c["body"] for c in staff["comments"]] == [secret]
    own = await api.ok("GET", f"/api/rooms/{room.id}/private-comments", room["client"])
    assert [c["body"] for c in own["comments"]] == [secret]


async def test_private_comment_any_time_even_before_feedback_is_possible(api: Api) -> None:
    room = await api.room()
    response = await api.call("POST", f"/api/rooms/{room.id}/private-comments", room["client"], json={"body": "Early worry"})
    assert response.status_code == 201


async def test_only_the_client_sends_private_comments(api: Api) -> None:
    room = await api.room()
    response = await api.call("POST", f"/api/rooms/{room.id}/private-comments", room["freelancer"],
                              json={"body": "About the client"})
    assert response.status_code == 403


async def test_final_feedback_answers_an_open_request(api: Api) -> None:
    room = await eligible_room(api)
    asked = (await request(api, room, room["freelancer"])).json()
    await api.ok("POST", f"/api/rooms/{room.id}/complete", room["client"])
    given = await feedback(api, room, room["client"], 5, "Wrapping up: excellent")
    assert given.json()["data"]["kind"] == "final" and given.json()["data"]["request"] == asked["data"]["request"]
    await advance(api, room, "P15D")
    assert "feedback.request_expired" not in [e["type"] for e in await api.events(room, room["freelancer"])]
