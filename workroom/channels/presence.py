"""Who is online in a room: not stored in the database, and fading by itself when a process dies.

Each hub process announces the accounts it has sockets for, per room. The memory backend serves one
process. The Redis backend keeps one sorted set per room whose members are (process, account)
pairs scored by an expiry time; every process refreshes its own pairs on each health check, and
readers ignore (and prune) expired pairs, so a SIGKILLed process's people go offline within
`presence_ttl_seconds` without anybody cleaning up after it.
"""

from __future__ import annotations

import json
import time
from typing import Protocol, cast

import redis.asyncio as redis


class Presence(Protocol):
    async def join(self, room_id: str, account: dict[str, str]) -> None: ...

    async def leave(self, room_id: str, account: dict[str, str]) -> None: ...

    async def online(self, room_id: str) -> list[dict[str, str]]: ...

    async def refresh(self, here: dict[str, dict[str, dict[str, str]]]) -> list[str]:
        """Renew this process's pairs (room -> account id -> account); returns rooms whose set
        changed because some other process's pairs expired."""


class MemoryPresence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, dict[str, str]]] = {}

    async def join(self, room_id: str, account: dict[str, str]) -> None:
        self._rooms.setdefault(room_id, {})[account["id"]] = account

    async def leave(self, room_id: str, account: dict[str, str]) -> None:
        room = self._rooms.get(room_id, {})
        room.pop(account["id"], None)
        if not room:
            self._rooms.pop(room_id, None)

    async def online(self, room_id: str) -> list[dict[str, str]]:
        return sorted(self._rooms.get(room_id, {}).values(), key=lambda a: a["id"])

    async def refresh(self, here: dict[str, dict[str, dict[str, str]]]) -> list[str]:
        return []


class RedisPresence:
    def __init__(self, client: redis.Redis, *, prefix: str, node: str, ttl_seconds: int) -> None:
        self.client = client
        self.prefix = prefix
        self.node = node
        self.ttl = ttl_seconds

    def _key(self, room_id: str) -> str:
        return f"{self.prefix}presence:{room_id}"

    def _member(self, account: dict[str, str]) -> str:
        return json.dumps([self.node, account["id"], account.get("name", "")])

    async def join(self, room_id: str, account: dict[str, str]) -> None:
        key = self._key(room_id)
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {self._member(account): time.time() + self.ttl})
            pipe.expire(key, self.ttl * 2)
            await pipe.execute()

    async def leave(self, room_id: str, account: dict[str, str]) -> None:
        await self.client.zrem(self._key(room_id), self._member(account))

    async def online(self, room_id: str) -> list[dict[str, str]]:
        members = await self.client.zrangebyscore(self._key(room_id), time.time(), "+inf")
        people: dict[str, dict[str, str]] = {}
        for member in cast("list[str | bytes]", members):  # no scores asked for: plain members
            _, who, name = json.loads(member)
            people[who] = {"id": who, "name": name}
        return sorted(people.values(), key=lambda a: a["id"])

    async def refresh(self, here: dict[str, dict[str, dict[str, str]]]) -> list[str]:
        now = time.time()
        async with self.client.pipeline(transaction=False) as pipe:
            for room_id, accounts in here.items():
                key = self._key(room_id)
                if accounts:
                    pipe.zadd(key, {self._member(a): now + self.ttl for a in accounts.values()})
                    pipe.expire(key, self.ttl * 2)
                pipe.zremrangebyscore(key, "-inf", now)
            results = await pipe.execute()
        changed = []
        index = 0
        for room_id, accounts in here.items():
            index += 2 if accounts else 0
            if results[index]:
                changed.append(room_id)
            index += 1
        return changed
