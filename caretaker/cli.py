"""The `caretaker` command: run, demo, simulate, check-site, rules check."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from importlib import metadata
from pathlib import Path

from typing import Mapping

from pydantic import ValidationError

from caretaker import i18n
from caretaker.logs import configure_logging
from caretaker.settings import Settings
from caretaker.estate.errors import SiteError
from caretaker.estate.site import load_site
from caretaker.rules.load import RulesError, load_playbooks, load_rules


# the language of what this run prints for a person (docs/deploy.md, "The command's language"), chosen once
# in main(); JSON logs and the replay's table are for programs and stay as they are
_LANG = "en"


def cli_language(environ: Mapping[str, str], flag: str | None = None) -> str:
    """Return the language the CLI speaks: `--lang`, else the shell's locale as POSIX reads it (`LC_ALL`, then
    `LC_MESSAGES`, then `LANG`): zh_CN.* and other Chinese → zh-CN, anything else (C, POSIX, en_US, de_DE,
    unset) → English, the language of a server's shell by default; pure."""
    if flag is not None:
        return i18n.normalize(flag) or "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := environ.get(name, ""):
            return "zh-CN" if i18n.normalize(value.split(".")[0]) == "zh-CN" else "en"
    return "en"


def _say(key: str, /, **params) -> str:
    return i18n.say(f"cli.{key}", _LANG, **params)


def _counted(noun: str, count: int) -> str:
    return _say(f"{noun}_{'one' if count == 1 else 'many'}", count=count)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise SystemExit(_say("bad_settings", problems=problems)) from exc


def _problem(error: dict) -> str:
    """One settings problem as a person reads it: the variable, then what is wrong (pydantic's "Value error, " cut)."""
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:  # a check across settings names them itself
        return message
    return f"CARETAKER_{'_'.join(map(str, error['loc'])).upper()}: {message}"


def _logging(verbose: bool, settings: Settings | None = None, site: str | None = None) -> None:
    configure_logging(verbose, settings.log_format if settings is not None else "text", site)


def _version() -> str:
    try:
        return metadata.version("caretaker")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def cmd_run(args: argparse.Namespace) -> int:
    from caretaker.service import DatabaseUnavailable, Service, load_estates
    from caretaker.ingest.client import BrokerUnavailable

    settings = _settings()
    if args.role is not None:  # the flag wins over CARETAKER_ROLE
        from caretaker.roles import parse_roles

        try:
            parse_roles(args.role)
        except ValueError as exc:
            raise SystemExit(_say("bad_role", why=exc)) from exc
        settings = settings.model_copy(update={"role": args.role})
    _logging(args.verbose, settings)
    try:
        estates = load_estates(settings)  # one site file, or a directory of them (docs/deploy.md, "Many estates")
    except (SiteError, RulesError) as exc:
        print(_say("cannot_start_lines", why=exc), file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:  # EstatesError included: it names every file's problem
        print(_say("cannot_start_lines" if "\n" in str(exc) else "cannot_start", why=exc), file=sys.stderr)
        return 1
    sites = ", ".join(e.site.id for e in estates)
    if len(estates) == 1:
        _logging(args.verbose, settings, estates[0].site.id)  # from here on every JSON line names the estate
    try:
        service = Service(settings, estates)
    except DatabaseUnavailable as exc:
        print(_say("cannot_start", why=exc), file=sys.stderr)
        return 1
    _first_run(service, settings)
    try:
        service.start()
    except (BrokerUnavailable, RuntimeError) as exc:
        print(_say("cannot_start", why=exc), file=sys.stderr)
        service.stop()
        return 1
    serves_api = settings.http_enabled and "api" in service.roles
    api = _say("api_at", url=f"http://{settings.http_host}:{settings.http_port}/") if serves_api else _say("no_api")
    print(_say("running_one" if len(estates) == 1 else "running_many", sites=sites, broker=settings.mqtt, api=api),
          flush=True)
    _wait_for_signal()
    service.stop()
    return 0


def _first_run(service, settings: Settings) -> None:
    """No admin token anywhere: make one and print it once, to standard output only (never to the log)."""
    from caretaker.first_run import announcement, first_admin_token

    if len(service.estates) > 1:
        return  # tokens belong to an estate: with several, the admin token (CARETAKER_ADMIN_TOKEN) is the way in
    token = first_admin_token(service.only.sessions, service.clock.now(), settings.admin_token is not None)
    if token is not None:
        print(announcement(token), flush=True)


def cmd_check_site(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.file)
    except SiteError as exc:
        print(exc, file=sys.stderr)
        count = len(exc.problems)
        print(_say("problems_one" if count == 1 else "problems_many", count=count, file=args.file), file=sys.stderr)
        return 1
    except OSError as exc:
        print(_say("cannot_read", file=args.file, why=exc.strerror), file=sys.stderr)
        return 1
    print(_say("site_ok", site=site.id, buildings=_counted("buildings", len(site.buildings)),
               devices=_counted("devices", len(site.devices)),
               technicians=_counted("technicians", len(site.technicians))))
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    try:
        rules = load_rules(args.file)
    except RulesError as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(_say("cannot_read", file=args.file, why=exc.strerror), file=sys.stderr)
        return 1
    books = load_playbooks(args.file)  # checked with the rules above; the defaults when the file has none
    print(_say("rules_ok", file=args.file, rules=len(rules), playbooks=len(books)))
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    from caretaker.replay import ReplayError, replay

    try:
        rules = load_rules(args.file)
        site = load_site(args.site)
    except (RulesError, SiteError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(_say("cannot_read_plain", why=exc), file=sys.stderr)
        return 1
    try:
        with open(args.replay, encoding="utf-8") as stream:
            replay(site, rules, stream, sys.stdout)
    except ReplayError as exc:
        print(f"{args.replay}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(_say("cannot_read", file=args.replay, why=exc.strerror), file=sys.stderr)
        return 1
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from caretaker.simulators import cli as simulators_cli
    from caretaker.simulators.broker import BrokerAddress

    settings = _settings()
    site = None
    if not args.list and not args.write_load_site and settings.site_file is not None:
        try:
            site = load_site(settings.site_file)
        except SiteError as exc:
            print(exc, file=sys.stderr)
            return 1
    target = settings.mqtt
    address = BrokerAddress(target.host, target.port, target.username, target.password, target.tls)
    return simulators_cli.main(args, site, address, settings.mqtt_prefix)


def cmd_demo(args: argparse.Namespace) -> int:
    from caretaker.demo import run_demo

    _logging(args.verbose)
    port = args.port if args.port is not None else _env_port("CARETAKER_HTTP_PORT", 8000)
    return run_demo(port=port, broker_port=args.broker_port, data_dir=Path(args.data_dir), seed=args.seed,
                    speed=args.speed, admin_token=os.environ.get("CARETAKER_ADMIN_TOKEN") or None)


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(_say("bad_port", name=name, raw=repr(raw)))
    return int(raw)


def build_parser() -> argparse.ArgumentParser:
    from caretaker.simulators import cli as simulators_cli

    parser = argparse.ArgumentParser(prog="caretaker", description="Alarms to tickets to the nearest technician.")
    parser.add_argument("--version", action="version", version=f"caretaker {_version()}")
    parser.add_argument("--lang", default=None, metavar="LANG",
                        help="zh-CN or en for the messages (default: LC_ALL, LC_MESSAGES or LANG; zh_CN.* is zh-CN)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="the service: ingest, rules, dispatch, timers, HTTP API")
    run.add_argument("-v", "--verbose", action="store_true")
    run.add_argument("--role", default=None, metavar="ROLES",
                     help="what this instance runs, comma-separated: ingest, timers, api (default all three, or "
                          "CARETAKER_ROLE); see docs/deploy.md, Scaling out")
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser("demo", help="everything on this machine with no set-up")
    demo.add_argument("--port", type=int, default=None,
                      help="HTTP port (default CARETAKER_HTTP_PORT, else 8000; a free one is chosen if taken)")
    demo.add_argument("--broker-port", type=int, default=1883, help="embedded broker port (a free one if taken)")
    demo.add_argument("--data-dir", default=".demo", help="where the demo keeps its database (default .demo)")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--speed", type=float, default=1.0)
    demo.add_argument("-v", "--verbose", action="store_true")
    demo.set_defaults(handler=cmd_demo)

    simulate = commands.add_parser("simulate", help="device and technician simulators publishing to the broker")
    simulators_cli.add_arguments(simulate)
    simulate.set_defaults(handler=cmd_simulate)

    check = commands.add_parser("check-site", help="validate a site file and name every problem with its line")
    check.add_argument("file")
    check.set_defaults(handler=cmd_check_site)

    rules = commands.add_parser("rules", help="work with rules files")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="SUBCOMMAND")
    rules_check = rules_commands.add_parser("check", help="validate a rules file")
    rules_check.add_argument("file")
    rules_check.set_defaults(handler=cmd_rules_check)
    rules_test = rules_commands.add_parser(
        "test", help="replay recorded readings through the rules and print the alerts and tickets they give")
    rules_test.add_argument("file", help="the rules file")
    rules_test.add_argument("--site", required=True, help="the site file")
    rules_test.add_argument("--replay", required=True, metavar="READINGS.jsonl",
                            help="one reading per line, replayed at its own timestamp")
    rules_test.set_defaults(handler=cmd_rules_test)
    return parser


def main(argv: list[str] | None = None) -> int:
    global _LANG
    args = build_parser().parse_args(argv)
    if args.lang is not None and i18n.normalize(args.lang) is None:
        raise SystemExit(i18n.say("cli.bad_lang", cli_language(os.environ), lang=args.lang))
    _LANG = cli_language(os.environ, args.lang)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
