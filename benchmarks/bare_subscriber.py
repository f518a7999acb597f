"""The baseline: a paho subscriber that only counts, with the service's persistent-session settings."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--topic", default="caretaker/+/devices/+/telemetry")
    parser.add_argument("--expect", type=int, default=0, help="0: subscribe and leave (creates the session)")
    parser.add_argument("--client-id", default="bench-bare")
    args = parser.parse_args()
    count = 0
    first = last = 0.0
    cpu_first = cpu_last = 0.0  # this process's CPU, for the CPU a message costs beside the service's
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(_c, _u, _m) -> None:
        nonlocal count, first, last, cpu_first, cpu_last
        if count >= args.expect > 0:
            return  # a message an earlier round left unacknowledged came first: the same number is timed
        now = time.perf_counter()
        cpu = time.process_time()
        if count == 0:
            first, cpu_first = now, cpu
        count += 1
        last, cpu_last = now, cpu
        if count >= args.expect > 0:
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=args.client_id, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(args.topic, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 1000
    client.connect("127.0.0.1", args.port, clean_start=False, properties=props)
    thread = threading.Thread(target=client.loop_forever, daemon=True)
    thread.start()
    subscribed.wait(10)
    if args.expect:
        done.wait(300)
    client.disconnect()
    thread.join(5)
    print(json.dumps({"count": count, "seconds": last - first, "cpu_seconds": cpu_last - cpu_first}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
