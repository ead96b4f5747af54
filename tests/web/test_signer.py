"""The link signer on its own: what it issues verifies, and nothing else does."""

from __future__ import annotations

import base64
import json

import pytest

from live.domain import Role
from live.web.auth import EVENT_SCOPE, Grant, InvalidToken, Signer

SECRET = "a-secret-of-at-least-16"
NOW = 1_800_000_000


def parts(token: str) -> tuple[dict[str, object], str]:
    body, mac = token.split(".")
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))), mac


def forge(payload: dict[str, object], mac: str) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
    return body.rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize("role", list(Role))
def test_a_token_verifies_to_what_was_issued(role: Role) -> None:
    token = Signer(SECRET).issue(role, "pleniere", NOW + 60)
    grant = Signer(SECRET).verify(token, NOW)  # another instance: only the secret matters
    assert (grant.role, grant.scope, grant.expires) == (role, "pleniere", NOW + 60)
    assert grant.covers("pleniere") and not grant.covers("atelier-1")


def test_the_event_scope_covers_every_session() -> None:
    grant = Signer(SECRET).verify(Signer(SECRET).issue(Role.PARTICIPANT, EVENT_SCOPE, NOW + 1), NOW)
    assert grant.covers("pleniere") and grant.covers("atelier-1")


def test_expiry_is_checked_to_the_second() -> None:
    token = Signer(SECRET).issue(Role.MODERATOR, "s", NOW)
    assert Signer(SECRET).verify(token, NOW).role is Role.MODERATOR
    with pytest.raises(InvalidToken, match="expired"):
        Signer(SECRET).verify(token, NOW + 1)


def test_another_secret_does_not_verify() -> None:
    token = Signer(SECRET).issue(Role.MODERATOR, "s", NOW + 60)
    with pytest.raises(InvalidToken, match="bad signature"):
        Signer("another-secret-of-16+").verify(token, NOW)


@pytest.mark.parametrize("change", [{"r": "admin"}, {"s": "*"}, {"x": NOW + 10**9}])
def test_a_widened_payload_with_the_old_mac_is_refused(change: dict[str, object]) -> None:
    payload, mac = parts(Signer(SECRET).issue(Role.MODERATOR, "s", NOW + 60))
    with pytest.raises(InvalidToken, match="bad signature"):
        Signer(SECRET).verify(forge({**payload, **change}, mac), NOW)


def test_a_signature_is_bound_to_its_purpose() -> None:
    """A participant identity key is a MAC by the same secret: it must not sign a token."""
    signer = Signer(SECRET)
    payload = {"r": "admin", "s": "*", "x": NOW + 60}
    body = json.dumps(payload, separators=(",", ":"))
    with pytest.raises(InvalidToken, match="bad signature"):
        signer.verify(forge(payload, signer.participant_key(body)), NOW)


@pytest.mark.parametrize("token", [
    None, 42, "", "no-dot", "a.b.c", "x" * 600, "!!!.???", "e30.", ".abc",
    forge({"r": "emperor", "s": "*", "x": NOW + 60}, "x"),
])
def test_malformed_tokens_are_refused_cleanly(token: object) -> None:
    with pytest.raises(InvalidToken):
        Signer(SECRET).verify(token, NOW)


def test_a_well_signed_but_malformed_payload_is_refused() -> None:
    """Signed with the right key, yet not a grant: refused as malformed, never a crash."""
    signer = Signer(SECRET)
    for payload in (b"[]", b'{"r":"moderator"}', b'{"r":"nobody","s":"*","x":1}', b"\xff"):
        body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        mac = base64.urlsafe_b64encode(signer._mac("token", payload)).rstrip(b"=").decode()
        with pytest.raises(InvalidToken, match="malformed"):
            signer.verify(f"{body}.{mac}", NOW)


def test_participant_identities_check_out_only_as_issued() -> None:
    signer = Signer(SECRET)
    pid, key = signer.new_participant()
    assert pid.startswith("u_") and signer.check_participant({"id": pid, "key": key}) == pid
    assert Signer(SECRET).check_participant({"id": pid, "key": key}) == pid
    assert Signer("another-secret-of-16+").check_participant({"id": pid, "key": key}) is None
    other, _ = signer.new_participant()
    assert other != pid
    # The last character changed to one it is not (a fixed "A" would equal it one time in 64).
    altered = key[:-1] + ("B" if key.endswith("A") else "A")
    for forged in ({"id": other, "key": key}, {"id": pid, "key": altered},
                   {"id": pid, "key": "é" * 24}, {"id": pid}, {"id": 1, "key": key},
                   {"id": "x" * 65, "key": signer.participant_key("x" * 65)}, [pid, key], None):
        assert signer.check_participant(forged) is None, forged


def test_grants_are_values() -> None:
    assert Grant(Role.STAGE, "s", 1) == Grant(Role.STAGE, "s", 1)
