"""The interaction bench's plan: which sessions of the demo programme take part, how many participants
each gets in each client process, who asks which question when; and where the server's connections
landed (one count per server process)."""

from __future__ import annotations

import os
import sys

from bench.common import ROOT
from bench.interaction_peer import SESSION

# (local peer index in its client process, question number, send time)
Asker = tuple[int, int, float]


def interactive_sessions(count: int) -> list[str]:
    """`count` sessions of the demo programme that take questions and polls, the burst session
    (`SESSION`) first, then in the programme's order."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from live.config import load_programme

    ids = [s.id for s in load_programme(None).sessions if s.interactive and s.id != SESSION]
    sessions = [SESSION, *ids]
    if not 1 <= count <= len(sessions):
        raise ValueError(f"the demo programme has {len(sessions)} interactive sessions, not {count}")
    return sessions[:count]


def session_shares(participants: int, sessions: list[str]) -> dict[str, int]:
    """Half the participants in the burst session (the first), the rest evenly over the others;
    all of them in it when it is the only one."""
    if len(sessions) == 1:
        return {sessions[0]: participants}
    burst = participants - participants // 2
    rest, others = participants - burst, len(sessions) - 1
    shares = {sessions[0]: burst}
    for i, session in enumerate(sessions[1:]):
        shares[session] = rest // others + (1 if i < rest % others else 0)
    return shares


def process_shares(shares: dict[str, int], processes: int) -> list[dict[str, int]]:
    """Each session's participants spread evenly over the client processes."""
    return [{session: n // processes + (1 if i < n % processes else 0) for session, n in shares.items()}
            for i in range(processes)]


def flood_plan(peer_sessions: list[list[str]], sessions: list[str], questions: int, start: float,
               window: float) -> list[list[Asker]]:
    """Questions from distinct participants, evenly over the window and round the sessions (question
    qi in session qi mod S), askers spread over each session's participants in every client
    process. `peer_sessions`: for each client process, the session of each of its live peers."""
    members: dict[str, list[tuple[int, int]]] = {s: [] for s in sessions}  # (process, local index)
    for process, local in enumerate(peer_sessions):
        for index, session in enumerate(local):
            members[session].append((process, index))
    asked = [0] * len(sessions)
    for qi in range(questions):
        asked[qi % len(sessions)] += 1
    plans: list[list[Asker]] = [[] for _ in peer_sessions]
    for qi in range(questions):
        which = qi % len(sessions)
        pool, n = members[sessions[which]], asked[which]
        if len(pool) < n:
            continue  # fewer participants than questions there: the run reports the shortfall
        process, index = pool[(qi // len(sessions)) * len(pool) // n]
        plans[process].append((index, qi, start + (qi + 0.5) * window / questions))
    return plans


def socket_counts(pids: list[int]) -> list[int]:
    """Open sockets of each process, most first: with several workers, whether the connections
    landed on all of them (the kernel hands each to whichever worker accepts first)."""
    counts = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        n = 0
        for fd in fds:
            try:
                n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
            except OSError:
                continue
        if n:  # a worker holds its listening socket at least; a helper process (none) is left out
            counts.append(n)
    return sorted(counts, reverse=True)
