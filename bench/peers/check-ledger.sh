#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Proves that mosq-load and nats-load (both modes) notice lost and repeated
# messages. Each runs twice against its real broker, started here on free
# loopback ports:
#   clean   the report must show deliveries, no error at all, exit 0;
#   faulty  with fault_shim.so preloaded, which swallows every 97th and
#           repeats every 101st delivery, the report must count exactly
#           as many lost and duplicate messages as the shim says it made,
#           and the driver must exit 3.
#
# Usage: bench/peers/check-ledger.sh [BUILD]        (default: build)
# Needs the drivers built: make build/bench/mosq-load build/bench/nats-load
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
# shellcheck source=bench/peers/peers.sh
. "$here/peers.sh"

work=$(mktemp -d /tmp/kcourier-peers-check.XXXXXX)
cleanup() {
	local f

	for f in "$work"/*.pid; do
		[ -e "$f" ] && peer_stop "$f"
	done
	rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0

cc -std=gnu11 -shared -fPIC -O2 -Wall -Wextra -Werror \
	-o "$work/fault_shim.so" "$here/fault_shim.c" -ldl -lmosquitto -lnats
peers_make_certs "$work"
mport=$(peers_free_port 18830)
mosquitto_start "$work" "$mport"
nport=$(peers_free_port $((mport + 1)))
nats_start "$work" "$nport"

common=(--ca "$work/ca.pem" --cert "$work/client.pem" --key "$work/client.key"
	--pairs 4 --duration 2 --warmup 0.5 --json)

# verdict NAME FAULTY STATUS JSON STDERR: one line, ok or FAIL with why.
verdict() {
	/usr/bin/python3 - "$@" <<'EOF'
import json, re, sys
name, faulty, status, out, err = sys.argv[1:]
status = int(status)
try:
    r = json.load(open(out))
except ValueError:
    print(f"FAIL {name}: no JSON report (exit {status})")
    sys.exit(1)
e = r.get("errors", {})
lost, dup = e.get("lost", -1), e.get("duplicate", -1)
why = []
if r["delivered"] == 0:
    why.append("nothing delivered")
if faulty == "no":
    if status != 0 or r["errors_total"]:
        why.append(f"exit {status}, errors {e}")
else:
    m = re.search(r"fault-shim: dropped (\d+) duplicated (\d+)",
                  open(err).read())
    if not m:
        why.append("the shim did not report")
    else:
        dropped, repeated = int(m[1]), int(m[2])
        if not dropped or not repeated:
            why.append("the shim injected nothing")
        if (lost, dup) != (dropped, repeated):
            why.append(f"ledger lost {lost} dup {dup}, "
                       f"shim dropped {dropped} repeated {repeated}")
        if status != 3:
            why.append(f"exit {status}, not 3")
tag = "FAIL" if why else "ok  "
print(f"{tag} {name}: delivered {r['delivered']}, lost {lost}, "
      f"duplicate {dup}, exit {status}" + ("; " + "; ".join(why) if why else ""))
sys.exit(1 if why else 0)
EOF
}

# check NAME FAULTY DRIVER ARGS...
check() {
	local name=$1 faulty=$2
	local out="$work/$name.json" err="$work/$name.err" status=0
	shift 2

	if [ "$faulty" = yes ]; then
		KC_FAULT_DROP=97 KC_FAULT_DUP=101 \
			LD_PRELOAD="$work/fault_shim.so" "$@" "${common[@]}" \
			>"$out" 2>"$err" || status=$?
	else
		"$@" "${common[@]}" >"$out" 2>"$err" || status=$?
	fi
	if verdict "$name" "$faulty" "$status" "$out" "$err"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		sed 's/^/    /' "$err" >&2
	fi
}

for faulty in no yes; do
	check "mosquitto-qos1.fault=$faulty" "$faulty" \
		"$build/bench/mosq-load" --port "$mport"
	check "nats-jetstream.fault=$faulty" "$faulty" \
		"$build/bench/nats-load" --mode jetstream --port "$nport"
	check "nats-core.fault=$faulty" "$faulty" \
		"$build/bench/nats-load" --mode core --port "$nport"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
