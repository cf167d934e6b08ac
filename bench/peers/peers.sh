# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The brokers kcourier is compared with, started and stopped for one
# benchmark run. Source it from bash:
#
#   . bench/peers/peers.sh
#   peers_make_certs DIR           CA, server (127.0.0.1/localhost), client
#   mosquitto_start DIR PORT [WRAP...]
#                                  mosquitto 2.0, TLS 1.3, mutual, persistence
#   nats_start DIR PORT [WRAP...]  nats-server 2.9, TLS 1.3, mutual, JetStream
#
# WRAP is a command that execs the broker in place, e.g. `taskset -c 0` or
# `env GOMAXPROCS=1 taskset -c 0`: the broker keeps the PID it started
# with, so PID files, --broker-pid and peer_stop still name the broker.
#   peer_stop PIDFILE              stops that one process, nothing else
#   peers_free_port BASE           prints the first unused port >= BASE
#
# Every broker is our own process on our own loopback port, with its config,
# log, PID file and store under DIR: the Debian packages' system services
# (port 1883, 4222) are never used or touched. A start refuses a port that
# something already listens on, so a run cannot measure a stranger.
#
# Files in DIR: ca.pem server.pem server.key client.pem client.key (certs);
# mosquitto.conf mosquitto.log mosquitto.pid mosquitto.db;
# nats.conf nats.log nats.pid js/ (the JetStream store).
#
# Functions return non-zero with a message on standard error; none exits.

# Seconds a broker gets to listen after start, and to exit after SIGTERM.
PEERS_START_TIMEOUT=${PEERS_START_TIMEOUT:-15}
PEERS_STOP_TIMEOUT=${PEERS_STOP_TIMEOUT:-10}

_peers_err() {
	echo "peers: $*" >&2
}

# One certificate signed by DIR/ca.pem: _peers_sign DIR NAME CN EXT...
# ECDSA P-256 keeps the handshakes cheap and the same for every peer.
_peers_sign() {
	local dir=$1 name=$2 cn=$3
	shift 3
	local ext=()
	local e

	for e in "$@"; do
		ext+=(-addext "$e")
	done
	# -config /dev/null: no distro defaults (they would add CA:TRUE).
	openssl req -config /dev/null -x509 -new -days 30 -nodes \
		-newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-keyout "$dir/$name.key" -out "$dir/$name.pem" \
		-subj "/CN=$cn" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		"${ext[@]}" 2>"$dir/openssl.log" ||
		{ _peers_err "openssl failed for $name: $(cat "$dir/openssl.log")"; return 1; }
}

peers_make_certs() {
	local dir=${1:?usage: peers_make_certs DIR}

	mkdir -p "$dir" || return 1
	openssl req -config /dev/null -x509 -new -days 30 -nodes \
		-newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" \
		-subj "/CN=kcourier bench CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>"$dir/openssl.log" ||
		{ _peers_err "openssl failed for the CA: $(cat "$dir/openssl.log")"; return 1; }
	_peers_sign "$dir" server localhost \
		"basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" \
		"subjectAltName=IP:127.0.0.1,DNS:localhost" || return 1
	_peers_sign "$dir" client kcbench-client \
		"basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=clientAuth" || return 1
	chmod 600 "$dir"/*.key
	rm -f "$dir/openssl.log"
}

# True when something listens on 127.0.0.1:PORT (or on every address).
_peers_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# Prints the first port from BASE up that nothing listens on.
peers_free_port() {
	local port=${1:?usage: peers_free_port BASE}

	while _peers_listening "$port"; do
		port=$((port + 1))
		[ "$port" -le 65535 ] || { _peers_err "no free port from $1 up"; return 1; }
	done
	echo "$port"
}

_peers_check_port() {
	local port=$1

	case $port in
	'' | *[!0-9]*) _peers_err "port '$port' is not a number"; return 1 ;;
	esac
	if [ "$port" -lt 1024 ] || [ "$port" -gt 65535 ]; then
		_peers_err "port $port is outside 1024..65535"
		return 1
	fi
	if _peers_listening "$port"; then
		_peers_err "port $port is already in use; refusing to measure someone else's server"
		return 1
	fi
}

# Waits until PID listens on PORT; fails early if it died (log tail shown).
_peers_wait_listen() {
	local pid=$1 port=$2 log=$3
	local tries=$((PEERS_START_TIMEOUT * 10))

	while [ "$tries" -gt 0 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			_peers_err "process $pid exited during start; $log says:"
			tail -n 20 "$log" >&2
			return 1
		fi
		_peers_listening "$port" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	_peers_err "process $pid does not listen on port $port after ${PEERS_START_TIMEOUT}s"
	return 1
}

# Starts CMD... in the background with output to LOG, records its PID in
# PIDFILE and waits for PORT. The broker runs in the foreground of that
# background job (no daemon mode), so $! is the broker itself.
_peers_launch() {
	local pidfile=$1 port=$2 log=$3
	shift 3
	local pid

	"$@" >"$log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$pidfile"
	if ! _peers_wait_listen "$pid" "$port" "$log"; then
		# Our own child of a moment ago: no PID reuse to fear.
		_peers_kill "$pid"
		rm -f "$pidfile"
		return 1
	fi
}

_peers_need_certs() {
	local f

	for f in ca.pem server.pem server.key; do
		[ -r "$1/$f" ] && continue
		_peers_err "$1/$f missing: run peers_make_certs $1 first"
		return 1
	done
}

_mosquitto_conf() {
	local dir=$1 port=$2

	cat <<EOF
# Written by bench/peers/peers.sh for one benchmark run.
# Stay the user that started us: dropping to 'mosquitto' would lose
# access to the run directory.
user $(id -un)
log_dest stderr
log_type error
log_type warning
connection_messages false

# QoS 1 with persistence on: the in-memory state is written to
# $dir/mosquitto.db every autosave_interval seconds (the documented
# default, spelled out) and at exit; nothing is written per message.
persistence true
persistence_location $dir/
persistence_file mosquitto.db
autosave_interval 1800

# The sender window (16) is ours; the broker must neither cap delivery
# at its default of 20 in flight nor drop QoS 1 messages silently once
# 1000 are queued for a slow subscriber (the defaults would do both).
max_inflight_messages 0
max_queued_messages 0
max_queued_bytes 0
set_tcp_nodelay true

listener $port 127.0.0.1
cafile $dir/ca.pem
certfile $dir/server.pem
keyfile $dir/server.key
tls_version tlsv1.3
require_certificate true
use_identity_as_username true
allow_anonymous false
EOF
}

mosquitto_start() {
	local dir=${1:?usage: mosquitto_start DIR PORT [WRAP...]}
	local port=${2:?usage: mosquitto_start DIR PORT [WRAP...]}
	shift 2

	dir=$(cd "$dir" && pwd) || return 1
	_peers_check_port "$port" && _peers_need_certs "$dir" || return 1
	_mosquitto_conf "$dir" "$port" >"$dir/mosquitto.conf" || return 1
	_peers_launch "$dir/mosquitto.pid" "$port" "$dir/mosquitto.log" \
		"$@" mosquitto -c "$dir/mosquitto.conf"
}

_nats_conf() {
	local dir=$1 port=$2

	cat <<EOF
# Written by bench/peers/peers.sh for one benchmark run.
listen: "127.0.0.1:$port"
server_name: "kcbench"

tls {
	cert_file: "$dir/server.pem"
	key_file: "$dir/server.key"
	ca_file: "$dir/ca.pem"
	verify: true
	# 2.9 has no min_version. Go's TLS 1.3 suites are always on and this
	# list only governs TLS 1.2, so naming none of 1.2's leaves 1.3 only.
	cipher_suites: [
		"TLS_AES_128_GCM_SHA256",
		"TLS_AES_256_GCM_SHA384",
		"TLS_CHACHA20_POLY1305_SHA256"
	]
	timeout: 5
}

# File storage under the run directory; no limits below what a run needs.
jetstream {
	store_dir: "$dir/js"
}
EOF
}

nats_start() {
	local dir=${1:?usage: nats_start DIR PORT [WRAP...]}
	local port=${2:?usage: nats_start DIR PORT [WRAP...]}
	shift 2

	dir=$(cd "$dir" && pwd) || return 1
	_peers_check_port "$port" && _peers_need_certs "$dir" || return 1
	mkdir -p "$dir/js" || return 1
	_nats_conf "$dir" "$port" >"$dir/nats.conf" || return 1
	nats-server -c "$dir/nats.conf" -t >"$dir/nats.log" 2>&1 ||
		{ _peers_err "nats-server rejects $dir/nats.conf:"; cat "$dir/nats.log" >&2; return 1; }
	_peers_launch "$dir/nats.pid" "$port" "$dir/nats.log" \
		"$@" nats-server -c "$dir/nats.conf"
}

# A process that has exited but is still our unreaped child is a zombie:
# kill -0 succeeds on it, so look at its state too.
_peers_alive() {
	local state

	kill -0 "$1" 2>/dev/null || return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# SIGTERM, then SIGKILL after PEERS_STOP_TIMEOUT; waits until PID is gone.
_peers_kill() {
	local pid=$1 tries=$((PEERS_STOP_TIMEOUT * 10))

	kill -TERM "$pid" 2>/dev/null || true
	while _peers_alive "$pid" && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	if _peers_alive "$pid"; then
		_peers_err "process $pid ignored SIGTERM for ${PEERS_STOP_TIMEOUT}s; SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		while _peers_alive "$pid"; do sleep 0.1; done
	fi
	# Reap it if it is our child; harmless otherwise.
	wait "$pid" 2>/dev/null || true
}

peer_stop() {
	local pidfile=${1:?usage: peer_stop PIDFILE}
	local pid comm

	[ -r "$pidfile" ] || { _peers_err "no PID file $pidfile"; return 1; }
	pid=$(cat "$pidfile")
	case $pid in
	'' | *[!0-9]*) _peers_err "$pidfile holds '$pid', not a PID"; return 1 ;;
	esac
	if ! _peers_alive "$pid"; then
		wait "$pid" 2>/dev/null || true
		rm -f "$pidfile"
		return 0
	fi
	# A recycled PID must not be shot: only our brokers are stopped.
	comm=$(cat "/proc/$pid/comm" 2>/dev/null)
	case $comm in
	mosquitto | nats-server) ;;
	*) _peers_err "PID $pid from $pidfile is '$comm', not a broker; left alone"; return 1 ;;
	esac
	_peers_kill "$pid"
	rm -f "$pidfile"
	return 0
}
