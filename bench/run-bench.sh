#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: kcourier under load, and its peers in the same run.
#
#   1. a fresh agent (kcourierd init + run) on a free loopback port;
#   2. the matrix, BENCH_RUNS times over, cases interleaved so a noisy
#      minute hurts every case alike:
#        lat-SIZE     1 pair at a fixed moderate rate (BENCH_LAT_RATE msgs/s)
#        tput-SIZE    32 pairs closed loop, window 16
#        for SIZE = 256, 1024, 16384
#        kc-512 / mosquitto / nats-js / nats-core
#                     the peer shape: 32 pairs, 512 B, window 16, mutual
#                     TLS 1.3 on loopback, each broker on its own port
#        half-512     kcourier open loop at half of kc-512's rate (this run)
#        storm-kc     new mutual-TLS connections per second to the agent
#        storm-ossl   the same client against `openssl s_server` serving the
#                     agent's own certificate and CA: the handshake baseline
#   3. the crypto floor per message (build/bench/crypto-floor);
#   4. bench/summarize.py: medians, ratios from the same repetition, the
#      table on standard output and in BUILD/bench/summary.md.
#
# Every result is one JSON line in BUILD/bench/results.jsonl:
#   {"case": NAME, "run": N, "result": {...kcourier-load --json...}}
#
# Usage: bench/run-bench.sh BUILD
# Environment: BENCH_RUNS (3), BENCH_SECONDS (10), BENCH_WARMUP (2),
#              BENCH_LAT_RATE (1000), BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

build=$(cd "${1:?usage: run-bench.sh BUILD}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
out="$build/bench"
runs=${BENCH_RUNS:-3}
secs=${BENCH_SECONDS:-10}
warm=${BENCH_WARMUP:-2}
lat_rate=${BENCH_LAT_RATE:-1000}
work=$(mktemp -d /tmp/kcourier-bench.XXXXXX)
results="$out/results.jsonl"

# shellcheck source=bench/peers/peers.sh
. "$src/bench/peers/peers.sh"

say() { printf '  %-7s %s\n' BENCH "$*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# Our own processes, by the PIDs we started them with (peer_stop only
# stops brokers, by design).
stop_own() {
	local pid

	[ -r "$1" ] || return 0
	pid=$(cat "$1")
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	local f

	stop_own "$work/agent.pid"
	stop_own "$work/ossl.pid"
	for f in "$work"/peers/*.pid; do
		[ -e "$f" ] && peer_stop "$f" || true
	done
	[ "${BENCH_KEEP:-0}" = 1 ] && { say "work directory kept: $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A throwaway passphrase for a throwaway agent.
export KCOURIER_PASSPHRASE="kcourier bench $$"

start_agent() {
	agent_port=$(free_port)
	"$build/kcourierd" init --dir "$work/agent" --listen "127.0.0.1:$agent_port" \
		>"$work/pin" 2>"$work/init.log" || die "kcourierd init: $(cat "$work/init.log")"
	_peers_launch "$work/agent.pid" "$agent_port" "$work/agent.log" \
		"$build/kcourierd" run --dir "$work/agent" ||
		die "the agent did not start: $(tail -5 "$work/agent.log")"
	agent_pid=$(cat "$work/agent.pid")
	say "agent pid $agent_pid on 127.0.0.1:$agent_port"
}

# s_server with the agent's own TLS key (decrypted with the passphrase),
# certificate and CA: the load tool's pin and client certificate work on
# it unchanged, and the handshake does the same signatures.
start_s_server() {
	ossl_port=$(free_port)
	openssl pkey -in "$work/agent/tls.key" -passin env:KCOURIER_PASSPHRASE \
		-out "$work/ossl.key" 2>"$work/ossl.log" ||
		die "cannot decrypt the agent's TLS key: $(cat "$work/ossl.log")"
	_peers_launch "$work/ossl.pid" "$ossl_port" "$work/ossl.log" \
		openssl s_server -quiet -rev -tls1_3 -accept "127.0.0.1:$ossl_port" \
		-cert "$work/agent/tls.crt" -key "$work/ossl.key" \
		-cert_chain "$work/agent/ca.crt" -CAfile "$work/agent/ca.crt" \
		-Verify 1 -alpn kcourier/2 -no_ticket ||
		die "openssl s_server did not start"
}

start_peers() {
	peers_make_certs "$work/peers" || die "cannot make the peers' certificates"
	mosq_port=$(free_port)
	mosquitto_start "$work/peers" "$mosq_port" || die "mosquitto did not start"
	nats_port=$(free_port)
	nats_start "$work/peers" "$nats_port" || die "nats-server did not start"
}

pid_of() { cat "$1"; }

record() {
	local name=$1 run=$2 json=$3

	[ -n "$json" ] || { say "$name: no result"; return 0; }
	printf '{"case":"%s","run":%d,"result":%s}\n' "$name" "$run" "$json" >>"$results"
}

# kcourier-load's exit code 3 means "ran, but counted errors": the result
# still goes into the table, with its errors.
kc_load() {
	"$build/kcourier-load" --dir "$work/agent" --cache "$work/cache" \
		--agent-pid "$agent_pid" --duration "$secs" --warmup "$warm" \
		--json "$@" 2>>"$work/load.log" || [ $? -eq 3 ]
}

peer_load() {
	local tool=$1
	shift
	"$build/bench/$tool" --host 127.0.0.1 --ca "$work/peers/ca.pem" \
		--cert "$work/peers/client.pem" --key "$work/peers/client.key" \
		--duration "$secs" --warmup "$warm" --json "$@" 2>>"$work/load.log" || [ $? -eq 3 ]
}

peer_shape=(--pairs 32 --size 512 --window 16)

one_round() {
	local run=$1 size json rate

	for size in 256 1024 16384; do
		say "run $run: lat-$size"
		record "lat-$size" "$run" "$(kc_load --pairs 1 --window 64 --rate "$lat_rate" --size "$size")"
		say "run $run: tput-$size"
		record "tput-$size" "$run" "$(kc_load --pairs 32 --window 16 --size "$size")"
	done
	say "run $run: kc-512"
	json=$(kc_load "${peer_shape[@]}")
	record kc-512 "$run" "$json"
	say "run $run: mosquitto"
	record mosquitto "$run" "$(peer_load mosq-load --port "$mosq_port" \
		--broker-pid "$(pid_of "$work/peers/mosquitto.pid")" "${peer_shape[@]}")"
	say "run $run: nats-js"
	record nats-js "$run" "$(peer_load nats-load --mode jetstream --port "$nats_port" \
		--broker-pid "$(pid_of "$work/peers/nats.pid")" "${peer_shape[@]}")"
	say "run $run: nats-core"
	record nats-core "$run" "$(peer_load nats-load --mode core --port "$nats_port" \
		--broker-pid "$(pid_of "$work/peers/nats.pid")" "${peer_shape[@]}")"
	rate=$(printf '%s' "$json" | /usr/bin/python3 -c \
		'import json,sys; print(max(1, int(json.load(sys.stdin).get("msgs_per_s", 0) / 2)))' 2>/dev/null || echo 0)
	if [ "$rate" -gt 1 ]; then
		say "run $run: half-512 at $rate msgs/s"
		record half-512 "$run" "$(kc_load "${peer_shape[@]}" --window 64 --rate "$rate")"
	fi
	say "run $run: storm-kc"
	record storm-kc "$run" "$(kc_load --connect-storm)"
	say "run $run: storm-ossl"
	record storm-ossl "$run" "$("$build/kcourier-load" --agent "127.0.0.1:$ossl_port" \
		--ca-fingerprint "$(cat "$work/pin")" --cache "$work/cache" \
		--duration "$secs" --warmup "$warm" --json --connect-storm \
		--agent-pid "$(pid_of "$work/ossl.pid")" 2>>"$work/load.log" || [ $? -eq 3 ])"
}

main() {
	local run

	mkdir -p "$out"
	: >"$results"
	start_agent
	start_s_server
	start_peers
	# Enrol every client once before measuring anything.
	say "enrolling the load clients"
	kc_load --pairs 32 --duration 0.5 --warmup 0 >/dev/null
	for run in $(seq "$runs"); do
		one_round "$run"
	done
	"$build/bench/crypto-floor" --size 256 --size 512 --size 1024 --size 16384 \
		--json >"$out/floor.json"
	/usr/bin/python3 "$src/bench/summarize.py" "$results" "$out/floor.json" \
		"$out/summary.md" "$out/summary.json" \
		"make bench BENCH_RUNS=$runs BENCH_SECONDS=$secs"
	if grep -q '"lost":[1-9]\|"duplicate":[1-9]' "$results"; then
		die "a run lost or duplicated messages: see $results"
	fi
}

main
