"""The replay: a session's recordings once they are finished, beside its answered questions and
its polls' results.

    GET /replay/{session}?t=          the replay page (any link of the session)
    GET /replay/{session}.json?t=     {"parts": [names], "published": bool}: whether there is a
                                      replay to show (the player asks once the broadcast ended)
    GET /replay/{session}/{file}?t=   a recording, with HTTP range requests (seekable)

The files are the relay's (live/media/recording.py): one per period on air, listed once finished
(a `.part` file is still being written). A moderator takes a replay down and puts it back
(`SetReplayPublished`, live/domain/production.py); taken down, it is a 410 for everyone but the
session's staff (moderators and the studio), who still see it to check it. The token is in the
query, not a header: a <video> element sends no Authorization header.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from live.domain import Role
from live.domain.state import ANSWERED, DRAFT, RoomState
from live.service import Service
from live.views import Audience, poll_view, question_view
from live.web.auth import Grant, InvalidToken

PART = re.compile(r"^(?P<session>[a-z0-9-]+)_(?P<at>\d{8}-\d{6})(?:-\d+)?\.(?P<ext>webm|mkv)$")
MEDIA_TYPES = {"webm": "video/webm", "mkv": "video/x-matroska"}
STAFF = frozenset({Role.MODERATOR, Role.ADMIN, Role.STUDIO})
MAX_PARTS = 50  # periods on air listed for one session: a day of reconnections, not a flood


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    started: float  # epoch seconds, from the file's name (UTC)
    path: Path
    media_type: str


def parts(directory: Path | None, session_id: str) -> list[Part]:
    """The session's finished recordings, oldest first."""
    if directory is None or not directory.is_dir():
        return []
    found = []
    for path in directory.glob(f"{session_id}_*"):
        match = PART.match(path.name)
        if match is None or match["session"] != session_id:
            continue
        try:
            if path.stat().st_size == 0:
                continue
        except OSError:
            continue
        started = datetime.strptime(match["at"], "%Y%m%d-%H%M%S").replace(tzinfo=UTC).timestamp()
        found.append(Part(path.name, started, path, MEDIA_TYPES[match["ext"]]))
    return sorted(found, key=lambda p: p.name)[-MAX_PARTS:]


def answered_questions(state: RoomState, first_part: float | None) -> list[dict[str, Any]]:
    """The answered questions in the order they were answered, each with when in the replay
    (seconds since its first part began; None without a recording)."""
    out = []
    for q in sorted((q for q in state.questions.values() if q.status == ANSWERED),
                    key=lambda q: q.answered_at or 0):
        view = question_view(q, Audience.PARTICIPANT)
        view["at_s"] = (max(0, round((q.answered_at or 0) / 1000 - first_part))
                        if first_part is not None and q.answered_at else None)
        out.append(view)
    return out


def poll_results(state: RoomState, staff: bool) -> list[dict[str, Any]]:
    """Every poll that was put to the room, with its counts where they were shown (all for staff)."""
    audience = Audience.MODERATOR if staff else Audience.PARTICIPANT
    out = []
    for poll in state.polls.values():
        if poll.status == DRAFT:
            continue
        view = poll_view(poll, audience)
        counts = view["counts"]
        total = sum(counts) if counts else 0
        view["shares"] = [round(100 * c / total) if total else 0 for c in counts] if counts else None
        out.append(view)
    return out


class ReplayAccess:
    """Who may see a session's replay, and its files."""

    def __init__(self, directory: Path | None, service: Service, public_link: bool) -> None:
        self.directory, self.service, self.public_link = directory, service, public_link

    async def check(self, grant: Grant | None, session_id: str) -> tuple[int, str] | None:
        """None if allowed, else the status and the message key of the refusal."""
        session = self.service.programme.session(session_id)
        if session is None or not session.streamed:
            return 404, "error.unknown_session"
        if grant is None:
            return 401, "error.bad_link"
        if not grant.covers(session_id):
            return 403, "error.wrong_link"
        if grant.role is Role.PARTICIPANT and grant.registrant is None and not self.public_link:
            return 403, "error.public_link_off"
        hub = await self.service.hub(session_id)
        if not hub.room.state.replay_published and grant.role not in STAFF:
            return 410, "replay.unpublished"
        return None


def grant_of(request: Request) -> Grant | None:
    try:
        grant: Grant = request.app.state.signer.verify(request.query_params.get("t"), time.time())
        return grant
    except InvalidToken:
        return None


async def replay_file(request: Request, access: ReplayAccess, session_id: str) -> Response:
    refusal = await access.check(grant_of(request), session_id)
    if refusal is not None:
        return Response(status_code=refusal[0])
    name = request.path_params["name"]
    part = next((p for p in parts(access.directory, session_id) if p.name == name), None)
    if part is None:
        return Response(status_code=404)
    return FileResponse(part.path, media_type=part.media_type,
                        headers={"cache-control": "private, max-age=3600"})


async def replay_status(request: Request, access: ReplayAccess, session_id: str) -> Response:
    grant = grant_of(request)
    refusal = await access.check(grant, session_id)
    if refusal is not None and refusal[0] != 410:
        return JSONResponse({"error": refusal[1]}, status_code=refusal[0])
    found = [] if refusal is not None else parts(access.directory, session_id)
    return JSONResponse({"parts": [p.name for p in found], "published": refusal is None},
                        headers={"cache-control": "no-store"})
