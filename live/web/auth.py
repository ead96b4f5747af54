"""Signed link tokens (no accounts) and participant identities.

A token says: this bearer has `role` for `scope` (one session id, or "*" for the whole event) until
`expires`. It is HMAC-SHA256 signed with the service's secret, so it cannot be forged or widened;
rotating the secret revokes every link, and a generation (live/web/revocation.py) the links of one
role for one session or for the event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from live.domain import Role
from live.views import Audience
from live.web.revocation import Generations

EVENT_SCOPE = "*"
# A short address's code: letters and digits that cannot be misread for one another (no 0/o, 1/l/i).
SHORT_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
SHORT_CHARS = 7
MAX_TOKEN_CHARS = 768  # a guest link's, the longest, carries a name of up to 60 characters

AUDIENCE_OF_ROLE = {
    Role.PARTICIPANT: Audience.PARTICIPANT,
    Role.MODERATOR: Audience.MODERATOR,
    Role.ADMIN: Audience.MODERATOR,
    Role.STAGE: Audience.STAGE,
    Role.STUDIO: Audience.STAGE,
    # They read what the stage shows (the question being answered, the poll) to speak or write it.
    Role.INTERPRETER: Audience.STAGE,
    Role.CAPTIONER: Audience.STAGE,
    # A remote guest sees what the stage shows too: the question they are asked, the poll.
    Role.GUEST: Audience.STAGE,
}


class InvalidToken(Exception):
    """Missing, malformed, forged or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    scope: str
    expires: int
    # A personal participant link's registrant (`live.registrants`): the participant is that
    # registrant, whatever the device. None for the public link and every other role.
    registrant: str | None = None
    # An interpreter link's language: the channel it may publish and the booth it belongs to.
    language: str | None = None
    # A guest link's guest: its id, and the name the studio gave it (live/domain/production.py).
    guest: str | None = None
    name: str | None = None

    # The link generation it was signed with, and for an event-wide link the sessions it no
    # longer covers (their links of this role were revoked on their own).
    generation: int = 0
    excluded: frozenset[str] = frozenset()

    def covers(self, session_id: str) -> bool:
        return self.scope in (EVENT_SCOPE, session_id) and session_id not in self.excluded


# Personal (registrant) links share the public link's role and scope, but are revoked apart from
# it: revoking a leaked public link must not cut every registrant off.
REGISTRANT_GENERATION = "registrant"


def _generation_role(role: Role, registrant: str | None) -> str:
    return REGISTRANT_GENERATION if registrant is not None else role.value


class Signer:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("tribune-links:" + secret).encode()).digest()
        self.generations = Generations()  # kept current by a revocation.Refresher

    def _mac(self, purpose: str, payload: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode() + b"\0" + payload, hashlib.sha256).digest()[:18]

    def issue(self, role: Role, scope: str, expires: int, *, registrant: str | None = None,
              language: str | None = None, guest: tuple[str, str] | None = None) -> str:
        """`guest`: a guest link's (id, name)."""
        fields: dict[str, object] = {"r": role.value, "s": scope, "x": expires}
        generation = self.generations.of(_generation_role(role, registrant), scope)
        if generation:  # absent while 0: the links signed before any revocation stay the same
            fields["g"] = generation
        if registrant is not None:
            fields["p"] = registrant
        if language is not None:
            fields["l"] = language
        if guest is not None:
            fields["i"], fields["n"] = guest
        # UTF-8, not \u escapes: a guest's name in any script keeps the link short.
        payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{_b64(payload)}.{_b64(self._mac('token', payload))}"

    def verify(self, token: object, now: float) -> Grant:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise InvalidToken("malformed token")
        body, mac = token.split(".")
        try:
            payload, given = _unb64(body), _unb64(mac)
        except ValueError:
            raise InvalidToken("malformed token") from None
        if not hmac.compare_digest(given, self._mac("token", payload)):
            raise InvalidToken("bad signature")
        try:
            data = json.loads(payload)
            registrant, language = data.get("p"), data.get("l")
            guest, name = data.get("i"), data.get("n")
            grant = Grant(Role(data["r"]), str(data["s"]), int(data["x"]),
                          None if registrant is None else str(registrant),
                          None if language is None else str(language),
                          None if guest is None else str(guest),
                          None if name is None else str(name))
        except (ValueError, KeyError, TypeError, AttributeError):  # AttributeError: not an object
            raise InvalidToken("malformed token") from None
        if grant.expires < now:
            raise InvalidToken("expired token")
        return self._current(grant, data.get("g", 0))

    def _current(self, grant: Grant, generation: object) -> Grant:
        """The grant with its generation, unless its links were revoked since it was signed."""
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise InvalidToken("malformed token")
        role = _generation_role(grant.role, grant.registrant)
        if generation < self.generations.of(role, grant.scope):
            raise InvalidToken("revoked link")
        excluded = (self.generations.sessions_with_own(role)
                    if grant.scope == EVENT_SCOPE else frozenset())
        return replace(grant, generation=generation, excluded=excluded)

    def revoked(self, grant: Grant, session_id: str) -> bool:
        """Whether a grant checked earlier no longer holds for `session_id` (revoked since)."""
        role = _generation_role(grant.role, grant.registrant)
        return (grant.generation < self.generations.of(role, grant.scope)
                or (grant.scope == EVENT_SCOPE
                    and session_id in self.generations.sessions_with_own(role)))

    def watch(self, owner: object, grant: Grant, session_id: str,
              on_revoked: Callable[[], None]) -> None:
        """Call `on_revoked` once if the grant is revoked for `session_id`, until `unwatch`."""
        self.generations.watch(owner, lambda: self.revoked(grant, session_id), on_revoked)

    def unwatch(self, owner: object) -> None:
        self.generations.unwatch(owner)

    def registrant_id(self, email: str) -> str:
        """A registrant's id: keyed on their email, which it does not reveal (a link carries the
        id, never the email), and stable for one secret, so a new links file keeps the
        identities."""
        return "r" + _b64(self._mac("registrant", email.strip().lower().encode()))[:16]

    def guest_id(self, session_id: str, name: str) -> str:
        """The guest id of a remote speaker the programme names: the same at every start, so a
        link printed yesterday and one printed today are the same guest."""
        return "g" + _b64(self._mac("guest", f"{session_id}\0{name}".encode()))[:10]

    def short_code(self, session_id: str, generation: int) -> str:
        """A session's short participant address (/j/CODE): keyed, so the codes of the event's
        sessions cannot be walked, and changed when its participant links are revoked."""
        digest = self._mac("short", f"{session_id}\0{generation}".encode())
        return "".join(SHORT_ALPHABET[byte % len(SHORT_ALPHABET)] for byte in digest[:SHORT_CHARS])

    def participant_key(self, participant_id: str) -> str:
        return _b64(self._mac("participant", participant_id.encode()))

    def new_participant(self) -> tuple[str, str]:
        participant_id = "u_" + secrets.token_urlsafe(12)
        return participant_id, self.participant_key(participant_id)

    def check_participant(self, identity: object) -> str | None:
        """The id of a participant identity the server issued, or None if forged or malformed."""
        if not isinstance(identity, dict):
            return None
        pid, key = identity.get("id"), identity.get("key")
        # compare_digest refuses non-ASCII strings (TypeError): a forged key may be anything.
        if not isinstance(pid, str) or not isinstance(key, str) or len(pid) > 64 or not key.isascii():
            return None
        return pid if hmac.compare_digest(key, self.participant_key(pid)) else None
