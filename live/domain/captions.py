"""Live captions: the lines a captioner writes in the session's languages, and the stage's choice.

A captioner is a person typing (a line at a time, sent once finished: "vélotypie") or a
speech-to-text service, which sends partial results while it listens, then the final line. A final
line goes into the transcript; a partial one only replaces its language's line in progress (the
next partial replaces it, the final line ends it), so the transcript never holds a guess the
service took back. Moderators choose whether the stage screen shows captions, and in which language.

Captions come every few seconds for hours, so the transcript is bounded (TRANSCRIPT_LINES, the
oldest dropped first); clients are sent only its last lines (live/views.py), the whole of it is an
export (live/web/transcript.py).
"""

from __future__ import annotations

from live.domain import commands as c
from live.domain import events as e
from live.domain.errors import DomainError
from live.domain.state import CAPTION_CHARS, CLIENT_KEY_CHARS, Caption, RoomState
from live.domain.text import clean_text

# Final lines kept per session: a line every two seconds for five and a half hours. At most
# CAPTION_CHARS each, the whole transcript stays within a few megabytes of snapshot.
TRANSCRIPT_LINES = 10_000
# A final line re-sent after a reconnect (same client_key) is recognised among the latest lines.
KEY_WINDOW = 50


def caption_text(value: str) -> str:
    """A caption is one line: the usual cleaning, then every run of white space (newlines
    included) becomes one space, so no line break can reach a subtitle file."""
    text = clean_text(value, CAPTION_CHARS, "caption")
    assert text is not None
    return " ".join(text.split())


def _language(value: str | None, languages: tuple[str, ...]) -> str:
    if value not in languages:
        raise DomainError("invalid", f"language must be one of this session's: "
                          f"{', '.join(languages)}")
    assert value is not None
    return value


def post(state: RoomState, languages: tuple[str, ...], cmd: c.PostCaption, now: int
         ) -> list[e.Event]:
    language = _language(cmd.language, languages)
    text = caption_text(cmd.text)
    if not cmd.final:
        current = state.partials.get(language)
        return [] if current is not None and current.text == text else [
            e.CaptionPosted(language, text, False, now)]
    key = clean_text(cmd.client_key, CLIENT_KEY_CHARS, "client_key", required=False)
    if key is not None and any(line.client_key == key for line in state.captions[-KEY_WINDOW:]):
        return []  # the same line re-sent after a reconnect: kept already
    return [e.CaptionPosted(language, text, True, now, key)]


def set_stage(state: RoomState, languages: tuple[str, ...], cmd: c.SetStageCaptions
              ) -> list[e.Event]:
    language = None
    if cmd.enabled:
        language = _language(languages[0] if cmd.language is None else cmd.language, languages)
    return [] if state.stage_captions == language else [e.StageCaptionsSet(language)]


def apply(state: RoomState, event: e.CaptionPosted | e.StageCaptionsSet) -> None:
    match event:
        case e.CaptionPosted(final=True):
            state.captions.append(Caption(event.language, event.text, event.posted_at, True,
                                          event.client_key))
            if len(state.captions) > TRANSCRIPT_LINES:
                del state.captions[: len(state.captions) - TRANSCRIPT_LINES]
            state.partials.pop(event.language, None)  # the line in progress is finished
        case e.CaptionPosted():
            state.partials[event.language] = Caption(event.language, event.text,
                                                     event.posted_at, False)
        case e.StageCaptionsSet():
            state.stage_captions = event.language
