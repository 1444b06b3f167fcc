"""`workroom demo`: one fixed-price room with every kind of member and a few messages, and a
login link for each person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from workroom.accounts import Account, account_for_email
from workroom.auth import mint_token
from workroom.rooms import commands
from workroom.rooms.models import Room
from workroom.services import Services

DEMO_JOB = "demo-logo-redesign"

PEOPLE = {
    "client": ("claire@client.example", "Claire Client"),
    "freelancer": ("fred@freelancer.example", "Fred Freelancer"),
    "team": ("tom@client.example", "Tom Teammate"),
    "guest": ("gina@guest.example", "Gina Guest"),
    "support": ("sam@support.example", "Sam Support"),
}


@dataclass(frozen=True)
class DemoLink:
    role: str
    name: str
    email: str
    url: str


async def demo_exists(services: Services) -> bool:
    async with services.transaction() as tx:
        return await tx.session.scalar(select(Room.id).where(Room.job_ref == DEMO_JOB).limit(1)) is not None


async def seed_demo(services: Services) -> str:
    today = services.clock.now().date()
    async with services.transaction() as tx:
        marketplace = await account_for_email(tx.session, "marketplace@workroom.localhost", "Marketplace", tx.now)
        marketplace.kind = "service"
        accounts = {role: await account_for_email(tx.session, email, name, tx.now)
                    for role, (email, name) in PEOPLE.items()}
        accounts["support"].kind = "support"
    room = await commands.create_room(services, marketplace, commands.NewRoom(
        title="Logo redesign for Acme Bakery", kind="fixed", currency="USD", job_ref=DEMO_JOB,
        client=commands.NewParty(*PEOPLE["client"]), freelancer=commands.NewParty(*PEOPLE["freelancer"]),
        milestones=(
            commands.NewMilestone("Initial concepts", 30_000, today + timedelta(days=7)),
            commands.NewMilestone("Final artwork and brand sheet", 70_000, today + timedelta(days=21)),
        ),
    ))
    client, freelancer = accounts["client"], accounts["freelancer"]
    now = services.clock.now()
    await commands.add_member(services, client, room.id, *PEOPLE["team"], "team", None)
    await commands.add_member(services, client, room.id, *PEOPLE["guest"], "guest", now + timedelta(days=30))
    await commands.post_message(services, client, room.id,
                                "Welcome aboard, Fred! The brief is attached to the job post; the bakery loves warm colours.")
    await commands.post_message(services, freelancer, room.id,
                                "Thanks Claire. First concepts by next week. I'll file a status report every Friday.")
    await commands.post_message(services, accounts["team"], room.id,
                                "Hi both, Tom from Acme here. I'll be the one approving the artwork.")
    await commands.support_join(services, accounts["support"], room.id)
    await commands.post_message(services, accounts["support"], room.id,
                                "Sam from support: I'm here to help if you need anything on this contract.")
    return room.id


async def demo_links(services: Services) -> list[DemoLink]:
    links = []
    async with services.transaction() as tx:
        for role, (email, _name) in PEOPLE.items():
            account = await tx.session.scalar(select(Account).where(Account.email == email))
            assert account is not None, "seed the demo first"
            token = mint_token(services.settings.secret, sub=account.id, email=account.email, name=account.name,
                               role=account.kind, now=tx.now, ttl=timedelta(days=services.settings.token_ttl_days))
            links.append(DemoLink(role, account.name, account.email, f"{services.settings.base_url}/login?token={token}"))
    return links


