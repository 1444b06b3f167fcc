"""The email bridge: room events mailed out, replies mailed back into the room.

Kept apart like Zulip's email_mirror: parsing (bytes -> InboundMail, no I/O),
routing (InboundMail -> room and member), posting (through the core's commands).
"""
