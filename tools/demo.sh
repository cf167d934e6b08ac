#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The guided demo behind `make demo`: every step printed, then run.
# Usage: tools/demo.sh BUILD
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
kc="$build/kcourier"
work=$(mktemp -d /tmp/kcourier-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# A demo passphrase; real users give one on a TTY or in a file.
export KCOURIER_PASSPHRASE="demo passphrase, not for real use"

step "1. Bob makes his keys: an id key (signs) and an enc key (receives)"
run "$kc" keygen --out "$work/bob"
run ls -l "$work/bob"

step "2. Alice seals a note for Bob's enc key (OAEP key wrap, AES-256-CBC, HMAC-SHA256)"
printf 'Meet at the usual place at 6.\n' > "$work/note.txt"
run "$kc" seal --to "$work/bob/enc.pub.pem" --in "$work/note.txt" --out "$work/note.json"
echo "The envelope (JSON, what travels or sits on disk):"
cat "$work/note.json"

step "3. Bob opens it with his private enc key"
run "$kc" open --key "$work/bob/enc.key.pem" --in "$work/note.json"

step "4. Someone flips one character of the ciphertext on the way"
/usr/bin/python3 - "$work/note.json" "$work/tampered.json" <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
ct = env["encrypted_message"]
env["encrypted_message"] = ("B" if ct[0] != "B" else "C") + ct[1:]
json.dump(env, open(sys.argv[2], "w"))
PY
if run "$kc" open --key "$work/bob/enc.key.pem" --in "$work/tampered.json"; then
	echo "demo: a tampered envelope opened; this is a bug" >&2
	exit 1
fi
echo "(refused, and no plaintext was written)"

step "5. Fingerprints, to compare out of band"
run "$kc" fingerprint "$work/bob/enc.pub.pem"
run "$kc" fingerprint "$work/bob/id.pub.pem"

step "Done: the message went from Alice to Bob sealed end to end."
