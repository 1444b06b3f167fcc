"""Accounts: people known to the server. Created on first sight of a valid token, or when a
room names someone by email before they ever sign in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db.base import Base, UTCDateTime
from workroom.ids import new_id

KINDS = ("member", "support", "lead", "service")


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # `support` accounts are staff; `lead` is a senior agent who gives second approvals; `service`
    # is the marketplace itself.
    kind: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def is_staff(self) -> bool:
        return self.kind in ("support", "lead")

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "email": self.email, "kind": self.kind}


def normalize_email(email: str) -> str:
    return email.strip().lower()


# Sign-in and mail routing read accounts all the time: their statements are built once.
BY_EMAIL = select(Account).where(func.lower(Account.email) == bindparam("email"))
BY_TOKEN = (select(Account)
            .where(or_(Account.id == bindparam("sub"), func.lower(Account.email) == bindparam("email")))
            .order_by(case((Account.id == bindparam("sub"), 0), else_=1)).limit(1))


async def find_by_email(session: AsyncSession, email: str) -> Account | None:
    return await session.scalar(BY_EMAIL, {"email": normalize_email(email)})


async def account_for_email(session: AsyncSession, email: str, name: str, now: datetime) -> Account:
    """The account with this address, created if nobody has used it yet."""
    account = await find_by_email(session, email)
    if account is None:
        account = Account(id=new_id("a"), email=normalize_email(email), name=name, kind="member", created_at=now)
        session.add(account)
        await session.flush()
    return account


async def token_account(session: AsyncSession, sub: str, email: str) -> Account | None:
    """The existing account a token names: by id, else by email; one query."""
    return await session.scalar(BY_TOKEN, {"sub": sub, "email": normalize_email(email)})


async def account_for_token(
    session: AsyncSession, sub: str, email: str, name: str, kind: str, now: datetime
) -> Account:
    """The token's account: by id, else by email (the marketplace vouches for it), else new.
    The token's role is authoritative for staff status, so a promoted agent needs no migration."""
    account = await token_account(session, sub, email)
    if account is None:
        account = Account(id=sub, email=normalize_email(email), name=name, kind=kind, created_at=now)
        session.add(account)
        await session.flush()
    elif account.kind != kind:
        account.kind = kind
    return account
