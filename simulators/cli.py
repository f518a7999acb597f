"""The options and body of `caretaker simulate`; the caller parses the broker URL and site file."""

from __future__ import annotations

import argparse
import sys
import threading

from caretaker.estate.model import Site

from caretaker.simulators.broker import BrokerAddress, SimulatorError
from caretaker.simulators.load import load_devices, run_load, write_load_site
from caretaker.simulators.runner import SCENARIOS, run_simulation


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to `parser`."""
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--scenario", metavar="NAME", help="play this scenario once, then exit")
    parser.add_argument("--loop", action="store_true", help="play every scenario in turn, forever")
    parser.add_argument("--seed", type=int, default=0, help="random seed: same seed, same incidents (default 0)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="divide scenario and technician delays by this (default 1)")
    parser.add_argument("--no-technicians", action="store_true", help="do not run technician bots")
    parser.add_argument("--leave-offline", action="store_true",
                        help="on exit, mark every simulated device offline (default: they stay online)")
    parser.add_argument("--shared-client", action="store_true",
                        help="one MQTT connection for all devices (default: one each up to 60)")
    load = parser.add_argument_group("load mode")
    load.add_argument("--load", action="store_true", help="publish telemetry at a fixed rate instead")
    load.add_argument("--devices", type=int, default=100, metavar="N",
                      help="devices in load mode and in --write-load-site (default 100)")
    load.add_argument("--rate", type=float, default=1000.0, metavar="R", help="messages per second in total")
    load.add_argument("--duration", type=float, default=10.0, metavar="S", help="seconds to run")
    load.add_argument("--qos", type=int, choices=(0, 1), default=0, help="telemetry QoS (default 0)")
    load.add_argument("--clients", type=int, default=1, metavar="C", help="MQTT connections to spread load over")
    load.add_argument("--write-load-site", metavar="PATH",
                      help="write a site file with --devices devices for a load run, and exit")


def main(args: argparse.Namespace, site: Site | None, address: BrokerAddress, prefix: str) -> int:
    """Run what `args` ask for and return the exit status (0 done, 1 failed, 2 bad usage)."""
    if args.list:
        width = max(map(len, SCENARIOS))
        for name, description in SCENARIOS.items():
            print(f"{name:<{width}}  {description}")
        return 0
    if args.write_load_site:
        write_load_site(args.write_load_site, args.devices)
        print(f"wrote {args.write_load_site}: site 'load' with {args.devices} devices")
        return 0
    if args.scenario is not None and args.scenario not in SCENARIOS:
        print(f"unknown scenario {args.scenario!r}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    stop = threading.Event()
    try:
        if args.load:
            devices = list(site.devices.values()) if site is not None else load_devices(args.devices)
            run_load(address, devices, site.id if site is not None else "load", args.rate, args.duration,
                     qos=args.qos, clients=args.clients, prefix=prefix, stop=stop)
            return 0
        if site is None:
            print("simulate needs a site file (CARETAKER_SITE_FILE)", file=sys.stderr)
            return 2
        run_simulation(site, address, prefix=prefix, scenario=args.scenario, loop=args.loop, seed=args.seed,
                       speed=args.speed, stop=stop, technicians=not args.no_technicians,
                       shared_client=True if args.shared_client else None, offline_on_exit=args.leave_offline)
        return 0
    except KeyboardInterrupt:
        stop.set()
        return 130
    except (SimulatorError, ValueError) as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 1
