"""Runs a site's simulated devices and technicians against a broker, playing scenarios on them."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from caretaker.estate.model import Device, Site, Technician

from caretaker.simulators.broker import BrokerAddress, MqttPublisher, Publisher, SimulatorError, Subscriber, connect
from caretaker.simulators.clock import Scheduler, Stopped
from caretaker.simulators.devices import DeviceFleet, device_will
from caretaker.simulators.payloads import DEFAULT_PREFIX
from caretaker.simulators.scenarios import REGISTRY, ScenarioContext, ScenarioUnavailable
from caretaker.simulators.technicians import BotConfig, TechnicianBot, default_behaviours

Log = Callable[[str], None]

SCENARIOS: dict[str, str] = {name: s.description for name, s in REGISTRY.items()}

# above this many devices, one shared MQTT client publishes for all of them (see run_simulation)
MAX_CLIENTS = 60
SHARED_INFLIGHT = 200  # one connection carries every device's QoS 1 status and events
LOOP_PAUSE_SECONDS = (40.0, 80.0)  # simulated, between two scenarios in loop mode
FIRST_PAUSE_SECONDS = 15.0  # simulated: the demo's first incident comes soon, once technicians are placed
SCENARIO_TAIL_SECONDS = 2.0  # real, after a single scenario, so its last messages settle


class UnknownScenario(SimulatorError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")


class Simulation:
    """Devices, technician bots and scenarios over injected publishers and scheduler, no broker:
    the runner hands it MQTT publishers, the tests recording fakes and a VirtualScheduler."""

    def __init__(self, site: Site, scheduler: Scheduler, publisher_for: Callable[[Device], Publisher],
                 bot_publisher_for: Callable[[Technician], Publisher] | None = None,
                 prefix: str = DEFAULT_PREFIX, seed: int = 0, speed: float = 1.0, log: Log = print,
                 bot_configs: dict[str, BotConfig] | None = None) -> None:
        self.site = site
        self.scheduler = scheduler
        self.seed = seed
        self.speed = speed
        self.log = log
        self.fleet = DeviceFleet(site, publisher_for, scheduler, seed=seed, prefix=prefix)
        self.bots: list[TechnicianBot] = []
        if bot_publisher_for is not None:
            behaviours = default_behaviours(site)
            for tech in sorted(site.technicians.values(), key=lambda t: t.id):
                config = (bot_configs or {}).get(tech.id) or BotConfig(behaviour=behaviours[tech.id], speed=speed)
                self.bots.append(TechnicianBot(tech, site, self.fleet, bot_publisher_for(tech), scheduler,
                                               random.Random(f"{seed}:tech:{tech.id}"), prefix, config))
        self._round = 0

    def start(self, subscriber_for: Callable[[TechnicianBot], Subscriber | None] = lambda bot: None) -> None:
        self.fleet.start()
        for bot in self.bots:
            bot.start(subscriber_for(bot))

    def stop(self, publish_offline: bool = False) -> None:
        for bot in self.bots:
            bot.stop()
        self.fleet.stop(publish_offline)

    def play(self, name: str) -> None:
        """Play one scenario to its end (devices back to normal); raises ScenarioUnavailable, Stopped."""
        scenario = REGISTRY.get(name)
        if scenario is None:
            raise UnknownScenario(name)
        # seeded by name and round: each scenario's choices do not depend on the ones played before
        rng = random.Random(f"{self.seed}:scenario:{name}:{self._round}")
        try:
            scenario.play(ScenarioContext(self.fleet, self.scheduler, rng, self.speed, self.log))
        finally:
            if not self.scheduler.stop.is_set():
                self.fleet.restore_all()  # a scenario that failed half-way leaves nothing forced

    def play_loop(self) -> None:
        """Play every scenario in turn with pauses, forever; only Stopped ends it."""
        rng = random.Random(f"{self.seed}:loop")
        pause = FIRST_PAUSE_SECONDS
        while True:
            for name in REGISTRY:
                self.scheduler.run_for(pause / self.speed)
                pause = rng.uniform(*LOOP_PAUSE_SECONDS)
                try:
                    self.play(name)
                except ScenarioUnavailable as exc:
                    self.log(f"{name}: skipped, {exc}")
            self._round += 1

    def idle(self) -> None:
        """Normal behaviour only, until Stopped."""
        while True:
            self.scheduler.run_for(3600.0)


def _connect_all(site: Site, address: BrokerAddress, prefix: str, technicians: bool,
                 shared: bool) -> tuple[dict[str, MqttPublisher], dict[str, MqttPublisher], list[MqttPublisher]]:
    """Return publishers per device id and per technician id, and every client to close."""
    opened: list[MqttPublisher] = []
    try:
        devices = sorted(site.devices.values(), key=lambda d: d.id)
        by_device: dict[str, MqttPublisher] = {}
        by_tech: dict[str, MqttPublisher] = {}
        if shared:
            # one connection has one will: only the first device goes offline on its own if the
            # simulator dies; the others keep their retained "online" until the next run
            will = device_will(prefix, site.id, devices[0].id) if devices else None
            pub = MqttPublisher(connect(address, f"sim-{site.id}-shared", will=will, max_inflight=SHARED_INFLIGHT))
            opened.append(pub)
            by_device = {d.id: pub for d in devices}
            by_tech = {t: pub for t in site.technicians} if technicians else {}
            return by_device, by_tech, opened
        for device in devices:
            pub = MqttPublisher(connect(address, f"sim-{site.id}-{device.id}",
                                        will=device_will(prefix, site.id, device.id)))
            opened.append(pub)
            by_device[device.id] = pub
        for tech_id in sorted(site.technicians) if technicians else []:
            pub = MqttPublisher(connect(address, f"sim-{site.id}-tech-{tech_id}"))
            opened.append(pub)
            by_tech[tech_id] = pub
        return by_device, by_tech, opened
    except BaseException:
        for pub in opened:
            pub.close(timeout_s=1.0)
        raise


def run_simulation(site: Site, address: BrokerAddress, prefix: str = DEFAULT_PREFIX,
                   scenario: str | None = None, loop: bool = False, seed: int = 0, speed: float = 1.0,
                   stop: threading.Event | None = None, technicians: bool = True, log: Log = print,
                   shared_client: bool | None = None, offline_on_exit: bool = False) -> None:
    """Run normal behaviour and technician bots, play `scenario` once (or, with `loop`, all of them
    in turn forever), and return when it is done or `stop` is set, after disconnecting cleanly.

    Without a scenario and without `loop`, runs normal behaviour until `stop`. `shared_client`
    None chooses one client per device up to MAX_CLIENTS devices, one shared client above.
    A run that ends leaves its devices as it found them, online (a clean disconnect fires no will);
    `offline_on_exit` publishes every device's retained "offline" status instead, as if they went away.
    Raises UnknownScenario, ScenarioUnavailable, BrokerUnavailable or BrokerRefused."""
    if scenario is not None and scenario not in REGISTRY:
        raise UnknownScenario(scenario)
    if speed <= 0:
        raise ValueError("speed must be positive")
    stop = stop or threading.Event()
    shared = shared_client if shared_client is not None else len(site.devices) + len(site.technicians) > MAX_CLIENTS
    by_device, by_tech, opened = _connect_all(site, address, prefix, technicians, shared)
    log(f"simulating {len(site.devices)} devices and {len(by_tech)} technicians of site {site.id} "
        f"on {address.host}:{address.port} ({'one shared client' if shared else 'one client each'})")
    scheduler = Scheduler(stop)
    sim = Simulation(site, scheduler, lambda d: by_device[d.id],
                     (lambda t: by_tech[t.id]) if technicians else None,
                     prefix=prefix, seed=seed, speed=speed, log=log)
    try:
        sim.start(lambda bot: by_tech[bot.tech.id])
        if scenario is not None:
            sim.play(scenario)
            scheduler.run_for(SCENARIO_TAIL_SECONDS)
        elif loop:
            sim.play_loop()
        else:
            sim.idle()
    except Stopped:
        pass
    finally:
        # a scenario played against a running service must not leave every device offline behind it (one
        # device-offline alarm per device): they go offline only when asked, or if the simulator dies (the will)
        sim.stop(publish_offline=offline_on_exit)
        for pub in opened:
            pub.close()
        log("simulation stopped")
