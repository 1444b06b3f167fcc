"""Opaque, prefixed ids (`r_…` rooms, `a_…` accounts): short, URL-safe, unguessable."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(9).replace('-', 'x').replace('_', 'z')}"
