"""A session's side feeds, beside its floor and interpretation channels (live/media/channels.py).

- each remote guest's camera and microphone, `session~guest-id`: the guest page publishes it,
  the studio page plays it to compose the programme, a clean feed page shows it to OBS;
- the return feed, `session~return`: what the room sounds like without the guests (the studio
  page's microphone, or an AV desk's mix-minus over WHIP), which guests hear while on air instead
  of the programme, so their own voice never comes back to them.

They are broadcasts like the others (forwarded as they come, followed across workers), but
nobody's audience: no on-air news for the pages, no recording (the programme the studio composes
from them is recorded), no language choice.
"""

from __future__ import annotations

SEPARATOR = "~"
RETURN = "return"


def guest_key(session_id: str, guest_id: str) -> str:
    return f"{session_id}{SEPARATOR}{guest_id}"


def return_key(session_id: str) -> str:
    return f"{session_id}{SEPARATOR}{RETURN}"


def valid_guest_id(text: str) -> bool:
    """Whether `text` can be a guest id (live/media/guest_routes.py makes them): anything else in a
    path is a 404 before any lookup."""
    return 2 <= len(text) <= 16 and text.replace("-", "").replace("_", "").isalnum() \
        and text.isascii()


def is_feed(key: str) -> bool:
    return SEPARATOR in key
