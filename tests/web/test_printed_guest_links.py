"""The remote speakers the programme names get their guest links printed with the others: the
same guest at every start (a link sent yesterday still names the guest the studio sees today)."""

from __future__ import annotations

import time
from urllib.parse import unquote

from live.config import Settings, load_programme
from live.domain import Role
from live.links import role_links
from live.web.auth import Signer


def guest_grant(signer: Signer, url: str) -> tuple[str | None, str | None, str]:
    grant = signer.verify(unquote(url.split("?t=")[1]), time.time())
    assert grant.role is Role.GUEST
    return grant.guest, grant.name, grant.scope


def test_the_demo_programmes_remote_speaker_gets_a_guest_link_printed() -> None:
    signer = Signer("printed-guest-links-secret-0123456789")
    links = role_links(load_programme(None), Settings(), signer)
    roles = links.by_session["pleniere-geopolitique"]
    url = roles["guest Intervenant à distance"]
    assert url.startswith("http://127.0.0.1:8000/guest/pleniere-geopolitique?t=")
    assert "guest Intervenant à distance" in links.as_text() and "(keep private)" in links.as_text()
    guest_id, name, scope = guest_grant(signer, url)
    assert (name, scope) == ("Intervenant à distance", "pleniere-geopolitique")
    again = role_links(load_programme(None), Settings(), signer)
    assert guest_grant(signer, again.link("guest Intervenant à distance",
                                          "pleniere-geopolitique"))[0] == guest_id
    other = Signer("another-secret-for-another-event-0123")
    assert other.guest_id("pleniere-geopolitique", "Intervenant à distance") != guest_id
    assert not any(role.startswith("guest") for role in links.by_session["pleniere-aict"])
