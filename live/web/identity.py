"""Who a participant connection is: a registrant, a returning participant, or a new one.

A personal link's token names its registrant, and the participant is that registrant whatever the
identity the browser offers. Otherwise the browser's identity (issued on an earlier visit, signed)
is kept, and a connection without one gets a new identity, if its network address may have one:
a public link hands identities to whoever asks, so new ones are budgeted per address (shared by
every worker through the store), and refused for a while from the address of a participant just
banned (`live.limits`). The organiser can also switch the public link off (registered mode).
"""

from __future__ import annotations

from dataclasses import dataclass

from live import protocol as p
from live.limits import ADDRESS_MEMORY, AddressLimits, limited_address
from live.registrants import Registry
from live.store import Store
from live.web.auth import Grant, Signer


class Refused(Exception):
    """No participant identity for this connection: close with `code`, saying `reason`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Identity:
    participant_id: str
    key: str
    registered: bool = False
    profile: dict[str, str | None] | None = None  # a registrant's name and organisation


class Identities:
    def __init__(self, signer: Signer, store: Store, *, registry: Registry | None = None,
                 limits: AddressLimits | None = None, public_link: bool = True) -> None:
        self.signer = signer
        self.store = store
        self.registry = registry or Registry()
        self.limits = limits or AddressLimits()
        self.public_link = public_link

    async def admit(self, grant: Grant, offered: object, client: str | None) -> Identity:
        """The identity of a participant connection with `grant`, offering `offered` (the
        Hello's `participant`), from network address `client`; raises Refused."""
        group = limited_address(client)
        if grant.registrant is not None:
            registrant = self.registry.get(grant.registrant)
            if registrant is None:
                raise Refused(p.CLOSE_UNAUTHORIZED, "this personal link is no longer valid")
            pid, registered, profile = registrant.id, True, registrant.profile()
        elif not self.public_link:
            raise Refused(p.CLOSE_PUBLIC_LINK_OFF,
                          "registered participants only: open the personal link you received")
        else:
            registered, profile = False, None
            known = self.signer.check_participant(offered)
            pid = known if known is not None else await self._new_identity(group)
        if group is not None:  # where a ban would hold (open mode and registered alike)
            await self.store.note_address(pid, group, ADDRESS_MEMORY)
        return Identity(pid, self.signer.participant_key(pid), registered, profile)

    async def _new_identity(self, group: str | None) -> str:
        if group is not None:
            burst, per_minute = self.limits.identity_burst, self.limits.identities_per_minute
            if burst <= 0:  # no budget: only a ban's hold refuses
                burst, per_minute = 10**9, 10.0**9
            admission = await self.store.admit_identity(group, burst, per_minute / 60)
            if admission == "held":
                raise Refused(p.CLOSE_ADDRESS_HELD, "new participants from your network address "
                              "are refused for a while after a ban")
            if admission == "limited":
                raise Refused(p.CLOSE_TOO_MANY_IDENTITIES, "too many new participants from your "
                              "network address: try again in a minute")
        pid, _ = self.signer.new_participant()
        return pid
