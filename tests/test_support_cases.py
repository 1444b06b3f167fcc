"""Support cases (support.md): an agent joins openly, opens a case with the server's research
summary, logs outreach over a 48-hour window that a timer closes in the room, relays messages,
grants courtesy credit (a ledger entry) with a lead's approval above $250 disputed, releases
contact details only with that approval, and ends the case with its outcome in the record."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.billing_steps import ok as billing_ok
from tests.money import release_payment
from tests.people import Api, Person, RoomSetup
from workroom.billing import ledger
from workroom.channels.broker import room_channel
from workroom.rooms.record import verify_export


async def case_on(api: Api, room: RoomSetup, disputed: int = 10000, **extra: Any) -> dict[str, Any]:
    return await api.ok("POST", f"/api/rooms/{room.id}/cases", room["support"], json={  # type: ignore[no-any-return]
        "complaint": "The freelancer stopped answering.", "wants": "A refund or a credit",
        "disputed_amount": disputed, **extra})


async def act(api: Api, case: dict[str, Any], action: str, who: Person, **body: Any) -> Any:
    return await api.call("POST", f"/api/cases/{case['id']}/{action}", who, json=body)


def lead(api: Api) -> Person:
    return api.person("lee-lead@support.example", "Lee Lead", "lead")


async def balances(api: Api, room: RoomSetup) -> dict[str, int]:
    """The job's ledger as the client sees it (`GET …/ledger`)."""
    return (await api.ok("GET", f"/api/rooms/{room.id}/ledger", room["client"]))["balances"]  # type: ignore[no-any-return]


async def test_unresponsive_freelancer_story(api: Api) -> None:
    room = await api.room()
    await api.post(room, room["freelancer"], "First concepts attached soon.")
    await release_payment(api, room, 30000)
    await api.post(room, room["client"], "Fred, are you there? It has been a week.")

    # the agent joins openly
    agent = api.person("sam@support.example", "Sam Support", "support")
    joined = await api.ok("POST", f"/api/rooms/{room.id}/support/join", agent)
    assert joined["type"] == "support.joined"
    await api.me(agent)
    room.people["support"] = agent

    # opens a case: the server gathers the research summary
    case = await case_on(api, room, disputed=70000)
    assert case["status"] == "open" and case["second_approval_required"] is True
    research = case["research"]
    assert research["contract"]["kind"] == "fixed"
    assert research["money"]["total_spend"] == 30000
    assert research["money"]["refunds"] == 0 and research["money"]["credits"] == 0
    assert research["parties"]["client"]["last_message"]["excerpt"].startswith("Fred, are you there?")
    assert research["parties"]["freelancer"]["last_message"]["excerpt"] == "First concepts attached soon."
    assert research["parties"]["client"]["last_payment"]["amount"] == 30000
    assert research["parties"]["freelancer"]["last_payment"] is None
    assert "delivered" in research["work_delivered"]
    assert research["courtesy_credit"]["suggested"] == 1500  # 5% of 300.00

    # logs outreach; 47 hours pass, then the 48th
    first = await act(api, case, "outreach", agent, party="freelancer", channel="email", responded=False)
    assert first.status_code == 201 and first.json()["data"]["window_closes_at"]
    await api.advance("PT20H")
    await act(api, case, "outreach", agent, party="freelancer", channel="phone", responded=False)
    await api.advance("PT27H")
    assert "case.outreach_closed" not in [e["type"] for e in await api.events(room, room["client"])]
    await api.advance("PT1H")
    closed = [e for e in await api.events(room, room["client"]) if e["type"] == "case.outreach_closed"]
    assert len(closed) == 1 and closed[0]["source"] == "system"
    assert closed[0]["data"]["attempts"] == 2
    # the client is offered the options
    assert [o["option"] for o in closed[0]["data"]["options"]] == ["close_contract", "leave_feedback", "move_on"]
    late = await act(api, case, "outreach", agent, party="freelancer", channel="sms", responded=False)
    assert late.status_code == 409 and late.json()["error"]["code"] == "outreach_closed"

    # a credit needs the lead's approval (more than $250 disputed), then is granted
    refused = await act(api, case, "credit", agent, amount=1500)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "approval_required"
    assert ledger.CLIENT_CREDIT not in await balances(api, room)
    approved = await act(api, case, "approve", lead(api), what="credit", amount=2000)
    assert approved.status_code == 201 and approved.json()["type"] == "case.approved"
    granted = await act(api, case, "credit", agent, amount=1500)
    assert granted.status_code == 201
    assert granted.json()["type"] == "case.credit_granted" and granted.json()["data"]["amount"] == 1500
    money = await balances(api, room)
    assert money[ledger.CLIENT_CREDIT] == 1500 and money[ledger.PLATFORM_EXPENSE] == -1500

    # the case resolves, with its outcome in the record
    resolved = await act(api, case, "resolve", agent, outcome="Client credited 15.00 and will re-post the job.")
    assert resolved.status_code == 200 and resolved.json()["type"] == "case.resolved"
    view = await api.ok("GET", f"/api/cases/{case['id']}", agent)
    assert view["status"] == "resolved" and view["research"]["money"]["credits"] == 1500

    # all of it is in the room's record, for the parties too, intact
    export = await api.ok("GET", f"/api/rooms/{room.id}/export", room["freelancer"])
    case_types = [e["type"] for e in export["events"] if e["type"].startswith(("case.", "support."))]
    assert case_types == ["support.joined", "case.opened", "case.outreach_logged", "case.outreach_logged",
                          "case.outreach_closed", "case.approved", "case.credit_granted", "case.resolved"]
    assert verify_export(export) == []
    credit_event = next(e for e in export["events"] if e["type"] == "case.credit_granted")
    postings = (await api.ok("GET", f"/api/rooms/{room.id}/ledger", room["freelancer"]))["postings"]
    credit_lines = [(p["account"], p["amount"], p["event_seq"]) for p in postings if p["kind"] == ledger.CREDIT]
    assert sorted(credit_lines) == [(ledger.CLIENT_CREDIT, 1500, credit_event["seq"]),
                                    (ledger.PLATFORM_EXPENSE, -1500, credit_event["seq"])]


async def test_non_agent_cannot_open_a_case(api: Api) -> None:
    room = await api.room(team=True)
    for who in ("client", "freelancer", "team"):
        response = await api.call("POST", f"/api/rooms/{room.id}/cases", room[who],
                                  json={"complaint": "x", "wants": "y", "disputed_amount": 100})
        assert response.status_code == 403 and response.json()["error"]["code"] == "support_only"


async def test_agent_joins_before_opening_a_case(api: Api) -> None:
    room = await api.room()
    agent = api.person("agent@support.example", "Ann Agent", "support")
    response = await api.call("POST", f"/api/rooms/{room.id}/cases", agent,
                              json={"complaint": "x", "wants": "y", "disputed_amount": 100})
    assert response.status_code == 409 and response.json()["error"]["code"] == "join_first"


async def test_one_open_case_per_room(api: Api) -> None:
    room = await api.room(support=True)
    await case_on(api, room)
    response = await api.call("POST", f"/api/rooms/{room.id}/cases", room["support"],
                              json={"complaint": "x", "wants": "y", "disputed_amount": 100})
    assert response.status_code == 409 and response.json()["error"]["code"] == "case_open"


async def test_case_opened_is_visible_to_the_parties_and_the_case_to_staff_only(api: Api) -> None:
    room = await api.room(support=True)
    case = await case_on(api, room)
    opened = [e for e in await api.events(room, room["freelancer"]) if e["type"] == "case.opened"]
    assert opened[0]["data"]["complaint"] == "The freelancer stopped answering."
    assert opened[0]["actor"]["role"] == "support"
    response = await api.call("GET", f"/api/cases/{case['id']}", room["client"])
    assert response.status_code == 403


async def test_credit_at_exactly_250_disputed_needs_no_approval(api: Api) -> None:
    room = await api.room(support=True)
    await release_payment(api, room, 30000)
    case = await case_on(api, room, disputed=25000)
    assert case["second_approval_required"] is False
    granted = await act(api, case, "credit", room["support"])  # no amount: the 5% suggestion
    assert granted.status_code == 201 and granted.json()["data"]["amount"] == 1500
    assert (await balances(api, room))[ledger.CLIENT_CREDIT] == 1500


async def test_credit_over_250_disputed_without_approval_is_refused(api: Api) -> None:
    room = await api.room(support=True)
    await release_payment(api, room, 30000)
    case = await case_on(api, room, disputed=25001)
    response = await act(api, case, "credit", room["support"], amount=500)
    assert response.status_code == 403 and response.json()["error"]["code"] == "approval_required"
    assert ledger.CLIENT_CREDIT not in await balances(api, room)
    assert "case.credit_granted" not in [e["type"] for e in await api.events(room, room["client"])]


async def test_approval_is_by_a_lead_and_single_use_within_its_amount(api: Api) -> None:
    room = await api.room(support=True)
    await release_payment(api, room, 30000)
    case = await case_on(api, room, disputed=90000)
    not_lead = await act(api, case, "approve", api.person("other@support.example", "Other Agent", "support"),
                         what="credit")
    assert not_lead.status_code == 403 and not_lead.json()["error"]["code"] == "lead_only"
    await act(api, case, "approve", lead(api), what="credit", amount=1000)
    over = await act(api, case, "credit", room["support"], amount=1001)
    assert over.status_code == 409
    assert (await act(api, case, "credit", room["support"], amount=1000)).status_code == 201
    again = await act(api, case, "credit", room["support"], amount=10)
    assert again.status_code == 403  # the approval was used by the first credit


async def test_a_lead_cannot_approve_their_own_case(api: Api) -> None:
    room = await api.room()
    boss = lead(api)
    await api.ok("POST", f"/api/rooms/{room.id}/support/join", boss)
    await api.me(boss)
    room.people["support"] = boss
    case = await case_on(api, room, disputed=90000)
    response = await act(api, case, "approve", boss, what="credit")
    assert response.status_code == 409 and response.json()["error"]["code"] == "second_approval_needed"


async def test_contact_details_need_a_lead_approval(api: Api) -> None:
    room = await api.room(support=True)
    case = await case_on(api, room)
    refused = await act(api, case, "contact-details", room["support"], party="freelancer")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "approval_required"
    assert room["freelancer"].email not in str(await api.events(room, room["client"]))
    await act(api, case, "approve", lead(api), what="contact_details", party="freelancer")
    released = await act(api, case, "contact-details", room["support"], party="freelancer")
    assert released.status_code == 201 and released.json()["data"]["email"] == room["freelancer"].email


async def test_party_responds_and_agent_relays(api: Api) -> None:
    room = await api.room(support=True)
    case = await case_on(api, room)
    await act(api, case, "outreach", room["support"], party="freelancer", channel="phone", responded=True)
    relayed = await act(api, case, "relay", room["support"], party="freelancer",
                        body="Fred says he was ill and will deliver on Friday.")
    assert relayed.status_code == 201
    message = relayed.json()
    assert message["type"] == "message.posted" and message["actor"]["role"] == "support"
    assert message["data"]["relayed"]["from"]["id"] == room["freelancer"].id
    await api.advance("PT49H")
    assert "case.outreach_closed" not in [e["type"] for e in await api.events(room, room["client"])]
    view = await api.ok("GET", f"/api/cases/{case['id']}", room["support"])
    assert view["outreach"]["state"] == "responded"


async def test_closed_case_takes_no_more_actions(api: Api) -> None:
    room = await api.room(support=True)
    case = await case_on(api, room)
    await act(api, case, "outreach", room["support"], party="freelancer", channel="email", responded=False)
    closed = await act(api, case, "close", room["support"], outcome="Client withdrew the complaint.")
    assert closed.json()["type"] == "case.closed"
    assert closed.json()["data"]["outcome"] == "Client withdrew the complaint."
    response = await act(api, case, "credit", room["support"], amount=100)
    assert response.status_code == 409 and response.json()["error"]["code"] == "case_ended"
    await api.advance("PT49H")  # the outreach timer was cancelled with the case
    assert "case.outreach_closed" not in [e["type"] for e in await api.events(room, room["client"])]
    # a new case may be opened now
    assert (await case_on(api, room))["status"] == "open"


async def test_case_events_are_published_live_after_commit(api: Api) -> None:
    """What the hub forwards to sockets: every case event, including the timer's, as stored."""
    room = await api.room(support=True)
    broker = api.services.broker
    await broker.subscribe(room_channel(room.id))
    case = await case_on(api, room)
    await act(api, case, "outreach", room["support"], party="freelancer", channel="email", responded=False)
    await api.advance("PT48H")
    stored = {e["seq"]: e for e in await api.events(room, room["client"]) if e["type"].startswith("case.")}
    published = []
    while len(published) < len(stored):
        message = await asyncio.wait_for(broker.next_published(), timeout=5)
        envelope = json.loads(message.message)
        if envelope["type"].startswith("case."):
            published.append(envelope)
    assert [e["type"] for e in published] == ["case.opened", "case.outreach_logged", "case.outreach_closed"]
    assert all(stored[e["seq"]] == e for e in published)


async def test_a_repeated_credit_request_moves_money_once(api: Api) -> None:
    room = await api.room(support=True)
    await release_payment(api, room, 30000)
    case = await case_on(api, room)
    headers = {"Idempotency-Key": "credit-once"}
    first = await api.call("POST", f"/api/cases/{case['id']}/credit", room["support"], json={"amount": 700},
                           headers=headers)
    again = await api.call("POST", f"/api/cases/{case['id']}/credit", room["support"], json={"amount": 700},
                           headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["seq"] == first.json()["seq"]
    ledger_view = await api.ok("GET", f"/api/rooms/{room.id}/ledger", room["support"])  # the agent reads billing
    assert ledger_view["balances"][ledger.CLIENT_CREDIT] == 700


async def test_research_counts_refunds_credits_and_delivery(api: Api) -> None:
    room = await api.room(support=True)
    concepts = room.milestones[0]["id"]
    await billing_ok(api, room, room["client"], concepts, "fund", payment_method="verified")
    await billing_ok(api, room, room["client"], concepts, "release", amount=10000)
    await billing_ok(api, room, room["freelancer"], concepts, "refund", amount=5000, reason="Scope cut")
    await api.ok("POST", f"/api/rooms/{room.id}/status-reports", room["freelancer"],
                 json={"summary": "Concepts done", "milestones": [{"id": concepts, "percent_complete": 100}]})
    case = await case_on(api, room)
    research = case["research"]
    assert research["money"]["total_spend"] == 10000 and research["money"]["refunds"] == 5000
    assert research["parties"]["freelancer"]["last_payment"]["amount"] == 5000  # the refund
    assert research["parties"]["client"]["last_payment"]["amount"] == 10000  # the release
    # 5% of what the client paid in (300.00 funded) less what went back (50.00): 12.50
    assert research["courtesy_credit"]["basis"] == 25000 and research["courtesy_credit"]["suggested"] == 1250
    assert research["work_delivered"]["delivered"] is True
    assert any("status report" in line for line in research["work_delivered"]["evidence"])
    await act(api, case, "credit", room["support"])
    view = await api.ok("GET", f"/api/cases/{case['id']}", room["support"])
    assert view["research"]["money"]["credits"] == 1250
    assert view["research_at_open"]["money"]["credits"] == 0
