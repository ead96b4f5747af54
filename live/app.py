"""The application factory: settings in, a Starlette app out, shared objects in its lifespan."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from live.bus import Bus, open_bus
from live.config import Settings, load_programme
from live.domain.programme import Programme
from live.limits import AddressLimits
from live.links import role_links, write_registrant_links
from live.logsafe import install as redact_tokens_in_logs
from live.media.guest_routes import GuestRoutes
from live.media.onair import OnAirNews
from live.media.relay import Relay
from live.media.routes import MediaRoutes
from live.metrics import allowed as metrics_allowed
from live.metrics import render as render_metrics
from live.monitor import CHECK_TIMEOUT, Monitor
from live.programmes import ProgrammeDesk, create_prepared_polls, serve
from live.registrants import Registry, read_registrants
from live.registry import open_registry
from live.service import Service
from live.store import Store, open_store
from live.web import replay
from live.web.auth import Signer
from live.web.captions import CaptionRoutes
from live.web.control import ControlRoom
from live.web.guard import ConnectionLimits, HostCheck, allowed_hosts
from live.web.identity import Identities
from live.web.linkdesk import LinkDesk
from live.web.pages import Pages
from live.web.polldesk import PollDesk
from live.web.programme_edit import ProgrammeEditor
from live.web.replay import ReplayAccess
from live.web.reports import Reports
from live.web.revocation import Refresher
from live.web.security import SecurityHeaders, origin_allowed
from live.web.socket_route import SessionSocketRoute
from live.web.ws import ClientSession

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parents[1] / "static"


def create_app(settings: Settings, *, programme: Programme | None = None,
               store: Store | None = None, bus: Bus | None = None) -> Starlette:
    programme = programme or load_programme(settings.programme_path)
    redact_tokens_in_logs()  # before uvicorn logs the first request

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        the_store = store or open_store(settings.store_url, prefix=settings.key_prefix)
        the_bus = bus or open_bus(settings.store_url, prefix=settings.key_prefix)
        # Heartbeats, reports and the media registry: a call answered within CHECK_TIMEOUT or
        # failed, so that /healthz never hangs on a silent Redis.
        shared = open_registry(settings.store_url, prefix=settings.key_prefix,
                               timeout=CHECK_TIMEOUT)
        # run.py resolves the secret before starting workers (live.config.resolve_secret); an app
        # made without one (tests, embedding) signs with its own. The store never holds it.
        secret = settings.secret or secrets.token_urlsafe(32)
        signer = Signer(secret)
        limits = AddressLimits.from_settings(settings)
        service = Service(programme, the_store, the_bus, limits=limits)
        registry = (read_registrants(settings.registrants_path, signer.registrant_id)
                    if settings.registrants_path is not None else Registry())
        app.state.identities = Identities(signer, the_store, registry=registry, limits=limits,
                                          public_link=settings.public_link)
        relay = Relay(settings, secret)  # fails here, with the fix, if aiortc's internals moved
        def follow(edited: Programme) -> None:  # everything that reads the programme
            pages = [app.state.pages] if hasattr(app.state, "pages") else []
            serve(edited, service, [*pages, *programme_readers])

        desk = ProgrammeDesk(the_store, follow)
        await desk.start(programme)  # the stored programme wins over the file
        await service.start()
        if desk.stored_file:  # the first time this programme is stored: its polls are prepared
            await create_prepared_polls(service, service.programme, None)
        await relay.start(shared)  # with Redis: joins the other workers' relays
        relay.news = OnAirNews(the_bus, service)  # on air / ended, to the pages' WebSockets
        await relay.news.start()
        monitor = Monitor(settings, service, relay, shared)  # heartbeats and figures, every second
        await monitor.start()
        revocations = Refresher(the_store, signer.generations)  # revoked links, read every second
        await revocations.start()  # before any link is printed or checked
        app.state.service, app.state.signer, app.state.monitor = service, signer, monitor
        app.state.replays = ReplayAccess(settings.recordings, service, settings.public_link)
        app.state.pages = Pages(service.programme, settings, signer, app.state.replays)
        app.state.programme_editor = ProgrammeEditor(desk, service, signer)
        app.state.links = role_links(programme, settings, signer)
        app.state.relay = relay
        app.state.control = ControlRoom(app.state.pages, service, relay, monitor, signer)
        app.state.reports = Reports(app.state.control, service)
        if settings.print_links:
            print(app.state.links.as_text(), flush=True)
            if settings.links_out is not None:
                write_registrant_links(settings.links_out, registry, settings, signer)
                print(f"Personal links of {len(registry)} registrants: {settings.links_out}",
                      flush=True)
        try:
            yield
        finally:
            await revocations.stop()
            await desk.stop()
            await monitor.stop()
            await relay.news.stop()
            await relay.close()
            await service.stop()
            await shared.close()
            await the_bus.close()
            await the_store.close()

    def programme_editor(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            editor: ProgrammeEditor = request.app.state.programme_editor
            handler: Callable[[Request], Awaitable[Response]] = getattr(editor, name)
            return await handler(request)
        return endpoint

    async def programme_page(request: Request) -> Response:
        pages: Pages = request.app.state.pages
        return await pages.programme_page(request)

    async def session_page(request: Request) -> Response:
        pages: Pages = request.app.state.pages
        return await pages.session_page(request)

    async def replay_page(request: Request) -> Response:
        pages: Pages = request.app.state.pages
        return await pages.replay_page(request)

    async def replay_file(request: Request) -> Response:
        return await replay.replay_file(request, request.app.state.replays,
                                        request.path_params["session_id"])

    async def replay_status(request: Request) -> Response:
        return await replay.replay_status(request, request.app.state.replays,
                                          request.path_params["session_id"])

    async def control_page(request: Request) -> Response:
        control: ControlRoom = request.app.state.control
        return await control.page(request)

    async def control_status(request: Request) -> Response:
        control: ControlRoom = request.app.state.control
        return await control.status(request)

    async def report(request: Request) -> Response:
        reports: Reports = request.app.state.reports
        return await reports.answer(request)

    async def export(request: Request) -> Response:
        pages: Pages = request.app.state.pages
        return await pages.export(request, request.app.state.service)

    async def websocket(ws: WebSocket) -> None:
        origin = ws.headers.get("origin")
        if not origin_allowed(origin, ws.headers.get("host"), settings.allowed_origins):
            log.warning("websocket refused: foreign origin %r", origin)
            await ws.close(code=1008)  # before accept: the client sees HTTP 403
            return
        session = ClientSession(ws, ws.app.state.service, ws.app.state.signer,
                                ws.path_params["session_id"], ws.app.state.identities)
        await session.run()

    async def healthz(request: Request) -> Response:
        monitor: Monitor = request.app.state.monitor
        ok, body = await monitor.health()
        return JSONResponse(body, status_code=200 if ok else 503)

    async def metrics(request: Request) -> Response:
        if not metrics_allowed(request.client.host if request.client else None,
                               request.headers.get("authorization"), settings.metrics_token):
            return PlainTextResponse("forbidden: loopback or the metrics Bearer token only\n",
                                     status_code=401, headers={"WWW-Authenticate": "Bearer"})
        monitor: Monitor = request.app.state.monitor
        try:
            reports = await monitor.reports()
        except Exception as exc:  # Redis away: a failed scrape says so better than partial figures
            return PlainTextResponse(f"metrics unavailable: {exc!r}\n", status_code=503)
        return PlainTextResponse(render_metrics(reports),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    # They read the programme where they keep it: an edit is served to them too (`follow`).
    media_routes, guest_routes = MediaRoutes(programme, settings), GuestRoutes(programme, settings)
    caption_routes = CaptionRoutes(programme)
    programme_readers = (media_routes, guest_routes, caption_routes)
    routes = [
        *media_routes.routes(), *guest_routes.routes(), *caption_routes.routes(),
        *LinkDesk(settings).routes(), *PollDesk().routes(),
        Route("/", programme_page, name="programme"),
        Route("/s/{session_id}", session_page, name="participant"),
        Route("/moderate/{session_id}", session_page, name="moderator"),
        Route("/stage/{session_id}", session_page, name="stage"),
        Route("/studio/{session_id}", session_page, name="studio"),
        Route("/caption/{session_id}", session_page, name="captioner"),
        Route("/interpret/{session_id}", session_page, name="interpreter"),
        Route("/guest/{session_id}", session_page, name="guest"),
        Route("/guest/{session_id}/{guest_id}/clean", session_page, name="guestfeed"),
        Route("/moderate/{session_id}/{kind:str}.csv", export),
        Route("/control", control_page),
        Route("/control/status", control_status),
        Route("/control/programme", programme_editor("show"), methods=["GET"]),
        Route("/control/programme", programme_editor("save"), methods=["PUT"]),
        Route("/control/programme.toml", programme_editor("download")),
        Route("/programme/version", programme_editor("version")),
        Route("/control/reports/event.{format}", report),
        Route("/control/reports/sessions/{session_id}.{format}", report),
        Route("/replay/{session_id}.json", replay_status),
        Route("/replay/{session_id}", replay_page),
        Route("/replay/{session_id}/{name}", replay_file),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    # Outermost first: every answer gets the security headers, a foreign Host is refused before it
    # takes a connection slot.
    middleware = [Middleware(SecurityHeaders),
                  Middleware(HostCheck, allowed=allowed_hosts(settings)),
                  Middleware(ConnectionLimits, per_address=settings.max_connections_per_address,
                             total=settings.max_connections),
                  Middleware(SessionSocketRoute, endpoint=websocket)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
