"""Captions over HTTP: the ingest API for speech-to-text services, and the transcript files.

    POST /sessions/{session}/captions         captioner token (Bearer) + JSON {"language", "text",
                                              "final"?, "client_key"?} → 204
    GET  /sessions/{session}/transcript.vtt   moderator, admin or captioner token (Bearer, or `t`
    GET  /sessions/{session}/transcript.txt   in the query, for the pages' download links)
                                              ?language= (default: the floor language)

docs/protocol.md, "Captions over HTTP", gives every answer. A posted line is a `PostCaption`
command like one sent over the WebSocket: the same parsing (live/protocol.py), the same domain
rules and limits. The token is a Bearer token, never a cookie, so any origin may call these (CORS
`*`), as for WHIP and WHEP: a browser-based recogniser on another site can post too.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from live import protocol as p
from live.domain import Actor, DomainError, Role
from live.domain.programme import Programme, Session
from live.service import Service
from live.web.auth import Grant, InvalidToken, Signer
from live.web.transcript import plain_text, transcript_origin, webvtt

MAX_BODY_BYTES = 4096  # a 300-character line, even with every character escaped as \uXXXX
TRANSCRIPT_ROLES = frozenset({Role.MODERATOR, Role.ADMIN, Role.CAPTIONER})
CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": "Retry-After"}
PREFLIGHT = {
    **CORS,
    "access-control-allow-methods": "POST, GET, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type",
    "access-control-max-age": "86400",
}
# A refused line's status, by the domain's error code (docs/protocol.md, "Answers").
STATUS_OF_CODE = {"invalid": 422, "forbidden": 403, "banned": 403, "not_found": 404,
                  "conflict": 409, "rate_limited": 429, "unavailable": 503}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def refusal(status: int, code: str, message: str) -> Response:
    headers = dict(CORS)
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="tribune"'  # RFC 6750
    if status == 429:
        headers["retry-after"] = "1"
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


class CaptionRoutes:
    """Built with the app; the service, signer and relay are the app's, made in its lifespan."""

    def __init__(self, programme: Programme) -> None:
        self.programme = programme

    def routes(self) -> list[Route]:
        return [
            Route("/sessions/{session_id}/captions", self._guard(self.post),
                  methods=["POST", "OPTIONS"]),
            Route("/sessions/{session_id}/transcript.{format:str}", self._guard(self.transcript),
                  methods=["GET", "OPTIONS"]),
        ]

    def _guard(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=PREFLIGHT)
            session = self.programme.session(request.path_params["session_id"])
            if session is None:
                return refusal(404, "not_found", "no such session")
            try:
                response: Response = await handler(request, session)
                return response
            except Refused as exc:
                return refusal(exc.status, exc.code, exc.message)
            except p.InvalidCommand as exc:  # a field missing or of the wrong type
                return refusal(422, exc.code, exc.message)
            except DomainError as exc:
                return refusal(STATUS_OF_CODE.get(exc.code, 422), exc.code, exc.message)
            except (RedisError, OSError):
                return refusal(503, "unavailable", "storage unavailable: try again")

        return endpoint

    @staticmethod
    def _grant(request: Request, session: Session, *, query_token: bool) -> Grant:
        """The token's grant for this session; 401 without a valid token, 403 for another
        session's. What the role may do is the domain's to say (or TRANSCRIPT_ROLES')."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if not token and query_token:
            token = request.query_params.get("t", "")
        if not token:
            raise Refused(401, "unauthorized", "an Authorization: Bearer token is required")
        signer: Signer = request.app.state.signer
        try:
            grant = signer.verify(token, time.time())
        except InvalidToken as exc:
            raise Refused(401, "unauthorized", f"invalid token: {exc}") from None
        if not grant.covers(session.id):
            raise Refused(403, "forbidden", "this token is for another session")
        return grant

    async def post(self, request: Request, session: Session) -> Response:
        grant = self._grant(request, session, query_token=False)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise Refused(415, "unsupported_media_type", "the body must be application/json")
        command = p.parse_command(self._frame(await self._body(request)))
        service: Service = request.app.state.service
        # Whether the role may caption is the domain's to say (forbidden: 403), as on the socket.
        await service.execute(session.id, command, Actor(grant.role),
                              client=request.client.host if request.client else None)
        return Response(status_code=204, headers=CORS)

    @staticmethod
    async def _body(request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise Refused(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise Refused(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
        return body

    @staticmethod
    def _frame(body: bytes) -> dict[str, Any]:
        """The body as a `PostCaption` frame: a JSON object, its lone surrogates made U+FFFD as
        for WebSocket frames (they could not be stored)."""
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise Refused(400, "bad_request", "the body is not JSON (UTF-8)") from None
        if not isinstance(data, dict):
            raise Refused(400, "bad_request", 'the body must be a JSON object: {"language": '
                          '"fr", "text": "…", "final": true}')
        try:
            return p.decode_frame(json.dumps({**data, "type": "PostCaption"}))
        except p.ProtocolError as exc:
            raise Refused(400, "bad_request", exc.reason) from None

    async def transcript(self, request: Request, session: Session) -> Response:
        kind = request.path_params["format"]
        if kind not in ("vtt", "txt"):
            raise Refused(404, "not_found", "transcript.vtt or transcript.txt")
        grant = self._grant(request, session, query_token=True)
        if grant.role not in TRANSCRIPT_ROLES:
            raise Refused(403, "forbidden", "moderators and captioners only")
        language = request.query_params.get("language") or session.floor_language
        if language not in session.languages:
            raise Refused(400, "bad_request", f"language must be one of this session's: "
                          f"{', '.join(session.languages)}")
        service: Service = request.app.state.service
        captions = (await service.hub(session.id)).room.state.captions
        lines = [line for line in captions if line.language == language]
        if kind == "txt":
            body, media_type = plain_text(lines, _zone(self.programme.timezone)), "text/plain"
        else:
            origin = transcript_origin(captions, self._on_air_since(request, session))
            body, media_type = webvtt(lines, origin or 0), "text/vtt"
        return PlainTextResponse(body, media_type=f"{media_type}; charset=utf-8", headers={
            **CORS, "cache-control": "no-store",
            "content-disposition": f'attachment; filename="{session.id}-{language}.{kind}"'})

    @staticmethod
    def _on_air_since(request: Request, session: Session) -> int | None:
        """When the studio went on air (ms), if it is on air: the relay forgets it once it stops."""
        broadcast = request.app.state.relay.broadcasts.get(session.id)
        since = getattr(broadcast, "since", None)
        return int(since * 1000) if since is not None else None
