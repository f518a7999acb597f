#!/usr/bin/env bash
# Check mosquitto/mosquitto.conf and mosquitto/acl with the local Mosquitto, without TLS certs,
# root or docker: start the broker on a free loopback port from a copy of the config whose paths
# point to a temp dir (TLS listener removed), confirm it is up, check that the service's queue holds a
# tolerated outage at the peak rate (check_queue.py), and, if mosquitto_pub/_sub are installed, confirm
# the ACL lets a device publish only under its own id. The test suite runs it
# (tests/faults/test_t24_broker_security.py); the TLS listener is checked there too.
#
#   ./mosquitto/check-config.sh            # exit 0 = the config loads and the ACL behaves
#   MOSQUITTO=/opt/bin/mosquitto ./mosquitto/check-config.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
mosquitto="${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}"
[ -x "$mosquitto" ] || { echo "mosquitto not found (set MOSQUITTO=/path/to/mosquitto)" >&2; exit 2; }

tmp="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$tmp/data"

# The copy: temp paths, plain listener on the free loopback port, no TLS listener, run as us.
awk -v port="$port" -v dir="$tmp" -v user="$(id -un)" '
    /^listener 8883/ { tls = 1; next }
    tls && /^(protocol|cafile|capath|certfile|keyfile|require_certificate|tls_version|ciphers)[ \t]/ { next }
    /^[ \t]*(#|$)/ { print; next }
    { tls = 0 }
    /^listener 1883/ { print "listener " port " 127.0.0.1"; next }
    { gsub("/mosquitto/config/", dir "/"); gsub("/mosquitto/data/", dir "/data/"); print }
    END { print "user " user }
' "$here/mosquitto.conf" > "$tmp/mosquitto.conf"
cp "$here/acl" "$tmp/acl"

# Test users (the real password file is never read).
if command -v mosquitto_passwd >/dev/null 2>&1; then
    : > "$tmp/passwords"
    for u in caretaker integrator A-B2-LEAK-1 t-wang s-li; do
        mosquitto_passwd -b "$tmp/passwords" "$u" "pw-$u"
    done
else
    : > "$tmp/passwords"
fi
chmod 0600 "$tmp/passwords" "$tmp/acl"

"$mosquitto" -c "$tmp/mosquitto.conf" > "$tmp/broker.log" 2>&1 &
pid=$!

up=""
for _ in $(seq 1 50); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
    sleep 0.1
done
if [ -z "$up" ]; then
    echo "FAIL: mosquitto did not start with this configuration:" >&2
    cat "$tmp/broker.log" >&2
    exit 1
fi
echo "ok: $("$mosquitto" -h 2>&1 | head -1) starts with mosquitto.conf (port $port, TLS listener left out)"

# The service's queue holds a tolerated outage at the peak rate (figures and how to set them: check_queue.py).
queue_ok=0
python3 "$here/check_queue.py" "$here/mosquitto.conf" || queue_ok=1

if ! command -v mosquitto_pub >/dev/null 2>&1 || ! command -v mosquitto_sub >/dev/null 2>&1; then
    echo "skip: ACL checks need mosquitto_pub and mosquitto_sub (package mosquitto-clients)"
    exit "$queue_ok"
fi

pub() { mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -u "$1" -P "pw-$1" -t "$2" -m "$3"; }
# Publish as $1 on $2 while the service user listens on $3; print what arrived (empty if nothing). The
# listener gives no sign once it has subscribed, so the message is published again every 0.2 s until it
# arrives or the listener gives up after 3 s (a refused publish never arrives, however often it is sent).
relay() {
    local out="$tmp/sub.out" i
    : > "$out"
    mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -u "${4:-caretaker}" -P "pw-${4:-caretaker}" \
        -t "$3" -C 1 -W 3 > "$out" 2>/dev/null &
    local sub=$!
    for i in $(seq 1 12); do
        sleep 0.2
        [ -s "$out" ] && break
        kill -0 "$sub" 2>/dev/null || break
        pub "$1" "$2" '{"ts": 0, "values": {"leak": false}}' || true
    done
    wait "$sub" 2>/dev/null || true
    cat "$out"
}

failed=$queue_ok
expect() {  # expect yes|no description output
    if { [ "$1" = yes ] && [ -n "$3" ]; } || { [ "$1" = no ] && [ -z "$3" ]; }; then
        echo "ok: $2"
    else
        echo "FAIL: $2" >&2; failed=1
    fi
}

expect yes "a device publishes its own telemetry" \
    "$(relay A-B2-LEAK-1 caretaker/harbor-view/devices/A-B2-LEAK-1/telemetry 'caretaker/#')"
expect no "a device cannot publish as another device" \
    "$(relay A-B2-LEAK-1 caretaker/harbor-view/devices/A-1-ELEV-1/telemetry 'caretaker/#')"
expect yes "a technician app publishes its location" \
    "$(relay t-wang caretaker/harbor-view/technicians/t-wang/location 'caretaker/#')"
expect no "a technician app cannot publish another technician's reply" \
    "$(relay t-wang caretaker/harbor-view/technicians/t-li/reply 'caretaker/#')"
expect yes "a technician app reads its own dispatch" \
    "$(relay caretaker caretaker/harbor-view/technicians/t-wang/dispatch 'caretaker/+/technicians/t-wang/dispatch' t-wang)"
expect no "a technician app cannot read another technician's dispatch" \
    "$(relay caretaker caretaker/harbor-view/technicians/t-li/dispatch 'caretaker/+/technicians/+/dispatch' t-wang)"
expect yes "a supervisor app reads its notices" \
    "$(relay caretaker caretaker/harbor-view/supervisors/s-li/notify 'caretaker/+/supervisors/s-li/notify' s-li)"
expect yes "the integrator reads alerts" \
    "$(relay caretaker caretaker/harbor-view/alerts 'caretaker/+/alerts' integrator)"
expect no "the integrator cannot read telemetry" \
    "$(relay A-B2-LEAK-1 caretaker/harbor-view/devices/A-B2-LEAK-1/telemetry 'caretaker/#' integrator)"

if mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t caretaker/x/devices/y/telemetry -m '{}' 2>/dev/null; then
    echo "FAIL: an anonymous client could connect" >&2; failed=1
else
    echo "ok: anonymous clients are refused"
fi

exit "$failed"
