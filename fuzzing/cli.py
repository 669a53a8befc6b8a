"""`python -m fuzzing`: hold a server to openapi.yaml; exit 0 only when no violation was found.

Without `--url` the reference server is started on a free loopback port with throwaway state,
fuzzed and stopped. With `--url` any implementation is fuzzed over HTTP; the run must be the
only client of that team while it lasts (the state rules follow each thread's answers).

Every request is signed as a bot (`--bot-id`, `--secret-key`, or `$WORKONFLOW_BOT_ID` and
`$WORKONFLOW_SECRET_KEY`, else the demo bot); the secret key is never printed or written.
`python -m fuzzing sign` prints the signature headers of a body (the reproductions use it) and
`python -m fuzzing replay FILE` re-sends a violation's sequence, signed again.

A real deployment is fuzzed with `--fixtures FILE` (the threads and users that exist there),
`--rate-limit N` (requests per second, all phases together; 429 and 503 with `Retry-After` are
waited out) and `--exclude OPERATION` for what must be left alone. When the budget ends, or on
SIGINT or SIGTERM, every call the run started is ended (`fuzzing.cleanup`); a second signal
stops at once and says what was left running.

Exit status: 0 no violation; 1 violations (or errors while testing); 2 the target cannot be
used (unreachable, signature or team refused, most answers 404 for unknown ids without
`--fixtures`) or bad options; 3 the fuzzer stalled past its time limit; 128 + the signal's
number when interrupted.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from contract.fixtures import Fixtures, FixturesError
from contract.fixtures import read as read_fixtures
from contract.spec import SPEC_PATH, load
from fuzzing import request_signing
from fuzzing.cleanup import SecondInterrupt
from fuzzing.events_cli import EMBEDDED_WEBHOOK, add_event_options, events_for
from fuzzing.runner import DEFAULT_CONFIG, ROOT, ConfigurationError, Options
from fuzzing.target import DEMO_TEAM, TargetError, first_contact

if TYPE_CHECKING:
    from fuzzing import runner

#: Seconds of fuzzing when `--budget` is not given: all four schemathesis phases run. In
#: `nox -s bench -- fuzz` on a loaded two-core machine (load average about 15) the faults of the
#: boundary phase, the contract model and the call events were caught within it, some of
#: schemathesis's own checks only after up to 12.4 s: a team's CI run should give more.
DEFAULT_BUDGET = 10
#: The run is stopped when it outlives its budget by this much (schemathesis can stall).
STALL_MARGIN = 60

_N = TypeVar("_N", int, float)

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_UNUSABLE, EXIT_STALLED = 0, 1, 2, 3


def _object_id(text: str) -> str:
    spec = load()
    if not spec.id_matches(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an id of the spec ({spec.id_pattern})")
    return text


def _number(
    convert: Callable[[str], _N], what: str, low: float, high: float | None = None
) -> Callable[[str], _N]:
    """An argparse type: `convert` the text, refusing what is not between `low` and `high`."""

    def parse(text: str) -> _N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value < low or (high is not None and value > high):
            limit = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{value} is not {limit}")
        return value

    return parse


_positive = _number(int, "a whole number of seconds", 1)
_seed = _number(int, "an integer", 0)
_percent = _number(float, "a number", 0, 100)
_non_negative = _number(int, "a whole number", 0)
_rate = _number(float, "a number of requests per second", 0.1)


def _operation(text: str) -> str:
    """An operation by `{method}` (`call.audio/play`) or operationId (`callAudioPlay`)."""
    try:
        return load().operation(text).method
    except KeyError as error:
        raise argparse.ArgumentTypeError(str(error.args[0])) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox -s fuzz --",
        description="Fuzz a Call API implementation against openapi.yaml with schemathesis "
        "(all built-in checks, all phases, plus the contract's own checks). Exit status: 0 no "
        "violation, 1 violations, 2 the target cannot be used, 3 the run stalled.",
        epilog="With --url, use a team no other client acts on during the run: the contract "
        "model follows each thread's answers. `python -m fuzzing replay FILE [--url URL]` "
        "re-sends the sequence of a violation's replay file, signed again, and judges it "
        "again; `python -m fuzzing sign --body-file F` prints the signature headers of a body "
        "(the curl reproductions call it).",
    )
    parser.add_argument(
        "--url", help="base URL of the server to fuzz (default: start the reference server)"
    )
    parser.add_argument(
        "--team",
        type=_object_id,
        default=DEMO_TEAM,
        help="team id the bot is installed in (default: the demo team %(default)s)",
    )
    parser.add_argument(
        "--bot-id",
        type=_object_id,
        default=None,
        help=f"the bot that signs every request (default: ${request_signing.BOT_ID_VARIABLE}, "
        "else the demo bot)",
    )
    parser.add_argument(
        "--secret-key",
        default=None,
        help=f"the bot's secret key (default: ${request_signing.SECRET_VARIABLE}, else the demo "
        "bot's; prefer the variable: a command line is visible to other users). Never printed",
    )
    parser.add_argument(
        "--budget",
        type=_positive,
        default=DEFAULT_BUDGET,
        help="seconds of fuzzing after the boundary phase, which sends all its cases first "
        "(about two thousand: with --rate-limit N, about 2000/N s); the phases repeat until it "
        "is spent (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="random seed: the same seed sends the same cases in the same order (how many "
        "depends on the budget and the server's speed, unless --passes says) (default: random, "
        "printed)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=ROOT / "reports",
        help="where the JUnit XML, JSON results, HTML page and replay files go (default: reports/)",
    )
    parser.add_argument(
        "--min-coverage",
        type=_percent,
        default=None,
        metavar="PERCENT",
        help="fail (exit 1) when the coverage is below PERCENT. Coverage counts two kinds of "
        "items equally: each documented status of each operation (openapi.yaml's responses; "
        "not 5xx, which are failures) that some answer had, and each transition of the "
        "contract model that ran at least once; it is (statuses seen + transitions run) / "
        "(statuses documented + transitions known), printed at the end of every run",
    )
    parser.add_argument(
        "--walk-steps",
        type=_non_negative,
        default=400,
        help="requests of the model-guided walk that runs before schemathesis, at most a "
        "quarter of the budget (0: no walk) (default: %(default)s)",
    )
    add_event_options(parser)
    parser.add_argument(
        "--stop-on",
        metavar="CHECK",
        default=None,
        help="end the run at the first violation of CHECK (a check of the run's table, e.g. "
        "contract_model) instead of spending the whole budget; the phases that never report "
        "CHECK are left out (the boundary phase reports spec_boundaries only, the walk "
        "contract_model only)",
    )
    parser.add_argument(
        "--passes",
        type=_positive,
        default=None,
        metavar="N",
        help="end the run once schemathesis's fuzzing and stateful phases have had N turns "
        "each (the phases before them run once), even with budget left: with --seed, a run "
        "of the same cases on any machine, the budget only a cap (default: turns until the "
        "budget is spent)",
    )
    target = parser.add_argument_group("a real deployment")
    target.add_argument(
        "--fixtures",
        type=Path,
        default=None,
        metavar="FILE",
        help="a TOML file of the ids that exist on the target: `threads = [...]`, "
        "`users = [...]`, optionally `audio = [...]` (file URLs it can fetch). Every valid "
        "request of every phase names them; ids outside them appear only in cases meant to "
        "get the unknown-id answer (404, contract 2.4.0). Without it ids are random, as the "
        "sandbox makes them on demand",
    )
    target.add_argument(
        "--rate-limit",
        type=_rate,
        default=None,
        metavar="N",
        help="at most N requests per second, all phases together (default: no limit); a 429, "
        "or a 503 with Retry-After, is waited out and the request sent again, never a "
        "violation, counted in the summary",
    )
    target.add_argument(
        "--include",
        type=_operation,
        action="append",
        default=[],
        metavar="OPERATION",
        help="fuzz only this operation (`call/start` or `callStart`); repeatable",
    )
    target.add_argument(
        "--exclude",
        type=_operation,
        action="append",
        default=[],
        metavar="OPERATION",
        help="leave this operation alone (e.g. call.audio/play, which makes the server fetch "
        "a URL); repeatable. What is left out is listed in the coverage, not counted missing",
    )
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


class _Signals:
    """SIGINT and SIGTERM: the first stops the fuzzing (the calls are ended after it), a second
    stops at once: no call is ended any more (`SecondInterrupt` while they are being ended),
    and those not ended are listed as left running."""

    def __init__(self, stop: threading.Event) -> None:
        self.first = ""
        self.abandoned = False
        self.ending = False  # the calls are being ended
        self.stop = stop  # stops every wait of the run's pace

    def __call__(self, number: int, frame: FrameType | None) -> None:
        if not self.first:
            self.first = signal.Signals(number).name
            raise KeyboardInterrupt
        self.abandoned = True
        self.stop.set()
        if self.ending:
            raise SecondInterrupt

    @property
    def exit_status(self) -> int:
        return 128 + int(signal.Signals[self.first]) if self.first else 0


@contextmanager
def _signals(stop: threading.Event) -> Iterator[_Signals]:
    handler = _Signals(stop)
    previous = {
        number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield handler
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def resigner(bot: request_signing.Bot) -> Callable[[Any], None]:
    """Sign a prepared request again, if it carried `bot`'s valid signature (not a forgery)."""

    def resign(request: Any) -> None:
        body = request_signing.body_bytes(request.body)
        if request_signing.is_signed(bot, request.headers, body):
            request.headers.update(bot.headers(body))

    return resign


def _announce(options: Options) -> None:
    print(
        f"fuzz: {options.url} team {options.team} bot {options.bot.bot_id}, "
        f"budget {options.budget} s, seed {options.seed}",
        flush=True,
    )
    if options.fixtures is not None:
        fixtures = options.fixtures
        print(
            f"fuzz: ids from {fixtures.source}: {len(fixtures.threads)} threads, "
            f"{len(fixtures.users)} users, {len(fixtures.audio)} audio files",
            flush=True,
        )
    if options.rate_limit:
        print(f"fuzz: at most {options.rate_limit:g} requests/s", flush=True)
    if options.left_out:
        print(f"fuzz: left out: {', '.join(options.left_out)}", flush=True)


def _fuzz(options: Options, args: argparse.Namespace) -> int:
    from fuzzing import boundaries, cleanup, events, noise, pace, report, results, runner, stopping

    first_contact(options.url, options.team, options.bot)
    _announce(options)
    ledger = cleanup.Ledger()
    run_pace = pace.Pace(options.rate_limit)

    def observe(request: Any, response: Any) -> None:
        status = int(response.status_code) if response is not None else None
        body = request_signing.body_bytes(request.body)
        ledger.note_request(urlsplit(str(request.url)).path, body, status)

    found = result = None
    progress = None if args.quiet else report.Progress()
    with (
        _signals(run_pace.stop) as signals,
        pace.paced_requests(run_pace, resigner(options.bot), observe),
    ):
        try:
            if stopping.runs(boundaries.PHASE, options.stop_on):
                found = boundaries.run(options, ledger=ledger)  # the spec's near misses, first
            caught = found is not None and stopping.caught(options.stop_on, found)
            if not caught and stopping.runs(stopping.SCHEMATHESIS, options.stop_on):
                result = runner.run(
                    options, progress=progress, hard_timeout=options.budget + STALL_MARGIN
                )
        except KeyboardInterrupt:
            pass
        finally:
            if progress is not None:
                progress.close()
        signals.ending = True
        if signals.abandoned:
            done = cleanup.abandon(ledger)
        else:
            end = cleanup.http_end_call(options.url, options.bot, tell=events.answered)
            done = cleanup.end_calls(ledger, end)
        signals.ending = False
    result = result or runner.empty_result(options)
    if found is not None:
        boundaries.merge(found, result)
        if not result.stop_reason and stopping.caught(options.stop_on, found):
            result.stop_reason = results.STOPPED_ON
    events.conclude(result, args.events_grace)
    result.waits = run_pace.figures()
    result.cleanup = done.as_dict()
    result.interrupted = signals.first or ("SIGINT" if result.stop_reason == "interrupted" else "")
    noise.fold(result)
    junit, data = report.write_reports(result, args.report_dir)
    print(report.summary(result))
    print(f"Reports: {junit}, {data}, {args.report_dir / report.HTML_NAME}")
    if result.stop_reason == "server_unavailable":
        print(f"fuzz: {options.url} stopped answering during the run", file=sys.stderr)
    if signals.first:
        return signals.exit_status
    if result.stalled:
        return EXIT_STALLED
    if not _coverage_met(result, args.min_coverage):
        return EXIT_VIOLATIONS
    if result.cause and not result.violations:
        return EXIT_UNUSABLE
    return EXIT_CLEAN if result.ok else EXIT_VIOLATIONS


def _coverage_met(result: runner.RunResult, minimum: float | None) -> bool:
    if minimum is None:
        return True
    percent = result.coverage.percent
    if percent < minimum:
        print(
            f"fuzz: coverage {percent:.1f}% is below --min-coverage {minimum:g}%",
            file=sys.stderr,
        )
        return False
    return True


def _check_names() -> set[str]:
    """Every check a run can report: schemathesis's, the custom ones, the boundary phase's."""
    import schemathesis.specs.openapi.checks  # noqa: F401  (registers the OpenAPI checks)
    from schemathesis.checks import CHECKS

    from fuzzing import boundaries, checks, events

    return {*CHECKS.get_all_names(), *checks.CUSTOM_CHECKS, boundaries.CHECK, events.CHECK}


def _tuned(options: Options, args: argparse.Namespace, fixtures: Fixtures | None) -> Options:
    """The run's options with the walk's length, the check to stop on, and what a real
    deployment needs (fixtures, rate, operations left out), as given."""
    methods = list(load().operations)
    left_out = [m for m in methods if args.include and m not in args.include]
    left_out += [m for m in args.exclude if m not in left_out]
    return replace(
        options,
        walk_steps=args.walk_steps,
        stop_on=args.stop_on,
        passes=args.passes,
        fixtures=fixtures,
        rate_limit=args.rate_limit,
        left_out=tuple(m for m in methods if m in left_out),
    )


def _bot(bot_id: str | None, secret_key: str | None) -> request_signing.Bot | None:
    """The run's bot from the options, else the environment, else the demo bot."""
    bot = request_signing.credentials(bot_id, secret_key)
    try:
        _object_id(bot.bot_id)
    except argparse.ArgumentTypeError as error:
        print(f"fuzz: ${request_signing.BOT_ID_VARIABLE}: {error}", file=sys.stderr)
        return None
    if not bot.secret_key.isprintable():
        print("fuzz: the secret key is not printable text", file=sys.stderr)
        return None
    return bot


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["replay"]:
        from fuzzing import replay

        return replay.main(argv[1:])
    if argv[:1] == ["sign"]:
        return request_signing.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.stop_on is not None and args.stop_on not in _check_names():
        parser.error(f"--stop-on {args.stop_on!r} is not a check of this fuzzer")
    bot = _bot(args.bot_id, args.secret_key)
    if bot is None:
        return EXIT_UNUSABLE
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    for path in (args.spec, args.config):
        if not path.is_file():
            print(f"fuzz: {path} does not exist", file=sys.stderr)
            return EXIT_UNUSABLE
    try:
        fixtures = read_fixtures(args.fixtures) if args.fixtures else None
    except FixturesError as error:
        print(f"fuzz: --fixtures {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        if args.url:
            if not args.url.startswith(("http://", "https://")):
                raise TargetError(f"--url {args.url!r} is not an http(s) URL")
            options = Options(args.url, args.team, bot, args.budget, seed, args.spec, args.config)
            with events_for(args, bot, args.events_listen):
                return _fuzz(_tuned(options, args, fixtures), args)
        from fuzzing.embedded import ReferenceServer

        with (
            events_for(args, bot, args.events_listen or EMBEDDED_WEBHOOK) as ledger,
            ReferenceServer(webhooks=[ledger.url] if ledger else []) as server,
        ):
            options = Options(server.url, args.team, bot, args.budget, seed, args.spec, args.config)
            return _fuzz(_tuned(options, args, fixtures), args)
    except (TargetError, ConfigurationError) as error:
        print(f"fuzz: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("fuzz: interrupted", file=sys.stderr)
        return 130
