#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The guided demo behind `make demo`: every step printed, then run.
# Usage: tools/demo.sh BUILD
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
kc="$build/kcourier"
kcd="$build/kcourierd"
work=$(mktemp -d /tmp/kcourier-demo.XXXXXX)
agent_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

# A demo passphrase; real users give one on a TTY or in a file.
export KCOURIER_PASSPHRASE="demo passphrase, not for real use"


# ---------------------------------------------------------------- part 1
step "Part 1: the one-shot envelope (files and pipes, no agent)"

step "1.1 Bob makes his keys: an id key (signs) and an enc key (receives)"
mkdir -p "$work/keys"
run "$kc" keygen --out "$work/keys/bob"

step "1.2 Alice seals a note for Bob's enc key (OAEP key wrap, AES-256-CBC, HMAC-SHA256)"
printf 'Meet at the usual place at 6.\n' > "$work/note.txt"
run "$kc" seal --to "$work/keys/bob/enc.pub.pem" --in "$work/note.txt" --out "$work/note.json"
echo "The envelope (JSON, what travels or sits on disk):"
cat "$work/note.json"

step "1.3 Bob opens it with his private enc key"
run "$kc" open --key "$work/keys/bob/enc.key.pem" --in "$work/note.json"

step "1.4 Someone flips one character of the ciphertext on the way"
/usr/bin/python3 - "$work/note.json" "$work/tampered.json" <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
ct = env["encrypted_message"]
env["encrypted_message"] = ("B" if ct[0] != "B" else "C") + ct[1:]
json.dump(env, open(sys.argv[2], "w"))
PY
if run "$kc" open --key "$work/keys/bob/enc.key.pem" --in "$work/tampered.json"; then
	echo "demo: a tampered envelope opened; this is a bug" >&2
	exit 1
fi
echo "(refused, and no plaintext was written)"

# ---------------------------------------------------------------- part 2
step "Part 2: the agent, kcourierd, relaying between registered clients"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
addr="127.0.0.1:$port"

step "2.1 The operator initialises an agent: CA, TLS and seal keys, store"
run "$kcd" init --dir "$work/agent" --listen "$addr" > "$work/ca.fp"
pin=$(cat "$work/ca.fp")
echo "CA fingerprint (clients pin it): $pin"
run ls -l "$work/agent"

step "2.2 ... makes two one-time enrollment tokens"
run "$kcd" token --dir "$work/agent" --count 2 > "$work/tokens"
cat "$work/tokens"

step "2.3 ... and starts the agent (log lines below start with kcourierd:)"
echo "\$ $kcd run --dir $work/agent --workers 2 &"
"$kcd" run --dir "$work/agent" --workers 2 &
agent_pid=$!
for _ in $(seq 50); do
	/usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
	sleep 0.1
done

step "2.4 Alice and Bob register: keys made locally, certificates issued by the agent CA"
run "$kc" --home "$work/alice" register --agent "$addr" --ca-fingerprint "$pin" --token "$(sed -n 1p "$work/tokens")" --id alice
run "$kc" --home "$work/bob" register --agent "$addr" --ca-fingerprint "$pin" --token "$(sed -n 2p "$work/tokens")" --id bob

step "2.5 Alice sends to Bob while Bob is offline: the agent stores it durably, then ACKs"
run "$kc" --home "$work/alice" send bob "Hello Bob, this waited for you in the agent's store."

step "2.6 Bob comes online and receives it (end-to-end opened, signature checked)"
run "$kc" --home "$work/bob" recv --count 1

step "2.7 Bob sends Alice 2,000 numbered messages over one connection"
echo "While his agent session is open, its keys are in the kernel keyring:"
seq 1 2000 | "$kc" --home "$work/bob" send --lines alice > "$work/bob.sent" &
send_pid=$!
seen=
for _ in $(seq 200); do
	if keyctl show %keyring:kcourier 2>/dev/null | grep -q 'kcourier:'; then
		printf '$ keyctl show %%keyring:kcourier\n'
		keyctl show %keyring:kcourier
		seen=1
		break
	fi
	kill -0 "$send_pid" 2>/dev/null || break
	sleep 0.02
done
[ -n "$seen" ] || echo "(the session ended before we looked)"
wait "$send_pid"
echo "Bob's client printed $(wc -l < "$work/bob.sent") msg_ids, each after its ACK (stored and fsync'd)."

step "2.8 Alice receives them, checks every signature and MAC, and answers DELIVERED"
"$kc" --home "$work/alice" recv --json --timeout 3 > "$work/alice.json" 2> "$work/alice.err"
/usr/bin/python3 - "$work/alice.json" <<'PY'
import base64, json, sys
msgs = [json.loads(line) for line in open(sys.argv[1])]
bodies = [base64.b64decode(m["body_b64"]).decode() for m in msgs]
in_order = bodies == [str(i) for i in range(1, len(bodies) + 1)]
print(f"Alice got {len(msgs)} messages from {sorted({m['from'] for m in msgs})},"
      f" {'in order' if in_order else 'OUT OF ORDER'}; first: {json.dumps(msgs[0])}")
PY
echo "and a receipt for the message she sent Bob while he was offline:"
grep receipt "$work/alice.err"

step "2.9 Bob collects his receipts (one per message, SESSION_INIT included)"
"$kc" --home "$work/bob" recv --timeout 1 2> "$work/bob.err" || true
echo "Bob got $(grep -c receipt "$work/bob.err") receipts; the last one:"
grep receipt "$work/bob.err" | tail -1

step "2.10 The session is over: its keys are gone from the keyring"
run keyctl show %keyring:kcourier

step "2.11 Fingerprints, to compare out of band"
run "$kc" --home "$work/alice" lookup bob

step "2.12 The operator stops the agent (SIGTERM: finish commits, close cleanly)"
kill -TERM "$agent_pid"
wait "$agent_pid"
agent_pid=
echo "agent stopped"

step "Done."
