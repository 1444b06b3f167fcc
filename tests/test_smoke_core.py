from tests.people import Api


async def test_room_created_and_message_posted(api: Api) -> None:
    room = await api.room()
    event = await api.post(room, room["client"], "Hello Fred")
    assert event["seq"] == 2 and event["type"] == "message.posted"
    assert event["actor"]["role"] == "client" and event["data"]["body"] == "Hello Fred"
    events = await api.events(room, room["freelancer"])
    assert [e["type"] for e in events] == ["room.created", "message.posted"]
