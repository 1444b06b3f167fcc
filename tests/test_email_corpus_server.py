"""The whole corpus through the real SMTP server and processor: each mail's outcome as its
sidecar says (post / hold / refuse / ignore / bounce / 552 / 550), and what was posted."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.email_corpus.cases import DOMAIN, ROOM_TAG, TOKENS, CorpusCase, grown, load_cases
from tests.email_helpers import send_raw
from tests.people import Api
from workroom.accounts import find_by_email
from workroom.email_bridge import tokens
from workroom.email_bridge.install import bridge_of
from workroom.email_bridge.models import OutboxMail, ReceivedMail
from workroom.rooms.models import Event
from workroom.services import Services

CASES = load_cases()
PEOPLE = {
    "client": ("carla@acme.example", "Carla Client"),
    "freelancer": ("frank@freelance.example", "Frank Freelancer"),
    "guest": ("gita@guestmail.example", "Gita Guest"),
    "expired_guest": ("eddie@guestmail.example", "Eddie Expired"),
    "removed_member": ("rita@acme.example", "Rita Removed"),
}


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    return {"WORKROOM_MAIL_DOMAIN": DOMAIN, "WORKROOM_MAX_INBOUND_MAIL_BYTES": "1000000",
            "WORKROOM_MAIL_BATCH_SECONDS": "0"}


async def corpus_room(api: Api, services: Services) -> str:
    """The room every corpus mail is about, with its fixed tag and reply tokens."""
    client = api.person(*PEOPLE["client"])
    room = await api.ok("POST", "/api/rooms", api.marketplace, json={
        "title": "Logo redesign", "kind": "fixed", "currency": "USD",
        "client": {"email": PEOPLE["client"][0], "name": PEOPLE["client"][1]},
        "freelancer": {"email": PEOPLE["freelancer"][0], "name": PEOPLE["freelancer"][1]},
        "milestones": [{"title": "Concepts", "amount": 30000, "due_date": "2026-03-20"}]})
    await api.me(client)
    now = services.clock.now()
    for key, role, days in (("guest", "guest", 30), ("expired_guest", "guest", 1), ("removed_member", "team", None)):
        email, name = PEOPLE[key]
        body = {"email": email, "name": name, "role": role}
        if days:
            body["expires_at"] = (now + timedelta(days=days)).isoformat()
        await api.ok("POST", f"/api/rooms/{room['id']}/members", client, json=body)
    async with services.transaction() as tx:
        await tokens.room_tag(tx, room["id"], fixed=ROOM_TAG)
        for key, raw in TOKENS.items():
            account = await find_by_email(tx.session, PEOPLE[key][0])
            assert account is not None
            await tokens.member_token(tx, services.settings.secret, room["id"], account.id, raw=raw)
    rita = await _account_id(services, PEOPLE["removed_member"][0])
    await api.ok("DELETE", f"/api/rooms/{room['id']}/members/{rita}", client, status=(200, 201, 204))
    services.clock.advance(timedelta(days=2))  # Eddie's guest access has ended
    return str(room["id"])


async def _account_id(services: Services, email: str) -> str:
    async with services.transaction() as tx:
        account = await find_by_email(tx.session, email)
        assert account is not None
        return account.id


async def test_every_corpus_mail_gets_its_expected_outcome(api: Api, services: Services, smtp_port: int) -> None:
    room_id = await corpus_room(api, services)
    processor = bridge_of(services).processor
    failures = []
    for case in CASES:
        try:
            await _check_case(services, smtp_port, processor, room_id, case)
        except AssertionError as error:
            failures.append(f"{case.name}: {error}")
    assert not failures, "\n".join(failures)


async def _check_case(services: Services, port: int, processor: object, room_id: str, case: CorpusCase) -> None:
    raw = grown(case)
    results = [await send_raw(port, raw, case.mail_from, case.rcpt_to)
               for _ in range(case.expected.get("send_times", 1))]
    if case.outcome == "reject_rcpt":
        assert (results[0].stage, results[0].code) == ("rcpt", 550), results[0]
        assert results[0].message.startswith("5.1.1")
        return
    if case.outcome == "reject_size":
        assert results[0].code == 552, results[0]
        return
    assert all(result.code == 250 for result in results), results
    await processor.wait_idle()  # type: ignore[attr-defined]
    ids = [int(re.search(r"queued as (\d+)", result.message).group(1)) for result in results]  # type: ignore[union-attr]
    async with services.transaction() as tx:
        rows = [await tx.session.get(ReceivedMail, mail_id) for mail_id in ids]
        assert all(row is not None and row.status == "done" for row in rows), [r.status for r in rows if r]
        first = rows[0]
        assert first.outcome == case.outcome, f"outcome {first.outcome!r} ({first.detail})"
        for repeat in rows[1:]:
            assert repeat.outcome == "duplicate", repeat.outcome
        if case.outcome == "post":
            await _check_post(tx, room_id, first.event_seq, case)
        if case.outcome == "hold":
            owner = [key for key, token in TOKENS.items() if token in case.expected.get("rcpt_tokens", [])][0]
            notices = list(await tx.session.scalars(select(OutboxMail).where(
                OutboxMail.kind == "notice", OutboxMail.to_address == PEOPLE[owner][0])))
            assert any(case.expected["text"] in (n.body_text or "") for n in notices), "owner not told"
        if case.outcome == "bounce":
            notices = list(await tx.session.scalars(select(OutboxMail).where(
                OutboxMail.kind == "notice", OutboxMail.to_address == case.mail_from,
                OutboxMail.subject.startswith("Not delivered to a room"))))
            assert len(notices) == 1 and "the subject has no room tag" in (notices[0].body_text or "")
        if case.outcome != "post":
            posted = await tx.session.scalar(select(Event).where(
                Event.room_id == room_id, Event.source == "email", Event.seq == first.event_seq))
            assert first.event_seq is None and posted is None


async def _check_post(tx: object, room_id: str, seq: int | None, case: CorpusCase) -> None:
    assert seq is not None
    event = await tx.session.get(Event, (room_id, seq))  # type: ignore[attr-defined]
    envelope = json.loads(event.envelope)
    assert envelope["type"] == "message.posted" and envelope["source"] == "email"
    assert envelope["actor"]["name"] == PEOPLE[case.expected["author"]][1]
    assert envelope["data"]["body"] == case.expected["text"].strip()
    names = [f["name"] for f in envelope["data"]["files"]]
    assert names == [a["filename"] for a in case.expected.get("attachments", [])]
