"""The moderators' private message and countdown for the speaker (live/domain/stage.py)."""

from __future__ import annotations

from live.domain import commands as c
from live.domain import events as e
from live.domain.stage import MAX_TIMER_SECONDS
from live.views import Audience, project, state_view
from tests.domain.harness import GUEST, MOD, P1, STAGE, Harness


def test_a_message_is_shown_until_acknowledged_once() -> None:
    h = Harness()
    [sent] = h.send(c.SendStageMessage("  Plus que\n deux minutes "), MOD)
    assert isinstance(sent, e.StageMessageSent) and sent.text == "Plus que deux minutes"
    assert h.refused(c.AcknowledgeStageMessage("m_other"), STAGE) == "not_found"
    assert h.send(c.AcknowledgeStageMessage(sent.message_id), STAGE) == [
        e.StageMessageAcknowledged(sent.message_id, h.now)]
    assert h.send(c.AcknowledgeStageMessage(sent.message_id), GUEST) == []  # seen already
    assert h.room.state.stage_message is not None
    assert h.room.state.stage_message["acknowledged_at"] == h.now - 1000
    assert h.refused(c.SendStageMessage(" "), MOD) == "invalid"
    assert h.refused(c.SendStageMessage("x" * 201), MOD) == "invalid"


def test_a_countdown_is_set_bounded_and_taken_away() -> None:
    h = Harness()
    assert h.send(c.SetStageTimer(None), MOD) == []  # none to take away
    assert h.send(c.SetStageTimer(300), MOD) == [e.StageTimerSet(h.now + 300_000, 300)]
    assert h.room.state.stage_timer == {"ends_at": h.now + 300_000, "seconds": 300}
    for seconds in (0, -5, MAX_TIMER_SECONDS + 1):
        assert h.refused(c.SetStageTimer(seconds), MOD) == "invalid"
    assert h.send(c.SetStageTimer(None), MOD) == [e.StageTimerSet(None, None)]
    assert h.room.state.stage_timer is None


def test_participants_are_never_told() -> None:
    h = Harness()
    for command in (c.SendStageMessage("Concluez"), c.SetStageTimer(60)):
        [event] = h.send(command, MOD)
        fanout = project(event, {"type": type(event).__name__, "seq": 1}, h.room.state)
        assert set(fanout.shared) == {Audience.MODERATOR, Audience.STAGE} and not fanout.private
    assert "speaker" not in state_view(h.room.state, {}, Audience.PARTICIPANT, "p1", 0)
    assert state_view(h.room.state, {}, Audience.STAGE, None, 0)["speaker"]["message"]["text"] \
        == "Concluez"
    assert h.refused(c.AcknowledgeStageMessage("m_1"), P1) == "forbidden"
