"""Revoke the links of one role for one session, without rotating the secret, and print new ones.

    python -m live.revoke --redis redis://127.0.0.1:6379/0 pleniere-geopolitique moderator
    python -m live.revoke --redis redis://127.0.0.1:6379/0 '*' participant   # the public link

Run by an organiser on a machine of the running service, with the service's environment (the
same TRIBUNE_SECRET or TRIBUNE_SECRET_FILE, TRIBUNE_KEY_PREFIX, TRIBUNE_PUBLIC_URL, programme).
It raises the generation of ROLE for SESSION in Redis (live/web/revocation.py): within a second
every process refuses the old links (pages, exports, WebSocket, WHIP/WHEP) and closes the
WebSockets opened with them (4001). SESSION `*` revokes the event-wide links: the public
participant link (and so the programme page's), or the admin links.

Revoking one session's participant links makes that session's participant link its own: the
public link keeps working for every other session. The in-memory store (no --redis) lives inside
the running process, out of this command's reach: there, restarting the service is the way (a
new secret: every link changes).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from urllib.parse import quote

from live.config import DEFAULT_SECRET_FILE, Settings, load_programme
from live.domain import Role
from live.domain.programme import Programme
from live.links import language_links
from live.store import open_store
from live.web.auth import EVENT_SCOPE, Signer
from live.web.revocation import generation_key

PAGES = {Role.PARTICIPANT: "s", Role.MODERATOR: "moderate", Role.STAGE: "stage",
         Role.STUDIO: "studio", Role.ADMIN: "moderate", Role.INTERPRETER: "interpret",
         Role.CAPTIONER: "caption"}


class RevokeError(Exception):
    """The command cannot do what was asked; the message says why and what to do."""


def check_target(programme: Programme, session_id: str, role: Role) -> None:
    """Refuse a role and session that have no links to revoke."""
    if session_id == EVENT_SCOPE:
        if role not in (Role.PARTICIPANT, Role.ADMIN):
            raise RevokeError(f"{role.value} links are per session: name the session")
        return
    session = programme.session(session_id)
    if session is None:
        raise RevokeError(f"no session {session_id!r} in the programme")
    if role in (Role.PARTICIPANT, Role.MODERATOR, Role.STAGE) and not session.interactive:
        raise RevokeError(f"{session_id} has no questions or polls: no {role.value} links")
    if role in (Role.STUDIO, Role.CAPTIONER) and not session.streamed:
        raise RevokeError(f"{session_id} is not streamed: no {role.value} links")
    if role is Role.GUEST and not session.streamed:
        raise RevokeError(f"{session_id} is not streamed: no guest links")
    if role is Role.INTERPRETER and not (session.streamed and session.interpretations):
        raise RevokeError(f"{session_id} has no interpretation languages: no interpreter links")


def new_links(settings: Settings, signer: Signer, session_id: str, role: Role,
              programme: Programme | None = None) -> list[str]:
    """The lines to hand out: the new link (for a studio with its WHIP Bearer token; for
    interpreters one link per language)."""
    expires = int(time.time()) + settings.token_days * 86400
    token = signer.issue(role, session_id, expires)
    base = settings.base_url
    session = programme.session(session_id) if programme is not None else None
    if role is Role.INTERPRETER and session is not None:
        return [f"{name}: {url}" for name, url in language_links(session, base, signer, expires).items()
                if name.startswith("interpreter ")]
    if session_id == EVENT_SCOPE:
        if role is Role.PARTICIPANT:
            return [f"programme (public): {base}/?t={quote(token)}"]
        return [f"admin (any session's moderator, stage and studio pages): "
                f"{base}/moderate/SESSION?t={quote(token)}"]
    lines = [f"{role.value}: {base}/{PAGES[role]}/{session_id}?t={quote(token)}"]
    if role is Role.STUDIO:
        lines.append(f"whip: {base}/sessions/{session_id}/whip  Bearer {token}")
    return lines


def read_secret(settings: Settings) -> str:
    """The running service's secret; never a new one (it would sign links nobody accepts)."""
    if settings.secret is not None:
        return settings.secret
    path = settings.secret_file or DEFAULT_SECRET_FILE
    try:
        return path.read_text("utf-8").strip()
    except FileNotFoundError:
        raise RevokeError(f"no TRIBUNE_SECRET and no secret file at {path}: run this with the "
                          "service's TRIBUNE_SECRET or TRIBUNE_SECRET_FILE") from None


async def revoke(settings: Settings, session_id: str, role: Role) -> tuple[int, list[str]]:
    """Raise the generation; the new generation and the new links."""
    if settings.redis_url is None:
        raise RevokeError("without Redis the service's links live in its own memory, out of "
                          "reach: restart it to revoke every link (a new secret), or run it with "
                          "--redis to revoke one role at a time")
    programme = load_programme(settings.programme_path)
    check_target(programme, session_id, role)
    signer = Signer(read_secret(settings))
    store = open_store(settings.store_url, prefix=settings.key_prefix)
    try:
        generation = await store.bump_generation(generation_key(role.value, session_id))
        signer.generations.update(await store.generations())
    finally:
        await store.close()
    return generation, new_links(settings, signer, session_id, role, programme)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m live.revoke",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("session", metavar="SESSION", help="session id, or * for event-wide links")
    parser.add_argument("role", metavar="ROLE", choices=[r.value for r in Role],
                        help="participant, moderator, stage, studio, admin, interpreter or captioner")
    parser.add_argument("--redis", dest="redis_url", metavar="URL",
                        help="the service's Redis (default: TRIBUNE_REDIS_URL)")
    parser.add_argument("--programme", dest="programme_path", type=Path, metavar="FILE")
    parser.add_argument("--public-url", help="base URL users reach (default: TRIBUNE_PUBLIC_URL)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(redis_url=args.redis_url, programme_path=args.programme_path,
                                     public_url=args.public_url)
        generation, lines = asyncio.run(revoke(settings, args.session, Role(args.role)))
    except (RevokeError, ValueError, OSError) as exc:
        sys.exit(f"live.revoke: {exc}")
    print(f"Revoked every earlier {args.role} link for {args.session} (generation {generation}); "
          "within a second no process accepts them, and their open connections are closed.")
    print("New link, to hand out in place of the old one (keep private unless public):")
    for line in lines:
        print(f"  {line}")


if __name__ == "__main__":
    main()
