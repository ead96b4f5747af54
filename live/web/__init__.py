"""The thin web layer: routes, pages, the WebSocket session, auth and security headers."""
