"""Each test named below, run against a deliberately broken copy of the code, must fail.

A test that passes whatever the code does proves nothing. For each case: a scratch copy of the
committed tree (`git archive HEAD`), one small break in one file (an exact string replacement that
must match exactly once, so a break the code has moved away from is reported, not silently
skipped), then the named tests with the checkout's venv, the scratch copy as the working
directory (so `live` and `tests` are the copy's). pytest failing (exit 1) is "caught", passing
(exit 0) is "MISSED"; any other exit is an error. The same tests first run once on an unbroken
copy, which must pass with nothing skipped, else no verdict means anything.

    scripts/break-check [case ...]      (default: every case; --list names them)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
WORK = Path(os.environ.get("BREAK_CHECK_WORK", "/tmp/tribune-break"))
PYTEST = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rfEs"]
ACCEPTED = "tests/domain/test_moderation.py::test_{}_commands_are_accepted_from_{}[{}]"


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # the one file broken, relative to the tree
    old: str  # must occur exactly once in `file`
    new: str
    tests: tuple[str, ...]
    bug: str  # the real bug the break stands for


def moderator_sample(name: str) -> tuple[str, ...]:
    return (ACCEPTED.format("moderator", "moderators", f"moderator-{name}"),)


BALLOT_RETRY = ("live/domain/polls.py", "if poll.ballots.get(voter) == choices:",
                "if poll.ballots.get(voter) == cmd.choices:")

CASES = [
    Case("hide-results", "live/domain/polls.py",
         "[e.ResultsHidden(poll.id)] if poll.results_visible else []",
         "[e.ResultsHidden(poll.id)] if not poll.results_visible else []",
         moderator_sample("HideResults"), "HideResults' condition inverted: visible results stay"),
    Case("poll-on-stage", "live/domain/polls.py",
         "return [] if state.stage_poll_id == poll.id else",
         "return [] if state.stage_poll_id != poll.id else",
         moderator_sample("PutPollOnStage"), "the already-on-stage check inverted"),
    Case("unban", "live/domain/room.py", "ban.ban_id == cmd.ban_id", "p == cmd.ban_id",
         moderator_sample("UnbanParticipant"), "the ban looked up by participant id, not ban id"),
    Case("withdraw-upvote", "live/domain/room.py", "if voter not in question.voters:",
         "if voter in question.voters:",
         (ACCEPTED.format("participant", "participants", "WithdrawUpvote"),),
         "withdrawing only an upvote one never gave"),
    Case("fuzz-premoderation", "live/domain/room.py",
         "if capability not in actor.capabilities:",
         "if capability not in actor.capabilities and not isinstance(command, c.SetPremoderation):",
         ("tests/e2e/test_protocol_fuzz.py::test_hostile_frames_are_answered_or_closed_as_documented",),
         "SetPremoderation let through without the MODERATE capability"),
    Case("counted-once-service", *BALLOT_RETRY,
         ("tests/service/test_service.py::"
          "test_votes_of_two_processes_never_conflict_and_both_converge",),
         "a retried ballot compared as a list with the stored tuple: appended again"),
    # test_faults does not catch BALLOT_RETRY, rightly: a ballot replaces its voter's earlier one,
    # so the tallies it checks cannot double; and after a kill -9 a re-sent ballot may be decided
    # before the surviving worker has read the dead one's record, so a second record there is no
    # bug. What it names is the other way to be counted twice: coming back as someone else.
    Case("counted-once-faults", "live/web/ws.py",
         'grant, hello.get("participant"), self.ws.client.host',
         'grant, hello.get("participant_id"), self.ws.client.host',
         ("tests/e2e/test_faults.py::test_a_worker_killed_mid_burst_loses_no_acknowledged_vote_"
          "nor_any_voter_s_identity",),
         "the Hello's identity read from the wrong field: a voter reconnects as someone new"),
    Case("bus-closed-healthy", "live/bus/memory.py",
         "        self._closed = True\n        self._listeners.clear()",
         "        self._listeners.clear()",
         ("tests/bus/test_bus_contract.py::test_healthy_while_delivering_and_not_once_closed[memory]",),
         "close() forgets to mark the memory bus closed: /healthz says healthy"),
    Case("js-skipped", "tests/js/linktoken.test.mjs",
         'test("a session page keeps', 'test.skip("a session page keeps',
         ("tests/test_js.py",), "a JS test left skipped (the break is in the test tree)"),
    Case("js-not-loading", "tests/js/linktoken.test.mjs",
         "import { KEY_PREFIX,", "import { KEY_PREFIXES,",
         ("tests/test_js.py",),
         "a JS test file importing a name its module no longer exports (in the test tree)"),
    Case("relay-rcvbuf", "live/media/relay.py",
         "        internals.set_udp_receive_buffer(UDP_RECEIVE_BUFFER)\n", "",
         ("tests/media/test_endpoints.py::test_the_studio_socket_gets_a_wide_receive_buffer",),
         "the relay no longer asks for its wide UDP receive buffer"),
    Case("xss-stage", "static/js/stage.js",
         "setText(ui.text, q.text);", "ui.text.innerHTML = q.text;",
         ("tests/e2e/test_browser_xss.py",), "the stage renders a question's text as HTML"),
    Case("csv-plus", "live/web/exports.py", r'"=+-@\t\r"', r'"=-@\t\r"',
         ("tests/web/test_exports.py",), "a cell starting with + exported as a formula"),
    Case("csv-cr", "live/web/exports.py", r'"=+-@\t\r"', r'"=+-@\t"',
         ("tests/web/test_exports.py",), "a cell starting with a carriage return not defused"),
    Case("statejs-staleness", "static/js/state.js",
         "item) => seq === null || seq >= (item.countsSeq || 0);", "item) => seq === null || seq >= 0;",
         ("tests/test_js.py",),
         "state.js: a tally overwrites an item's newer counts (no per-item staleness)"),
    Case("statejs-own-count", "static/js/state.js",
         "q.id === msg.question_id && seq > (q.countsSeq || 0)", "q.id === msg.question_id",
         ("tests/test_js.py",),
         "state.js counts one's own upvote again when a newer tally already counted it"),
    Case("statejs-own-record", "static/js/state.js",
         '(["stage", "settings", "banned", "me"])', '(["stage", "settings", "banned"])',
         ("tests/test_views.py::test_old_view_plus_projected_events_equals_fresh_view",),
         "state.js no longer takes an event's `me`: one's own upvotes and ballots go unrecorded"),
    Case("stage-moderates", "live/domain/actor.py",
         "Role.STAGE: frozenset(),", "Role.STAGE: frozenset({Capability.MODERATE}),",
         ("tests/e2e/test_authorization.py::test_every_forbidden_command_is_refused_and_changes_nothing",),
         "the stage screen given the moderators' capability"),
    Case("token-expiry", "live/web/auth.py", "if grant.expires < now:",
         "if grant.expires + 60 < now:", ("tests/web/test_signer.py",),
         "a minute's grace for clock skew: a token accepted after its expiry"),
]


class Broken(Exception):
    """The check itself cannot run: its verdict would mean nothing."""


def scratch(name: str, commit: str) -> Path:
    """A fresh copy of the committed tree whose `live` and `tests` are the ones Python imports."""
    directory = WORK / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(directory)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise Broken(f"git archive {commit} failed")
    if (ROOT / "node_modules").is_dir():  # installed, never committed (axe-core for browser tests)
        (directory / "node_modules").symlink_to(ROOT / "node_modules")
    where = subprocess.run([str(PYTHON), "-c", "import live, tests; print(live.__file__); "
                            "print(tests.__file__)"], cwd=directory, env=environment(),
                           capture_output=True, text=True, check=True).stdout.split()
    if not all(Path(p).resolve().is_relative_to(directory.resolve()) for p in where):
        raise Broken(f"{name}: the copy imports {where}, not its own tree")
    return directory


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # nothing but the copy's tree and the venv
    env["COLUMNS"] = "200"  # pytest's summary lines keep more of each failure's message
    return env


def apply(directory: Path, case: Case) -> None:
    path = directory / case.file
    text = path.read_text("utf-8")
    found = text.count(case.old)
    if found != 1:
        raise Broken(f"{case.name}: {case.file} holds the text to break {found} times, not once: "
                     f"the code moved, update the case ({case.old!r})")
    path.write_text(text.replace(case.old, case.new), "utf-8")


def run(directory: Path, tests: list[str], log: Path, *, stop_first: bool = True) -> tuple[int, float]:
    args = PYTEST if stop_first else [a for a in PYTEST if a != "-x"]
    start = time.monotonic()
    with log.open("w") as out:
        rc = subprocess.run([str(PYTHON), *args, *tests], cwd=directory, env=environment(),
                            stdout=out, stderr=subprocess.STDOUT).returncode
    return rc, time.monotonic() - start


def first_failure(log: Path) -> str:
    for line in log.read_text("utf-8", "replace").splitlines():
        if line.startswith(("FAILED tests/", "ERROR tests/")):  # not captured log lines
            return line if len(line) <= 200 else line[:197] + "..."
    return ""


def baseline(cases: list[Case], commit: str) -> float:
    """The union of the cases' tests on the unbroken copy: all pass, none skipped."""
    tests = list(dict.fromkeys(t for case in cases for t in case.tests))
    directory = scratch("baseline", commit)
    log = WORK / "baseline.log"
    print(f"baseline: {len(tests)} test selections on the unbroken copy ...", flush=True)
    rc, seconds = run(directory, tests, log, stop_first=False)
    summary = log.read_text("utf-8", "replace").strip().splitlines()[-1:]
    if rc != 0 or not summary or re.search(r"skipped|deselected|no tests ran", summary[0]):
        raise Broken(f"the unbroken copy does not pass cleanly (exit {rc}: {summary}); see {log}")
    print(f"baseline: {summary[0]}", flush=True)
    return seconds


def main(argv: list[str]) -> int:
    by_name = {case.name: case for case in CASES}
    if argv[:1] in (["-h"], ["--help"], ["--list"]):
        print(__doc__ if argv[0] != "--list" else "\n".join(
            f"{c.name:24} {c.file}: {c.bug}" for c in CASES))
        return 0
    unknown = [name for name in argv if name not in by_name]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)} (--list names them)", file=sys.stderr)
        return 2
    cases = [by_name[name] for name in argv] if argv else CASES
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        base_seconds = baseline(cases, commit)
        rows = []
        for case in cases:
            directory = scratch(case.name, commit)
            apply(directory, case)
            log = WORK / f"{case.name}.log"
            rc, seconds = run(directory, list(case.tests), log)
            verdict = {1: "caught", 0: "MISSED"}.get(rc, f"error (pytest exit {rc})")
            rows.append((case, verdict, seconds, first_failure(log) if rc == 1 else ""))
            print(f"{case.name}: {verdict} in {seconds:.0f} s", flush=True)
    except Broken as exc:
        print(f"break-check: {exc}", file=sys.stderr)
        return 2
    print(f"\nHEAD {commit[:12]}, {time.strftime('%Y-%m-%d')}, baseline passed in {base_seconds:.0f} s\n")
    print("| case | file broken | test | verdict | seconds |\n|---|---|---|---|---|")
    for case, verdict, seconds, _ in rows:
        tests = "<br>".join(f"`{t.removeprefix('tests/')}`" for t in case.tests)
        print(f"| {case.name} | `{case.file}` | {tests} | {verdict} | {seconds:.0f} |")
    print("\nWhat each break stands for, and the first failure it caused:")
    for case, _, _, failure in rows:
        print(f"- {case.name}: {case.bug}\n    {failure or '(no failure)'}")
    if any(verdict.startswith("error") for _, verdict, _, _ in rows):
        return 2
    return 1 if any(verdict == "MISSED" for _, verdict, _, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
