"""Django Channels + channels_redis chat peer: the smallest honest chat app on that stack.

Run from this folder: `uvicorn chat_asgi:application`. Env: REDIS_URL, CHANNEL_LAYER
(`pubsub` = channels_redis.pubsub.RedisPubSubChannelLayer, the default and the faster for
groups; `core` = channels_redis.core.RedisChannelLayer). Same JSON frames as Workroom's /ws,
but nothing is stored and nobody is authenticated.
"""
import json
import os

import django
from django.conf import settings

LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    INSTALLED_APPS=["channels"],
    ASGI_APPLICATION="chat_asgi.application",
    CHANNEL_LAYERS={"default": {
        "BACKEND": LAYERS[os.environ.get("CHANNEL_LAYER", "pubsub")],
        "CONFIG": {"hosts": [os.environ["REDIS_URL"]]},
    }},
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.rooms: set[str] = set()
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for room in self.rooms:
            await self.channel_layer.group_discard(f"room.{room}", self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            msg = json.loads(text_data or "")
        except ValueError:
            await self.send(json.dumps({"type": "error", "code": "bad_json", "message": "not JSON"}))
            return
        op, room = msg.get("op"), str(msg.get("room", ""))
        if op == "subscribe":
            await self.channel_layer.group_add(f"room.{room}", self.channel_name)
            self.rooms.add(room)
            await self.send(json.dumps({"type": "subscribed", "room": room}))
        elif op == "post":
            # serialised once per post; every socket in the group is sent the same text
            frame = json.dumps({"type": "event", "room": room, "data": {"body": msg.get("body")}})
            await self.channel_layer.group_send(f"room.{room}", {"type": "chat.event", "frame": frame})
            await self.send(json.dumps({"type": "ack", "client_id": msg.get("client_id")}))
        elif op == "ping":
            await self.send('{"type": "pong"}')
        else:
            await self.send(json.dumps({"type": "error", "code": "unknown_op", "message": str(op)}))

    async def chat_event(self, event: dict) -> None:
        await self.send(text_data=event["frame"])


application = ProtocolTypeRouter({
    "websocket": URLRouter([path("ws/", ChatConsumer.as_asgi())]),
})
