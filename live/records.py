"""Records: an event as the store keeps it (JSON, numbered by the store) and as a hub applies it."""

from __future__ import annotations

import json
import re
from typing import Any

from live.domain import Actor
from live.domain.events import Event, event_from_dict, event_to_dict
from live.hub import Applied
from live.protocol import encode
from live.store import Record


def body(event: Event, actor: Actor, now: int) -> str:
    """A record's JSON text before the store numbers it (see `live.store.base.stamp`)."""
    return encode({"type": type(event).__name__, "at": now, "actor": actor.label,
                   **event_to_dict(event)})


def applied_from(record: dict[str, Any]) -> Applied:
    """A stored record (envelope and event fields together) as the hub keeps it."""
    envelope = {"type": record["type"], "seq": record["seq"], "at": record["at"]}
    return Applied(record["seq"], record["v"], event_from_dict(record), envelope)


def decode(record: Record) -> Applied:
    return applied_from(json.loads(record.data))


_STAMP = re.compile(r'\{"seq":\d+,"v":(\d+),')


def own_record(record: Record, event: Event, now: int) -> Applied:
    """Our own appended record, without parsing back the text we just encoded."""
    stamp = _STAMP.match(record.data)
    assert stamp is not None, "the store stamps every record"
    envelope = {"type": type(event).__name__, "seq": record.seq, "at": now}
    return Applied(record.seq, int(stamp.group(1)), event, envelope, record.data)
