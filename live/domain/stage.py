"""What the moderators tell the speaker on the stage screen alone: a short private message (until
the speaker acknowledges it, with a button on the stage) and a countdown. Participants are never
told of either (live/views.py sends them to moderators and the stage audience only).
"""

from __future__ import annotations

from collections.abc import Callable

from live.domain import commands as c
from live.domain import events as e
from live.domain.errors import DomainError
from live.domain.state import RoomState
from live.domain.text import clean_text

STAGE_MESSAGE_CHARS = 200  # read from the lectern at a glance
MAX_TIMER_SECONDS = 4 * 3600


def send(state: RoomState, cmd: c.SendStageMessage, now: int,
         new_id: Callable[[str], str]) -> list[e.Event]:
    text = clean_text(cmd.text, STAGE_MESSAGE_CHARS, "message")
    assert text is not None
    return [e.StageMessageSent(new_id("m"), " ".join(text.split()), now)]


def acknowledge(state: RoomState, cmd: c.AcknowledgeStageMessage, now: int) -> list[e.Event]:
    message = state.stage_message
    if message is None or message["id"] != cmd.message_id:
        raise DomainError("not_found", "no such message on the stage")
    if message.get("acknowledged_at") is not None:
        return []
    return [e.StageMessageAcknowledged(cmd.message_id, now)]


def set_timer(state: RoomState, cmd: c.SetStageTimer, now: int) -> list[e.Event]:
    if cmd.seconds is None:
        return [] if state.stage_timer is None else [e.StageTimerSet(None, None)]
    if not 1 <= cmd.seconds <= MAX_TIMER_SECONDS:
        raise DomainError("invalid", f"a countdown lasts 1 to {MAX_TIMER_SECONDS} seconds")
    return [e.StageTimerSet(now + cmd.seconds * 1000, cmd.seconds)]


def apply(state: RoomState, event: e.StageMessageSent | e.StageMessageAcknowledged
          | e.StageTimerSet) -> None:
    match event:
        case e.StageMessageSent():
            state.stage_message = {"id": event.message_id, "text": event.text,
                                   "sent_at": event.sent_at, "acknowledged_at": None}
        case e.StageMessageAcknowledged():
            if state.stage_message is not None and state.stage_message["id"] == event.message_id:
                state.stage_message = {**state.stage_message,
                                       "acknowledged_at": event.acknowledged_at}
        case e.StageTimerSet():
            state.stage_timer = (None if event.ends_at is None
                                 else {"ends_at": event.ends_at, "seconds": event.seconds})
