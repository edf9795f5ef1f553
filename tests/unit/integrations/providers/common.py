"""What every provider model shares: the shape of an answer and Juju-style secret IDs."""

from __future__ import annotations

import base64
import dataclasses
import hashlib


@dataclasses.dataclass(frozen=True)
class Answer:
    """What the provider writes: its databags and the secrets it grants."""

    app: dict[str, str]
    secrets: dict[str, dict[str, str]]
    units: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)


def secret_id(seed: str) -> str:
    """A Juju-style secret URI (20 base32hex characters), the same for the same seed."""
    digest = hashlib.sha256(seed.encode()).digest()[:15]
    return "secret:" + base64.b32hexencode(digest).decode().lower()[:20]
