"""Accounts: people known to the server. Created on first sight of a valid token, or when a
room names someone by email before they ever sign in."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db.base import Base, UTCDateTime
from workroom.db.driver import DriverStatement, columns_of, loaded
from workroom.ids import new_id

if TYPE_CHECKING:
    from workroom.services import Tx

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


# Sign-in and mail routing read accounts all the time: their statements are built once. Every
# request signs in, by token or by cookie: those two reads run on the driver (`workroom.db.driver`).
BY_EMAIL = select(Account).where(func.lower(Account.email) == bindparam("email"))
BY_TOKEN = DriverStatement(
    select(*columns_of(Account))
    .where(or_(Account.id == bindparam("sub"), func.lower(Account.email) == bindparam("email")))
    .order_by(case((Account.id == bindparam("sub"), 0), else_=1)).limit(1))
BY_ID = DriverStatement(select(*columns_of(Account)).where(Account.id == bindparam("id")))


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


async def account_by_id(tx: "Tx", account_id: str) -> Account | None:
    row = await BY_ID.fetchrow(tx, {"id": account_id})
    return loaded(tx.orm, row, Account)[0] if row is not None else None


async def token_account(tx: "Tx", sub: str, email: str) -> Account | None:
    """The existing account a token names: by id, else by email; one query."""
    row = await BY_TOKEN.fetchrow(tx, {"sub": sub, "email": normalize_email(email)})
    return loaded(tx.orm, row, Account)[0] if row is not None else None


async def account_for_token(tx: "Tx", sub: str, email: str, name: str, kind: str) -> Account:
    """The token's account: by id, else by email (the marketplace vouches for it), else new.
    The token's role is authoritative for staff status, so a promoted agent needs no migration."""
    account = await token_account(tx, sub, email)
    if account is None:
        account = Account(id=sub, email=normalize_email(email), name=name, kind=kind, created_at=tx.now)
        tx.session.add(account)
        await tx.session.flush()
    elif account.kind != kind:
        account.kind = kind
    return account
