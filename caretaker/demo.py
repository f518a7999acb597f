"""`caretaker demo`: an embedded broker, a local SQLite file, the example estate, simulators and the control room."""

from __future__ import annotations

import logging
import secrets
import signal
import threading
from datetime import timedelta
from pathlib import Path

from caretaker.broker import EmbeddedBroker, free_port
from caretaker.demo_closer import DemoCloser
from caretaker.settings import Settings, demo_settings
from caretaker.service import Service, load_configuration

log = logging.getLogger(__name__)



def _example_site() -> Path:
    """The example estate: packaged as caretaker/examples by `pip install .`, or the clone's examples/."""
    here = Path(__file__).resolve().parent
    for folder in (here / "examples", here.parent / "examples"):
        if (folder / "harbor-view.yaml").exists():
            return folder / "harbor-view.yaml"
    return here.parent / "examples" / "harbor-view.yaml"


EXAMPLE_SITE = _example_site()


def run_demo(port: int, broker_port: int, data_dir: Path, seed: int, speed: float,
             admin_token: str | None = None) -> int:
    """Run everything until Ctrl-C; return the exit status."""
    from caretaker.api.tokens import issue_token
    from caretaker.simulators.broker import BrokerAddress
    from caretaker.simulators.runner import run_simulation

    if not EXAMPLE_SITE.exists():
        print(f"caretaker demo: the example estate is missing ({EXAMPLE_SITE}); reinstall caretaker")
        return 1
    try:
        import amqtt  # noqa: F401  (the demo's embedded broker is an extra; `caretaker run` never needs it)
    except ImportError:
        print("caretaker demo: the embedded broker is not installed; pip install 'caretaker[demo]' (make demo does)")
        return 1
    data_dir.mkdir(parents=True, exist_ok=True)
    database = data_dir / "demo.db"
    for leftover in (database, data_dir / "demo.db-wal", data_dir / "demo.db-shm"):
        leftover.unlink(missing_ok=True)  # each demo starts from an empty control room

    chosen_broker = free_port(broker_port)
    chosen_http = free_port(port)
    if chosen_broker != broker_port:
        print(f"port {broker_port} is taken; the embedded broker uses {chosen_broker}")
    if chosen_http != port:
        print(f"port {port} is taken; the control room uses {chosen_http}")

    with demo_settings():  # the demo's own loopback estate: any admin token it is given will do
        settings = Settings(
            mqtt_url=f"mqtt://127.0.0.1:{chosen_broker}", mqtt_protocol=4, database_url=f"sqlite:///{database}",
            site_file=EXAMPLE_SITE, http_port=chosen_http, http_host="127.0.0.1",
            admin_token=admin_token or secrets.token_urlsafe(24),
        )
    broker = EmbeddedBroker(chosen_broker)
    broker.start()
    service = Service(settings, load_configuration(settings))
    service.start()
    with service.sessions.begin() as session:
        operator_token, _ = issue_token(session, role="operator", subject="demo-operator", now=service.clock.now())

    closer = DemoCloser(service.sessions, service.dispatcher, service.clock, work=timedelta(minutes=2) / speed,
                        callback=timedelta(minutes=1) / speed, seed=seed)
    closer.start()
    stop = threading.Event()
    simulation = threading.Thread(
        target=run_simulation, name="simulators",
        kwargs=dict(site=service.site, address=BrokerAddress("127.0.0.1", chosen_broker), prefix=settings.mqtt_prefix,
                    scenario=None, loop=True, seed=seed, speed=speed, stop=stop, technicians=True,
                    log=lambda text: log.info("simulator: %s", text)),
        daemon=True,
    )
    simulation.start()
    url = f"http://127.0.0.1:{chosen_http}/"
    print(
        "\nCaretaker demo is running.\n"
        f"  control room:   {url}#token={operator_token}\n"
        f"  operator token: {operator_token}\n"
        f"  admin token:    {settings.admin_token.get_secret_value()}\n"
        f"  API docs:       {url}docs\n"
        f"  MQTT broker:    mqtt://127.0.0.1:{chosen_broker}  (try: mosquitto_sub -p {chosen_broker} -t 'caretaker/#' -v)\n"
        f"  database:       {database}\n"
        "Incidents play in a loop (burst pipe, elevator entrapment, power outage, door forced). Ctrl-C stops.\n",
        flush=True,
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    print("stopping…", flush=True)
    stop.set()
    simulation.join(timeout=10)
    closer.stop()
    service.stop()
    broker.stop()
    print("stopped.")
    return 0
