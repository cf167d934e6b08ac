#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: kcourier under load, and its peers in the same run.
#
# Two ways to run the servers, each with servers of its own:
#
#   pinned    what an operator comparing brokers does: the server on one
#             CPU (BENCH_SERVER_CPU, 0) with one worker, every load
#             generator on another (BENCH_LOAD_CPU, 1). kcourierd runs
#             with --workers 1, mosquitto as it is (one thread), and
#             nats-server with GOMAXPROCS=1 (Go sizes GOMAXPROCS from the
#             affinity mask, so taskset alone gives 1 as well; the
#             variable says it whatever the Go version). kcourier-load
#             gets --threads 1 for messages and 4 for the handshake storm
#             (blocking handshakes: one thread would leave the server idle
#             half the time). Each run reports the server's CPU per
#             message and how much of its core the load generator used.
#   unpinned  the earlier method: nothing pinned, kcourierd with its
#             default workers (one per CPU), the load tools' default
#             threads; every process shares every CPU.
#
# BENCH_PIN picks: `both` (the default with 2 CPUs or more) runs the whole
# matrix pinned and the peer comparison unpinned as well, in the same
# repetitions, so the two tables come from the same minutes of the same
# machine and stay comparable with the earlier unpinned results; `1` only
# pinned; `0` only unpinned, the whole matrix (the default with 1 CPU).
#
#   1. fresh servers for each mode on free loopback ports: an agent
#      (kcourierd init + run), mosquitto, nats-server, openssl s_server;
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
#        kc-512-ref, kc-512-traced  kc-512 twice in a row, the second
#                     with kcourier-lat attached at the default sampling
#                     (as root; skipped otherwise): the probes' cost
#                     (BENCH_CASES=probes, or BENCH_ONLY=probes, runs
#                     only these two)
#        storm-nginx  the same against nginx (Debian nginx-light and its
#                     stream module, one process: TLS 1.3, client
#                     certificates required and verified against the
#                     agent's CA, the agent's own key and certificate)
#      and once, in the first repetition of the first mode:
#        idle-kc      10,000 idle authenticated connections to the agent
#                     (kcourier-load --idle, as a client the message
#                     cases do not use), its memory at 0, 1, 1,000
#                     and 10,000; while they are held:
#        kc-512-alone kc-512 just before them, and
#        kc-512-idle  kc-512 again, beside those 10,000 connections
#        idle-mosq    10,000 idle MQTT clients on mutual TLS to mosquitto
#                     (mosq-idle), its memory the same way
#      (in `both`, the unpinned mode runs the four peer-shape cases only);
#   3. the crypto floor per message (build/bench/crypto-floor);
#   4. bench/summarize.py: medians, ratios from the same repetition, the
#      tables on standard output and in BUILD/bench/summary.md; runs whose
#      load generator used more than 90 % of its core are flagged.
#
# Every result is one JSON line in BUILD/bench/results.jsonl:
#   {"case": NAME, "mode": "pinned"|"unpinned", "run": N,
#    "load_core": SHARE, "result": {...kcourier-load --json...}}
# where SHARE is the load generator's CPU time over the measured interval
# divided by its length (1.0: one whole core).
#
# Usage: bench/run-bench.sh BUILD
# Environment: BENCH_CASES ("msgs storm idle probes": which groups run;
#              e.g. BENCH_CASES="storm idle" for connections alone),
#              BENCH_IDLE (10000, connections for the idle cases),
#              BENCH_RUNS (3), BENCH_SECONDS (10), BENCH_WARMUP (2),
#              BENCH_LAT_RATE (1000), BENCH_PIN (both | 1 | 0),
#              BENCH_SERVER_CPU (0), BENCH_LOAD_CPU (1),
#              BENCH_SHIELD=1 (pinned processes run SCHED_FIFO),
#              BENCH_KEEP=1 keeps the work directory,
#              BENCH_ONLY=probes the probes' pair alone.
set -euo pipefail

build=$(cd "${1:?usage: run-bench.sh BUILD}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
out="$build/bench"
runs=${BENCH_RUNS:-3}
secs=${BENCH_SECONDS:-10}
warm=${BENCH_WARMUP:-2}
lat_rate=${BENCH_LAT_RATE:-1000}
server_cpu=${BENCH_SERVER_CPU:-0}
load_cpu=${BENCH_LOAD_CPU:-1}
work=$(mktemp -d /tmp/kcourier-bench.XXXXXX)
results="$out/results.jsonl"
cases=" ${BENCH_CASES:-msgs storm idle probes} "
# BENCH_ONLY=probes: the older spelling of BENCH_CASES=probes.
[ "${BENCH_ONLY:-}" = probes ] && cases=" probes "
idle_n=${BENCH_IDLE:-10000}

# shellcheck source=bench/peers/peers.sh
. "$src/bench/peers/peers.sh"

say() { printf '  %-7s %s\n' BENCH "$*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# The modes this run measures, the first with the whole matrix.
pick_modes() {
	local pin=${BENCH_PIN:-}

	if [ -z "$pin" ]; then
		pin=0
		[ "$(nproc)" -ge 2 ] && pin=both
	fi
	case $pin in
	both) modes=(pinned unpinned) ;;
	1) modes=(pinned) ;;
	0) modes=(unpinned) ;;
	*) die "BENCH_PIN='$pin': expected both, 1 or 0" ;;
	esac
	if [ "${modes[0]}" = pinned ]; then
		[ "$server_cpu" != "$load_cpu" ] ||
			die "BENCH_SERVER_CPU and BENCH_LOAD_CPU must differ"
		taskset -c "$server_cpu,$load_cpu" true 2>/dev/null ||
			die "cannot pin to CPUs $server_cpu and $load_cpu" \
				"(BENCH_PIN=0 runs unpinned)"
	fi
}

# What a process of MODE is started under: wrap_for server|load MODE
# sets wrap, a command that execs its arguments (or nothing).
wrap_for() {
	wrap=()
	[ "$2" = pinned ] || return 0
	if [ "$1" = server ]; then
		wrap=(taskset -c "$server_cpu")
	else
		wrap=(taskset -c "$load_cpu")
	fi
	# BENCH_SHIELD=1: SCHED_FIFO for the pinned processes (and every
	# thread they start), so the machine's other work cannot take
	# their CPU between two steps of a message. A diagnostic for shared
	# machines: the time slices the scheduler hands out otherwise
	# decide throughput and latency more than the servers do.
	if [ "${BENCH_SHIELD:-0}" = 1 ]; then
		wrap+=(chrt -f 10)
	fi
}

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

	for f in "$work"/agent-*.pid "$work"/ossl-*.pid "$work"/nginx-*.pid; do
		stop_own "$f"
	done
	for f in "$work"/peers-*/*.pid; do
		[ -e "$f" ] && peer_stop "$f" || true
	done
	[ "${BENCH_KEEP:-0}" = 1 ] && { say "work directory kept: $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A throwaway passphrase for throwaway agents.
export KCOURIER_PASSPHRASE="kcourier bench $$"

# Per mode: agent_dir, agent_port, agent_pid, ossl_port, mosq_port,
# nats_port, and the peers' directory.
declare -A agent_pid ossl_port mosq_port nats_port nginx_port

start_agent() {
	local mode=$1 dir="$work/agent-$1" port extra=()

	port=$(free_port)
	wrap_for server "$mode"
	if [ "$mode" = pinned ]; then
		extra=(--workers 1)
	fi
	"$build/kcourierd" init --dir "$dir" --listen "127.0.0.1:$port" \
		>"$dir.pin" 2>"$dir.init.log" ||
		die "kcourierd init: $(cat "$dir.init.log")"
	# The benchmark measures the agent's speed, not its limits: the
	# connection storm comes from one address, a latency run may send
	# faster than send_rate (docs/OPERATIONS.md "Limits and hardening"),
	# and the idle connections need room beside the message load's.
	sed -i -E -e 's/^(send_rate|handshakes_per_addr) = .*/\1 = 0/' \
		-e 's/^max_conns_per_addr = .*/max_conns_per_addr = 1000000/' \
		-e "s/^max_connections = .*/max_connections = $((idle_n + 1000))/" \
		"$dir/kcourierd.conf"
	_peers_launch "$dir.pid" "$port" "$dir.log" \
		"${wrap[@]}" "$build/kcourierd" run --dir "$dir" "${extra[@]}" ||
		die "the $mode agent did not start: $(tail -5 "$dir.log")"
	agent_pid[$mode]=$(cat "$dir.pid")
	say "$mode agent pid ${agent_pid[$mode]} on 127.0.0.1:$port ${wrap[*]}"
}

# s_server with the agent's own TLS key (decrypted with the passphrase),
# certificate and CA: the load tool's pin and client certificate work on
# it unchanged, and the handshake does the same signatures.
start_s_server() {
	local mode=$1 dir="$work/agent-$1" port

	port=$(free_port)
	wrap_for server "$mode"
	openssl pkey -in "$dir/tls.key" -passin env:KCOURIER_PASSPHRASE \
		-out "$work/ossl-$mode.key" 2>"$work/ossl-$mode.log" ||
		die "cannot decrypt the agent's TLS key: $(cat "$work/ossl-$mode.log")"
	_peers_launch "$work/ossl-$mode.pid" "$port" "$work/ossl-$mode.log" \
		"${wrap[@]}" openssl s_server -quiet -rev -tls1_3 \
		-accept "127.0.0.1:$port" \
		-cert "$dir/tls.crt" -key "$work/ossl-$mode.key" \
		-cert_chain "$dir/ca.crt" -CAfile "$dir/ca.crt" \
		-Verify 1 -alpn kcourier/2 -no_ticket ||
		die "openssl s_server did not start"
	ossl_port[$mode]=$port
}

# nginx as an operator would set up mutual TLS for a TCP service: the
# stream module, TLS 1.3, client certificates required and verified
# against the agent's CA, the agent's own ECDSA key and certificate (with
# the CA behind it), ALPN kcourier/2, no session tickets or cache, and an
# empty answer once the handshake is done. One process (no master), so
# taskset and the CPU reading see the one that works.
start_nginx() {
	local mode=$1 dir="$work/agent-$1" ng="$work/nginx-$1" port

	port=$(free_port)
	wrap_for server "$mode"
	mkdir -p "$ng"
	cat "$dir/tls.crt" "$dir/ca.crt" >"$ng/chain.pem"
	cat >"$ng/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
master_process off;
daemon off;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
events { worker_connections 4096; }
stream {
	server {
		listen 127.0.0.1:$port ssl;
		ssl_protocols TLSv1.3;
		ssl_certificate $ng/chain.pem;
		ssl_certificate_key $work/ossl-$mode.key;
		ssl_client_certificate $dir/ca.crt;
		ssl_verify_client on;
		ssl_alpn kcourier/2;
		ssl_session_tickets off;
		ssl_session_cache off;
		return "";
	}
}
EOF
	_peers_launch "$work/nginx-$mode.pid" "$port" "$ng/run.log" \
		"${wrap[@]}" nginx -p "$ng" -e "$ng/error.log" \
		-c "$ng/nginx.conf" ||
		die "nginx did not start: $(tail -3 "$ng/error.log" 2>/dev/null)"
	nginx_port[$mode]=$port
}

start_peers() {
	local mode=$1 dir="$work/peers-$1" go=()

	wrap_for server "$mode"
	if [ "$mode" = pinned ]; then
		go=(env GOMAXPROCS=1)
	fi
	peers_make_certs "$dir" || die "cannot make the peers' certificates"
	mosq_port[$mode]=$(free_port)
	mosquitto_start "$dir" "${mosq_port[$mode]}" "${wrap[@]}" ||
		die "mosquitto did not start"
	nats_port[$mode]=$(free_port)
	nats_start "$dir" "${nats_port[$mode]}" "${go[@]}" "${wrap[@]}" ||
		die "nats-server did not start"
}

# The load generator's share of its core over the measured interval goes
# with the result; one line for the log: rate, server and load CPU.
record() {
	local mode=$1 name=$2 run=$3 json=$4

	[ -n "$json" ] || { say "$mode $name: no result"; return 0; }
	printf '%s' "$json" | /usr/bin/python3 -c '
import json, sys
mode, name, run = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(sys.stdin)
cpu, t = r.get("cpu", {}), r.get("elapsed_s") or 0
share = cpu["tool_s"] / t if "tool_s" in cpu and t else None
print(json.dumps({"case": name, "mode": mode, "run": run,
                  "load_core": share, "result": r}, separators=(",", ":")))
unit = "conn" if r.get("shape", {}).get("connect_storm") else "msg"
rate = r.get("connections_per_s" if unit == "conn" else "msgs_per_s") or 0
line = f"{mode} run {run}: {name} {rate:,.0f} {unit}s/s"
for who, key in (("server", "agent"), ("load", "tool")):
    per, total = cpu.get(f"{key}_us_per_{unit}"), cpu.get(f"{key}_s")
    if per is not None and t:
        line += (f", {who} {per:.1f} us/{unit}"
                 f" ({100 * total / t:.0f} % of a core)")
print(f"  BENCH   {line}", file=sys.stderr)
' "$mode" "$name" "$run" >>"$results"
}

# kcourier-load's exit code 3 means "ran, but counted errors": the result
# still goes into the table, with its errors.
kc_load() {
	local mode=$1 threads=()
	shift

	wrap_for load "$mode"
	if [ "$mode" = pinned ]; then
		threads=(--threads 1)
		[[ " $* " = *" --connect-storm "* ]] && threads=(--threads 4)
	fi
	"${wrap[@]}" "$build/kcourier-load" --dir "$work/agent-$mode" \
		--cache "$work/cache" --agent-pid "${agent_pid[$mode]}" \
		--duration "$secs" --warmup "$warm" --json "${threads[@]}" "$@" \
		2>>"$work/load.log" || [ $? -eq 3 ]
}

# An idle case's JSON line (idlekit.h) as a result; one line for the log.
record_idle() {
	local mode=$1 name=$2 run=$3 file=$4

	[ -s "$file" ] || { say "$mode $name: no result"; return 0; }
	/usr/bin/python3 -c '
import json, sys
mode, name, run = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(open(sys.argv[4]))
print(json.dumps({"case": name, "mode": mode, "run": run, "result": r},
                 separators=(",", ":")))
i, line = r["idle"], f"{mode} run {run}: {name}"
for st in i["steps"]:
    line += ", %d: %d KiB" % (st["connections"], st["server_kib"])
line += " (%d failed)" % i["failed"]
print(f"  BENCH   {line}", file=sys.stderr)
' "$mode" "$name" "$run" "$file" >>"$results"
}

peer_load() {
	local mode=$1 tool=$2 dir="$work/peers-$1"
	shift 2

	wrap_for load "$mode"
	"${wrap[@]}" "$build/bench/$tool" --host 127.0.0.1 --ca "$dir/ca.pem" \
		--cert "$dir/client.pem" --key "$dir/client.key" \
		--duration "$secs" --warmup "$warm" --json "$@" \
		2>>"$work/load.log" || [ $? -eq 3 ]
}

peer_shape=(--pairs 32 --size 512 --window 16)

# kc-512 and the three peers; kc-512's JSON stays in kc512 for half-512.
kc512=
peer_cases() {
	local mode=$1 run=$2 json dir="$work/peers-$1"

	say "$mode run $run: kc-512"
	json=$(kc_load "$mode" "${peer_shape[@]}")
	record "$mode" kc-512 "$run" "$json"
	say "$mode run $run: mosquitto"
	record "$mode" mosquitto "$run" "$(peer_load "$mode" mosq-load \
		--port "${mosq_port[$mode]}" \
		--broker-pid "$(cat "$dir/mosquitto.pid")" "${peer_shape[@]}")"
	say "$mode run $run: nats-js"
	record "$mode" nats-js "$run" "$(peer_load "$mode" nats-load \
		--mode jetstream --port "${nats_port[$mode]}" \
		--broker-pid "$(cat "$dir/nats.pid")" "${peer_shape[@]}")"
	say "$mode run $run: nats-core"
	record "$mode" nats-core "$run" "$(peer_load "$mode" nats-load \
		--mode core --port "${nats_port[$mode]}" \
		--broker-pid "$(cat "$dir/nats.pid")" "${peer_shape[@]}")"
	kc512=$json
}

# The storm client against a server that serves the agent's certificate
# and CA (s_server, nginx): storm_other MODE RUN CASE PORT PIDFILE.
storm_other() {
	local mode=$1 run=$2 name=$3 port=$4 pidfile=$5 threads=()

	if [ "$mode" = pinned ]; then
		threads=(--threads 4)
	fi
	say "$mode run $run: $name"
	wrap_for load "$mode"
	record "$mode" "$name" "$run" "$("${wrap[@]}" "$build/kcourier-load" \
		--agent "127.0.0.1:$port" \
		--ca-fingerprint "$(cat "$work/agent-$mode.pin")" \
		--cache "$work/cache" --duration "$secs" --warmup "$warm" \
		--json --connect-storm "${threads[@]}" \
		--agent-pid "$(cat "$pidfile")" \
		2>>"$work/load.log" || [ $? -eq 3 ])"
}

# kc-512 with kcourier-lat attached: started, given a moment to attach,
# stopped with SIGINT after the load (it then detaches everything).
traced_case() {
	local mode=$1 run=$2 lat=$build/kcourier-lat pid json

	[ -x "$lat" ] && [ "$(id -u)" = 0 ] || return 0
	say "$mode run $run: kc-512-ref"
	record "$mode" kc-512-ref "$run" "$(kc_load "$mode" "${peer_shape[@]}")"
	say "$mode run $run: kc-512-traced"
	"$lat" --pid "${agent_pid[$mode]}" --interval 3600 --json \
		>"$work/lat-$run.json" 2>>"$work/lat.log" &
	pid=$!
	for _ in $(seq 50); do
		grep -q attached "$work/lat.log" 2>/dev/null && break
		sleep 0.1
	done
	json=$(kc_load "$mode" "${peer_shape[@]}")
	kill -INT "$pid"
	wait "$pid" || say "kcourier-lat: $(tail -1 "$work/lat.log")"
	: >"$work/lat.log"
	record "$mode" kc-512-traced "$run" "$json"
}

# New mutual-TLS connections: against the agent, s_server and nginx.
storm_cases() {
	local mode=$1 run=$2

	say "$mode run $run: storm-kc"
	record "$mode" storm-kc "$run" "$(kc_load "$mode" --connect-storm)"
	storm_other "$mode" "$run" storm-ossl "${ossl_port[$mode]}" \
		"$work/ossl-$mode.pid"
	storm_other "$mode" "$run" storm-nginx "${nginx_port[$mode]}" \
		"$work/nginx-$mode.pid"
}

# Blocks until the agent holds n connections' sockets (or ten minutes:
# on a busy machine 10,000 handshakes can take that long).
await_agent_fds() {
	local pid=$1 n=$2

	for _ in $(seq 6000); do
		[ "$(ls "/proc/$pid/fd" | wc -l)" -ge "$n" ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# kc-512-alone, then idle-kc with kc-512-idle inside its hold (the same
# message load just before and beside the idle connections), then
# idle-mosq.
idle_cases() {
	local mode=$1 run=$2 hold idle_pid dir="$work/peers-$1"

	say "$mode run $run: kc-512-alone"
	record "$mode" kc-512-alone "$run" "$(kc_load "$mode" "${peer_shape[@]}")"
	# Long enough for the message case and its warm-up, then some.
	hold=$(/usr/bin/python3 -c "print($secs + $warm + 5)")
	say "$mode run $run: idle-kc, $idle_n connections"
	wrap_for load "$mode"
	"${wrap[@]}" "$build/kcourier-load" --dir "$work/agent-$mode" \
		--cache "$work/cache" --agent-pid "${agent_pid[$mode]}" \
		--idle "$idle_n" "${peer_shape[@]}" --threads 4 \
		--duration "$hold" \
		>"$work/idle-kc.json" 2>>"$work/load.log" &
	idle_pid=$!
	if await_agent_fds "${agent_pid[$mode]}" "$idle_n"; then
		sleep 1 # the steps' memory readings
		say "$mode run $run: kc-512-idle beside them"
		record "$mode" kc-512-idle "$run" \
			"$(kc_load "$mode" "${peer_shape[@]}")"
	else
		say "the agent never held $idle_n connections: no kc-512-idle"
	fi
	wait "$idle_pid" || say "idle-kc: exit $?"
	record_idle "$mode" idle-kc "$run" "$work/idle-kc.json"
	say "$mode run $run: idle-mosq, $idle_n connections"
	"${wrap[@]}" "$build/bench/mosq-idle" --port "${mosq_port[$mode]}" \
		--ca "$dir/ca.pem" --cert "$dir/client.pem" \
		--key "$dir/client.key" --count "$idle_n" --threads 4 \
		--hold 1 --broker-pid "$(cat "$dir/mosquitto.pid")" \
		>"$work/idle-mosq.json" 2>>"$work/load.log" ||
		say "idle-mosq: exit $?"
	record_idle "$mode" idle-mosq "$run" "$work/idle-mosq.json"
}

one_round() {
	local mode=$1 run=$2 size rate

	if [[ $cases = *" storm "* ]]; then
		storm_cases "$mode" "$run"
	fi
	if [ "$run" = 1 ] && [[ $cases = *" idle "* ]]; then
		idle_cases "$mode" "$run"
	fi
	if [[ $cases = *" probes "* ]]; then
		traced_case "$mode" "$run"
	fi
	[[ $cases = *" msgs "* ]] || return 0
	for size in 256 1024 16384; do
		say "$mode run $run: lat-$size"
		record "$mode" "lat-$size" "$run" "$(kc_load "$mode" --pairs 1 \
			--window 64 --rate "$lat_rate" --size "$size")"
		say "$mode run $run: tput-$size"
		record "$mode" "tput-$size" "$run" "$(kc_load "$mode" \
			--pairs 32 --window 16 --size "$size")"
	done
	peer_cases "$mode" "$run"
	rate=$(printf '%s' "$kc512" | /usr/bin/python3 -c \
		'import json,sys; print(max(1, int(json.load(sys.stdin).get("msgs_per_s", 0) / 2)))' 2>/dev/null || echo 0)
	if [ "$rate" -gt 1 ]; then
		say "$mode run $run: half-512 at $rate msgs/s"
		record "$mode" half-512 "$run" "$(kc_load "$mode" \
			"${peer_shape[@]}" --window 64 --rate "$rate")"
	fi
}

start_mode() {
	local mode=$1 full=$2

	start_agent "$mode"
	if [ "$full" = full ]; then
		start_s_server "$mode"
		start_nginx "$mode"
	fi
	start_peers "$mode"
	# Enrol every client once before measuring anything.
	say "enrolling the load clients of the $mode agent"
	kc_load "$mode" --pairs 32 --duration 0.5 --warmup 0 >/dev/null
}

# The settings beyond the defaults, for the command the summary shows.
bench_env() {
	local v

	for v in BENCH_CASES BENCH_PIN BENCH_SHIELD BENCH_ONLY BENCH_WARMUP \
		 BENCH_LAT_RATE BENCH_IDLE; do
		[ -n "${!v:-}" ] && printf ' %s="%s"' "$v" "${!v}"
	done
	return 0
}

main() {
	local run mode

	pick_modes
	# 10,000 idle connections need as many files in the servers and the
	# load tool: what an operator sets with LimitNOFILE= or ulimit -n.
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	[ "$(ulimit -n)" -gt $((idle_n + 1000)) ] ||
		say "open-file limit $(ulimit -n): the idle cases may fail"
	mkdir -p "$out"
	: >"$results"
	say "modes: ${modes[*]}; pinned: servers on CPU $server_cpu," \
		"load on CPU $load_cpu"
	start_mode "${modes[0]}" full
	if [ "${#modes[@]}" -gt 1 ] && [[ $cases = *" msgs "* ]]; then
		start_mode "${modes[1]}" peers
	fi
	for run in $(seq "$runs"); do
		one_round "${modes[0]}" "$run"
		if [ "${#modes[@]}" -gt 1 ] && [[ $cases = *" msgs "* ]]; then
			peer_cases "${modes[1]}" "$run"
		fi
	done
	"$build/bench/crypto-floor" --size 256 --size 512 --size 1024 --size 16384 \
		--json >"$out/floor.json"
	/usr/bin/python3 "$src/bench/summarize.py" "$results" "$out/floor.json" \
		"$out/summary.md" "$out/summary.json" \
		"make bench BENCH_RUNS=$runs BENCH_SECONDS=$secs$(bench_env)"
	if grep -q '"lost":[1-9]\|"duplicate":[1-9]' "$results"; then
		die "a run lost or duplicated messages: see $results"
	fi
}

main
