"""Who is asking: users and their roles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    name: str
    roles: frozenset[str]

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


# Actors that are not people: what the engine did on its own, and pushes nobody asked for in chat.
SYSTEM = User("promobot", frozenset())
