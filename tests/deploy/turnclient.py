"""The few TURN requests (RFC 5766) the tests need, over UDP, with aioice's STUN codec: an
authenticated Allocate, CreatePermission, a Send indication. Blocking: one request at a time."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from aioice import stun

UDP = 17 << 24  # REQUESTED-TRANSPORT: UDP, in the protocol field's top byte


class TurnRefused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code


@dataclass
class TurnClient:
    server: tuple[str, int]
    username: str
    password: str
    tls_ca: Path | None = None  # TURN over TLS, the server's certificate checked against this
    sock: socket.socket | None = None
    realm: str = ""
    nonce: bytes = b""

    def __enter__(self) -> TurnClient:
        if self.tls_ca is None:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((self.server[0], 0))
            self.sock.settimeout(0.5)
        else:
            context = ssl.create_default_context(cafile=str(self.tls_ca))
            raw = socket.create_connection(self.server, timeout=3)
            self.sock = context.wrap_socket(raw, server_hostname=self.server[0])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sock is not None:
            self.sock.close()

    @property
    def key(self) -> bytes:
        return hashlib.md5(f"{self.username}:{self.realm}:{self.password}".encode()).digest()

    def _exchange(self, message: stun.Message) -> stun.Message:
        assert self.sock is not None
        data = bytes(message)
        if self.tls_ca is not None:  # a stream: STUN messages one after the other (RFC 5389 7.2.2)
            self.sock.sendall(data)
            header = self._read(20)
            return stun.parse_message(header + self._read(int.from_bytes(header[2:4], "big")))
        for _ in range(6):  # UDP: a lost datagram is retried, an answer is never waited for long
            self.sock.sendto(data, self.server)
            try:
                while True:
                    reply = stun.parse_message(self.sock.recvfrom(4096)[0])
                    if reply.transaction_id == message.transaction_id:
                        return reply
            except TimeoutError:
                continue
        raise TimeoutError(f"no answer from {self.server}")

    def _read(self, size: int) -> bytes:
        assert self.sock is not None
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the TURN server closed the connection")
            data += chunk
        return data

    def request(self, method: stun.Method, attributes: dict[str, object]) -> stun.Message:
        """One authenticated request; a first 401 (or 438, stale nonce) brings the realm and nonce."""
        for _ in range(3):
            message = stun.Message(message_method=method, message_class=stun.Class.REQUEST,
                                   transaction_id=os.urandom(12))
            message.attributes.update(attributes)
            if self.nonce:
                message.attributes.update(USERNAME=self.username, REALM=self.realm,
                                          NONCE=self.nonce)
                message.add_message_integrity(self.key)
            message.add_fingerprint()
            reply = self._exchange(message)
            if reply.message_class == stun.Class.RESPONSE:
                return reply
            code, reason = reply.attributes["ERROR-CODE"]
            if code in (401, 438) and "NONCE" in reply.attributes and (
                    code == 438 or not self.nonce):
                self.realm, self.nonce = reply.attributes["REALM"], reply.attributes["NONCE"]
                continue
            raise TurnRefused(code, reason)
        raise TurnRefused(401, "still unauthorised with the server's nonce")

    def allocate(self) -> tuple[str, int]:
        reply = self.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": UDP, "LIFETIME": 60})
        relayed: tuple[str, int] = reply.attributes["XOR-RELAYED-ADDRESS"]
        return relayed

    def permit(self, peer: tuple[str, int]) -> None:
        self.request(stun.Method.CREATE_PERMISSION, {"XOR-PEER-ADDRESS": peer})

    def send(self, peer: tuple[str, int], data: bytes) -> None:
        """A Send indication: coturn relays `data` to `peer` if a permission allows it, else
        drops it silently (indications get no answer)."""
        assert self.sock is not None
        message = stun.Message(message_method=stun.Method.SEND,
                               message_class=stun.Class.INDICATION, transaction_id=os.urandom(12))
        message.attributes.update({"XOR-PEER-ADDRESS": peer, "DATA": data})
        message.add_fingerprint()
        self.sock.sendto(bytes(message), self.server)
