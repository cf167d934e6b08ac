#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_agent (tests/fuzz/fuzz_agent.c).

Each seed is a mode byte, then records of u8 op, u16 len, bytes: op 0 the
bytes as decrypted TLS records, op 1 a SEND plaintext the harness seals
under the session it opened, op 2 "let the group commit come back".
Mode bit 0: a certificate for "fuzz"; bit 1 (with bit 0): a session open.

Usage: tests/fuzz/make-agent-seeds.py [REPO_ROOT]   (default: the current dir)
"""
import os
import struct
import sys

AUTHED, SESSION = 0x01, 0x02
RAW, SEALED, SETTLE = 0, 1, 2


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def s(b):
    return u16(len(b)) + b


def blob(b):
    return u32(len(b)) + b


def frame(ftype, body):
    return u32(1 + len(body)) + bytes([ftype]) + body


def rec(op, data=b""):
    return bytes([op]) + u16(len(data)) + data


def msg_id(n):
    return bytes([0xf0, n]) + bytes(14)


def send_plain(to, n, counter, flags=0, inner=b"\x02sealed-for-you"):
    return s(to) + msg_id(n) + u64(counter) + bytes([flags]) + blob(inner)


SID = b"fuzz-session-sid"
PING = frame(0x06, u64(7))
GET_SEAL = frame(0x08, b"")

SEEDS = {
    # Sends to another client and to itself (a DELIVER comes back), a
    # duplicate counter, then the DELIVERED and the small requests.
    "01-session-traffic": bytes([AUTHED | SESSION]) +
    rec(RAW, PING) +
    rec(SEALED, send_plain(b"peer", 1, 1)) +
    rec(SEALED, send_plain(b"fuzz", 2, 2, 1)) +
    rec(SETTLE) +
    rec(SEALED, send_plain(b"peer", 3, 1)) +
    rec(RAW, frame(0x05, msg_id(2))) +
    rec(RAW, frame(0x02, s(b"peer")) + GET_SEAL) +
    rec(SETTLE),
    # SEND refusals after the MAC: an unknown recipient, a bad flag, a
    # counter of 0, a body that does not decode.
    "02-send-refusals": bytes([AUTHED | SESSION]) +
    rec(SEALED, send_plain(b"nobody", 4, 9)) +
    rec(SEALED, send_plain(b"peer", 5, 10, 0x80)) +
    rec(SEALED, send_plain(b"peer", 6, 0)) +
    rec(SEALED, b"\x00\x04peer") +
    rec(SETTLE),
    # No certificate: one REGISTER (its token is unknown), then the close.
    "03-register-only": bytes([0]) +
    rec(RAW, frame(0x01, s(b"tok") + s(b"newcomer") + s(b"id-spki") +
                   s(b"enc-spki") + s(b"enc-sig"))),
    "04-unauthenticated-ping": bytes([0]) + rec(RAW, PING),
    # A SEND on a session the agent never opened, raw.
    "05-unknown-session": bytes([AUTHED]) +
    rec(RAW, frame(0x04, SID + u64(1) + bytes(16) + blob(bytes(32)) +
                   bytes(32))),
    # OPEN_SESSION with a value that unwraps to nothing (one RSA operation).
    "06-open-session": bytes([AUTHED]) +
    rec(RAW, frame(0x03, bytes(range(16)) + b"\x5a" * 256) + PING),
    # Framing lost: len above max_frame, and len 0.
    "07-too-large": bytes([AUTHED]) + rec(RAW, u32(0x7fffffff) + b"\x06"),
    "08-zero-len": bytes([AUTHED]) + rec(RAW, u32(0)),
    # Framing kept: unknown type, an agent-to-client type, a short body.
    "09-bad-bodies": bytes([AUTHED]) +
    rec(RAW, frame(0x7f, b"x") + frame(0x85, b"") + frame(0x06, b"\x01") +
        PING),
    # One frame cut across records, and one left torn at the close.
    "10-split-frames": bytes([AUTHED]) +
    rec(RAW, PING[:3]) + rec(RAW, PING[3:] + GET_SEAL[:2]) +
    rec(RAW, GET_SEAL[2:]) + rec(RAW, PING[:7]),
}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    out = os.path.join(root, "tests", "fuzz", "corpus", "fuzz_agent")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
