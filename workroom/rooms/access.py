"""Who may do what in a room. A room you may not see answers exactly like one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import Select, bindparam, select

from workroom.accounts import Account
from workroom.db.driver import DriverStatement, columns_of, loaded
from workroom.errors import ApiError, forbidden, not_found
from workroom.rooms.log import Actor
from workroom.rooms.models import Member, Room

if TYPE_CHECKING:
    from workroom.services import Tx


@dataclass(frozen=True)
class Seat:
    """An account's place in one room: the room, its membership row and the role it acts in."""

    room: Room
    account: Account
    member: Member

    @property
    def role(self) -> str:
        return self.member.role

    @property
    def actor(self) -> Actor:
        return Actor(id=self.account.id, name=self.account.name, role=self.member.role)

    def require(self, roles: Iterable[str], action: str) -> None:
        allowed = tuple(roles)
        if self.role not in allowed:
            raise forbidden("role_not_allowed", f"Only the {' or '.join(allowed)} may {action}.")


def guest_access_ended() -> ApiError:
    return ApiError(403, "access_expired", "Your guest access to this room has ended.")


async def membership(tx: "Tx", room_id: str, account_id: str) -> Member | None:
    return await tx.session.scalar(select(Member).where(Member.room_id == room_id, Member.account_id == account_id))


async def party(tx: "Tx", room_id: str, role: str) -> Account:
    """The room's client or freelancer (every room has exactly one of each, for the record)."""
    if role not in ("client", "freelancer"):
        raise ValueError(f"not a party role: {role!r}")
    account = await tx.session.scalar(select(Account).join(Member, Member.account_id == Account.id)
                                      .where(Member.room_id == room_id, Member.role == role))
    if account is None:
        raise not_found()
    return account


def seat_query(*also: type, lock: bool) -> Select[Any]:
    """The columns of the room, the account's (`account_id`) membership in it (`room_id`) and
    `also`, in one round trip (see `seat_from`). A caller may inner-join what it needs beside the
    seat (`also`) to save a round trip.

    With `lock`, the room row is locked for an append (as `lock_room` does), and so is every other
    row read: on PostgreSQL a statement that waited for the room's lock returns the newest version
    of the rows it locked but its snapshot's version of the others, so a row left unlocked here
    could be the one a concurrent command just changed (a milestone released twice)."""
    query = (select(*columns_of(Room, Member, *also))
             .join(Member, (Member.room_id == Room.id) & (Member.account_id == bindparam("account_id")))
             .where(Room.id == bindparam("room_id")))
    if not lock:
        return query
    return query.with_for_update(of=[Room, Member, *also])


SEAT = DriverStatement(seat_query(lock=False))
LOCKED_SEAT = DriverStatement(seat_query(lock=True))


def seat_from(tx: "Tx", row: Sequence[Any] | None, account: Account, *also: type) -> tuple[Seat, list[Any]]:
    """The seat from a `seat_query(*also)` row (None when there was none) and the objects of `also`;
    or 404 (not a member) / 403 (a guest whose access ended)."""
    if row is None:
        raise not_found()
    room, member, *more = loaded(tx.orm, row, Room, Member, *also)
    if member.removed_at is not None:
        raise not_found()
    if member.expired_at(tx.now):
        raise guest_access_ended()
    return Seat(room=room, account=account, member=member), more


async def seat(tx: "Tx", room_id: str, account: Account, *, lock: bool = False) -> Seat:
    """The caller's seat in the room, or 404 (not a member) / 403 (a guest whose access ended).
    With `lock`, the room row is locked for an append (see `seat_query`)."""
    row = await (LOCKED_SEAT if lock else SEAT).fetchrow(tx, {"room_id": room_id, "account_id": account.id})
    return seat_from(tx, row, account)[0]


def require_service(account: Account) -> None:
    if account.kind != "service":
        raise forbidden("service_only", "Only the marketplace's service token may do this.")


def require_staff(account: Account) -> None:
    if not account.is_staff:
        raise forbidden("support_only", "Only support agents may do this.")
