"""Captions over the WebSocket, on the real server: what the captioner is told on connecting, a
line reaching every audience (each client's view from the page's own state.js), the refusals, and
a moderator switching the stage's captions."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.conftest import RunningServer
from tests.wsclient import Client

SESSION = "pleniere-geopolitique"  # streamed: French, English, Spanish


async def connect(server: RunningServer, role: str) -> Client:
    token = parse_qs(urlsplit(server.link(role, SESSION)).query)["t"][0]
    return await Client(server.ws_base, SESSION, token).connect()


def lines(client: Client, language: str = "fr") -> list[str]:
    return [c["text"] for c in client.view["captions"]["lines"] if c["language"] == language]


async def test_a_line_over_the_socket_reaches_every_audience(live_server: RunningServer) -> None:
    captioner = await connect(live_server, "captioner")
    participant, moderator, stage = [await connect(live_server, role)
                                     for role in ("participant", "moderator", "stage")]
    assert captioner.welcome["role"] == "captioner" and "participant" not in captioner.welcome
    assert captioner.welcome["limits"]["caption_chars"] == 300
    assert captioner.view["session"]["languages"] == ["fr", "en", "es"]
    assert captioner.view["captions"] == {"lines": [], "partials": {}}
    assert stage.view["settings"]["stage_captions"] is None

    await captioner.ok("PostCaption", language="es", text="Buenos d", final=False)
    await participant.wait_for(lambda: participant.view["captions"]["partials"].get("es"))
    await captioner.ok("PostCaption", language="es", text="Buenos días\n a todos.")
    for client in (captioner, participant, moderator, stage):
        await client.wait_for(lambda c=client: lines(c, "es") == ["Buenos días a todos."])
        assert client.view["captions"]["partials"] == {}

    # Only the captioner writes; a bad line is refused and the connection stays open.
    reply = await participant.send("PostCaption", language="fr", text="Moi aussi")
    assert (reply["type"], reply["code"]) == ("Error", "forbidden")
    reply = await moderator.send("PostCaption", language="fr", text="Moi aussi")
    assert reply["code"] == "forbidden"
    for fields in ({"language": "de", "text": "Hallo"}, {"language": "fr", "text": " "},
                   {"language": "fr", "text": "x" * 301}, {"language": "fr"},
                   {"language": "fr", "text": "x", "final": "no"}):
        reply = await captioner.send("PostCaption", **fields)
        assert (reply["type"], reply["code"]) == ("Error", "invalid"), fields
    reply = await captioner.send("SetStageCaptions", enabled=True)
    assert reply["code"] == "forbidden"

    # A line re-sent with its key after a reconnect is kept once.
    await captioner.ok("PostCaption", language="fr", text="Une fois.", client_key="k-1")
    await captioner.ok("PostCaption", language="fr", text="Une fois.", client_key="k-1")
    await participant.wait_for(lambda: lines(participant) == ["Une fois."])

    # The moderator turns the stage's captions on, in English.
    await moderator.ok("SetStageCaptions", enabled=True, language="en")
    await stage.wait_for(lambda: stage.view["settings"]["stage_captions"] == "en")
    await participant.wait_for(lambda: participant.view["settings"]["stage_captions"] == "en")
    await moderator.ok("SetStageCaptions", enabled=False)
    await stage.wait_for(lambda: stage.view["settings"]["stage_captions"] is None)

    # A newcomer gets the latest lines with its snapshot.
    late = await connect(live_server, "participant")
    assert lines(late, "es") == ["Buenos días a todos."] and lines(late) == ["Une fois."]
    for client in (captioner, participant, moderator, stage, late):
        await client.close()


async def test_a_flood_of_lines_is_refused_not_stored(live_server: RunningServer) -> None:
    captioner = await connect(live_server, "captioner")
    codes = [(await captioner.send("PostCaption", language="fr", text=f"ligne {i}")).get("code")
             for i in range(25)]
    assert codes[:20] == [None] * 20 and "rate_limited" in codes[20:]
    assert captioner.closed_code is None  # refused lines, not a protocol error
    hub = live_server.app.state.service._hubs[SESSION]
    assert len(hub.room.state.captions) == codes.count(None)
    await captioner.close()
