"""python-socketio + AsyncRedisManager chat peer: the smallest honest chat app on that stack.

Run from this folder: `uvicorn chat_asgi:app`. Env: REDIS_URL. Rooms are Socket.IO rooms;
a post is emitted to the room through the Redis manager, so it reaches every process.
Nothing is stored and nobody is authenticated.
"""
import os

import socketio

manager = socketio.AsyncRedisManager(os.environ["REDIS_URL"])
sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager, cors_allowed_origins="*",
                           transports=["websocket"])


@sio.on("subscribe")
async def subscribe(sid: str, data: dict) -> None:
    room = str(data.get("room", ""))
    await sio.enter_room(sid, room)
    await sio.emit("subscribed", {"room": room}, to=sid)


@sio.on("post")
async def post(sid: str, data: dict) -> None:
    room = str(data.get("room", ""))
    await sio.emit("event", {"type": "event", "room": room, "data": {"body": data.get("body")}},
                   room=room)
    await sio.emit("ack", {"type": "ack", "client_id": data.get("client_id")}, to=sid)


app = socketio.ASGIApp(sio)
