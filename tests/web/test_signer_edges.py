"""The link signer at its edges: the exact token format (links already handed out must keep
verifying after an upgrade), the bounds, the reason of each refusal, personal and interpreter
links, and generations (revocation) as the signer applies them. tests/web/test_signer.py covers
the ordinary round trips and forgeries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from live.domain import Role
from live.web.auth import EVENT_SCOPE, MAX_TOKEN_CHARS, InvalidToken, Signer

SECRET = "a-secret-of-at-least-16"
NOW = 1_800_000_000
LATER = NOW + 60


def signed(signer: Signer, payload: bytes) -> str:
    """A token for any payload, signed with the signer's key (what a forger cannot do)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    return f"{b64(payload)}.{b64(signer._mac('token', payload))}"


def test_tokens_and_keys_are_stable_across_versions() -> None:
    """Known answers: links in registrants' emails and on printed sheets, and the participant
    identities browsers keep, were signed by an earlier version with the same secret."""
    signer = Signer(SECRET)
    assert signer.issue(Role.PARTICIPANT, "pleniere", LATER) == (
        "eyJyIjoicGFydGljaXBhbnQiLCJzIjoicGxlbmllcmUiLCJ4IjoxODAwMDAwMDYwfQ"
        ".KYoZTNoKobI4dgY7g6Q4qkzh")
    signer.generations.update({"registrant:*": 2, "interpreter:atelier-1": 1})
    assert signer.issue(Role.PARTICIPANT, EVENT_SCOPE, LATER, registrant="r1") == (
        "eyJyIjoicGFydGljaXBhbnQiLCJzIjoiKiIsIngiOjE4MDAwMDAwNjAsImciOjIsInAiOiJyMSJ9"
        ".AhP7SL7pSQIru3f6UGtEduhd")
    assert signer.issue(Role.INTERPRETER, "atelier-1", LATER, language="en") == (
        "eyJyIjoiaW50ZXJwcmV0ZXIiLCJzIjoiYXRlbGllci0xIiwieCI6MTgwMDAwMDA2MCwiZyI6MSwibCI6ImVuIn0"
        ".dVRM6c2bnnp75h-pFfLnOVDy")
    assert signer.participant_key("u_abc") == "PEQQMd65nuLnyuTgSQCWcxUD"
    assert signer.registrant_id(" Marie@Example.org ") == "r0AJnAHGr8CDgr8G-"
    assert signer.registrant_id("marie@example.org") == "r0AJnAHGr8CDgr8G-"


def test_tokens_carry_no_padding_and_any_last_character_round_trips() -> None:
    signer = Signer(SECRET)
    ends = set()
    for i in range(400):
        token = signer.issue(Role.STAGE, f"s{i}", LATER)
        assert "=" not in token
        assert signer.verify(token, NOW).scope == f"s{i}"
        ends.add(token[-1])
    assert "X" in ends and len(ends) > 30  # the last characters take every kind of value


def test_the_length_bound_is_exact() -> None:
    signer = Signer(SECRET)
    tokens = {len(t): t for t in (signer.issue(Role.STAGE, "s" * n, LATER) for n in range(520, 540))}
    assert signer.verify(tokens[MAX_TOKEN_CHARS], NOW).role is Role.STAGE
    with pytest.raises(InvalidToken, match=r"^malformed token$"):
        signer.verify(tokens[next(n for n in tokens if n > MAX_TOKEN_CHARS)], NOW)


def test_a_guest_link_with_the_longest_name_in_any_script_fits() -> None:
    signer = Signer(SECRET)
    for name in ("x" * 60, "é" * 60, "ü" * 60, "漢" * 60, "🎤" * 60):
        token = signer.issue(Role.GUEST, "pleniere-geopolitique", LATER, guest=("gAbcdefgh", name))
        assert signer.verify(token, NOW).name == name


@pytest.mark.parametrize(("token", "reason"), [
    (None, "malformed token"), ("a.b.c", "malformed token"), ("é.é", "malformed token"),
    ("abcde.abcd", "malformed token"),
])
def test_each_malformed_shape_says_so(token: object, reason: str) -> None:
    with pytest.raises(InvalidToken) as info:
        Signer(SECRET).verify(token, NOW)
    assert str(info.value) == reason


def test_each_refusal_says_why() -> None:
    signer = Signer(SECRET)
    token = signer.issue(Role.MODERATOR, "s", NOW)
    cases = [
        (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), NOW, "bad signature"),
        (signed(signer, b'{"r":"moderator","s":"s"}'), NOW, "malformed token"),
        (token, NOW + 1, "expired token"),
        (signed(signer, b'{"r":"moderator","s":"s","x":1900000000,"g":true}'), NOW,
         "malformed token"),
        (signed(signer, b'{"r":"moderator","s":"s","x":1900000000,"g":"1"}'), NOW,
         "malformed token"),
    ]
    for bad, now, reason in cases:
        with pytest.raises(InvalidToken) as info:
            signer.verify(bad, now)
        assert str(info.value) == reason, bad
    signer.generations.update({"moderator:s": 1})
    with pytest.raises(InvalidToken) as info:
        signer.verify(token, NOW)
    assert str(info.value) == "revoked link"


def test_personal_and_interpreter_links_keep_their_registrant_and_language() -> None:
    signer = Signer(SECRET)
    grant = signer.verify(signer.issue(Role.PARTICIPANT, "*", LATER, registrant="r1"), NOW)
    assert (grant.registrant, grant.language, grant.generation) == ("r1", None, 0)
    grant = signer.verify(signer.issue(Role.INTERPRETER, "s", LATER, language="en"), NOW)
    assert (grant.registrant, grant.language) == (None, "en")
    # Whatever JSON type a signed payload holds, the grant holds text.
    grant = signer.verify(signed(signer, b'{"r":"participant","s":"*","x":1900000000,"p":7,"l":8}'),
                          NOW)
    assert (grant.registrant, grant.language) == ("7", "8")


def test_personal_links_are_revoked_apart_from_the_public_link() -> None:
    signer = Signer(SECRET)
    public = signer.issue(Role.PARTICIPANT, EVENT_SCOPE, LATER)
    personal = signer.issue(Role.PARTICIPANT, EVENT_SCOPE, LATER, registrant="r1")
    signer.generations.update({"registrant:*": 1})
    assert signer.verify(public, NOW).registrant is None
    with pytest.raises(InvalidToken, match="revoked link"):
        signer.verify(personal, NOW)
    reissued = signer.verify(signer.issue(Role.PARTICIPANT, EVENT_SCOPE, LATER, registrant="r1"), NOW)
    assert (reissued.registrant, reissued.generation) == ("r1", 1)

    signer.generations.update({"participant:*": 1})
    with pytest.raises(InvalidToken, match="revoked link"):
        signer.verify(public, NOW)
    assert signer.verify(personal, NOW).registrant == "r1"  # revoked only by its own generation


def test_a_session_revocation_leaves_event_links_for_the_other_sessions() -> None:
    signer = Signer(SECRET)
    event_link = signer.issue(Role.MODERATOR, EVENT_SCOPE, LATER)
    session_link = signer.issue(Role.MODERATOR, "atelier-1", LATER)
    other_session = signer.issue(Role.MODERATOR, "atelier-2", LATER)
    signer.generations.update({"moderator:atelier-1": 1, "stage:atelier-2": 1})

    event_grant = signer.verify(event_link, NOW)
    assert event_grant.excluded == {"atelier-1"}
    assert not event_grant.covers("atelier-1") and event_grant.covers("atelier-2")
    with pytest.raises(InvalidToken, match="revoked link"):
        signer.verify(session_link, NOW)
    assert signer.verify(other_session, NOW).excluded == frozenset()  # only event links skip
    fresh = signer.verify(signer.issue(Role.MODERATOR, "atelier-1", LATER), NOW)
    assert (fresh.generation, fresh.covers("atelier-1")) == (1, True)


def test_participant_ids_carry_96_random_bits_and_the_id_bound_is_exact() -> None:
    signer = Signer(SECRET)
    pid, _ = signer.new_participant()
    assert len(base64.urlsafe_b64decode(pid.removeprefix("u_"))) == 12
    longest = "u" * 64
    assert signer.check_participant({"id": longest, "key": signer.participant_key(longest)}) == longest


def test_a_participant_key_is_its_own_purpose() -> None:
    """The identity key is the MAC of the id for the purpose "participant", by the link key."""
    signer = Signer(SECRET)
    key = hashlib.sha256(("tribune-links:" + SECRET).encode()).digest()
    mac = hmac.new(key, b"participant\0u_abc", hashlib.sha256).digest()[:18]
    assert signer.participant_key("u_abc") == base64.urlsafe_b64encode(mac).decode()
    token_mac = hmac.new(key, b"token\0" + json.dumps({"r": "stage"}).encode(), hashlib.sha256)
    assert signer._mac("token", json.dumps({"r": "stage"}).encode()) == token_mac.digest()[:18]


def test_a_grant_checked_earlier_is_revoked_by_a_later_generation() -> None:
    signer = Signer(SECRET)
    session = signer.verify(signer.issue(Role.STAGE, "atelier-1", LATER), NOW)
    event = signer.verify(signer.issue(Role.STAGE, EVENT_SCOPE, LATER), NOW)
    personal = signer.verify(signer.issue(Role.PARTICIPANT, EVENT_SCOPE, LATER, registrant="r1"), NOW)
    assert not any(signer.revoked(g, "atelier-1") for g in (session, event, personal))

    signer.generations.update({"stage:atelier-2": 1})  # another session's own stage links
    assert not signer.revoked(session, "atelier-1") and not signer.revoked(event, "atelier-1")
    assert signer.revoked(event, "atelier-2")  # the event link no longer covers atelier-2

    signer.generations.update({"stage:atelier-2": 1, "stage:atelier-1": 1})
    assert signer.revoked(session, "atelier-1") and signer.revoked(event, "atelier-1")
    signer.generations.update({"participant:*": 1})
    assert not signer.revoked(personal, "atelier-1")  # a personal link has its own generation
    signer.generations.update({"registrant:*": 1})
    assert signer.revoked(personal, "atelier-1")


def test_a_watched_grant_calls_back_once_when_revoked_until_unwatched() -> None:
    signer = Signer(SECRET)
    grant = signer.verify(signer.issue(Role.STAGE, EVENT_SCOPE, LATER), NOW)
    calls: list[str] = []
    signer.watch("socket-1", grant, "atelier-1", lambda: calls.append("socket-1"))
    signer.watch("socket-2", grant, "atelier-2", lambda: calls.append("socket-2"))
    signer.watch("socket-3", grant, "atelier-1", lambda: calls.append("socket-3"))
    signer.unwatch("socket-3")
    signer.generations.update({"stage:atelier-2": 1})
    assert calls == ["socket-2"]
    signer.generations.update({"stage:atelier-2": 1, "stage:atelier-1": 1})
    signer.generations.update({"stage:*": 1})
    assert calls == ["socket-2", "socket-1"]
    assert signer.generations.watched == 0
