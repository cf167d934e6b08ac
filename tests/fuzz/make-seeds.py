#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpora of fuzz_frame, fuzz_inner and fuzz_agent.

One valid example per frame type (PROTOCOL.md section 4) and per inner
record kind (section 5), encoded here from the tables without the C codec,
so test_codec's seed_corpus_* tests also check the C codec against a second,
independent encoder.

Usage: tests/fuzz/make-seeds.py [REPO_ROOT]   (default: the current dir)
"""
import os
import struct
import sys


def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def s(b):
    """str: u16 length || bytes"""
    return u16(len(b)) + b


def blob(b):
    """blob: u32 length || bytes"""
    return u32(len(b)) + b


def frame(ftype, body):
    """u32 len || u8 type || body, len counting type and body"""
    return u32(1 + len(body)) + bytes([ftype]) + body


SID = bytes(range(0x00, 0x10))
MSG_ID = bytes(range(0x20, 0x30))
IV = bytes(range(0x30, 0x40))
MAC = bytes(range(0x40, 0x60))
WRAPPED = b"\xa5" * 256
SIG = b"\x5a" * 256

SESSION_INIT = (b"\x01" + SID + s(b"alice") + s(b"bob") +
                u64(1700000000123) + WRAPPED + SIG)
MESSAGE = b"\x02" + SID + u64(1) + IV + blob(b"0123456789abcdef") + MAC
NO_RECEIPT = 0x01


def send_plain(counter, flags, inner):
    """str to || 16 msg_id || u64 counter || u8 flags || blob inner"""
    return s(b"bob") + MSG_ID + u64(counter) + u8(flags) + blob(inner)


SEND_PLAIN = send_plain(1, 0, MESSAGE)
# A SESSION_INIT travels with NO_RECEIPT; a large counter exercises all
# eight of its bytes.
SEND_PLAIN_INIT = send_plain(0x0123456789abcdef, NO_RECEIPT, SESSION_INIT)

FRAMES = {
    "01-register": frame(0x01, s(b"tok-0123") + s(b"alice") +
                         s(b"id-spki") + s(b"enc-spki") + s(b"enc-sig")),
    "02-lookup": frame(0x02, s(b"bob")),
    "03-open_session": frame(0x03, SID + WRAPPED),
    # The SEND "ciphertext" is a plaintext record, so the fuzzer's nested
    # decoders start from something that parses.
    "04-send": frame(0x04, SID + u64(1) + IV + blob(SEND_PLAIN) + MAC),
    "05-delivered": frame(0x05, MSG_ID),
    "06-ping": frame(0x06, u64(0x0123456789abcdef)),
    "08-get_seal": frame(0x08, b""),
    "81-registered": frame(0x81, s(b"client-cert") + s(b"ca-cert") +
                           s(b"seal-cert")),
    "82-keys": frame(0x82, s(b"bob") + s(b"id-cert") + s(b"enc-spki") +
                     s(b"enc-sig")),
    "83-session": frame(0x83, SID + u32(3600)),
    "84-ack": frame(0x84, SID + u64(1) + MSG_ID + u16(0)),
    "85-deliver": frame(0x85, s(b"alice") + MSG_ID + u64(1700000000000) +
                        blob(SESSION_INIT)),
    "86-receipt": frame(0x86, MSG_ID + s(b"bob")),
    "87-pong": frame(0x87, u64(0x0123456789abcdef)),
    "88-seal": frame(0x88, s(b"seal-cert")),
    "8f-error": frame(0x8F, u16(8) + s(b"not registered")),
}

RECORDS = {
    "inner-01-session_init": SESSION_INIT,
    "inner-02-message": MESSAGE,
    "plain-send": SEND_PLAIN,
    "plain-send-no_receipt": SEND_PLAIN_INIT,
}


# fuzz_agent (tests/fuzz/fuzz_agent.c): a mode byte, then records of u8 op,
# u16 len, bytes: op 0 the bytes as decrypted TLS records, op 1 a SEND
# plaintext the harness seals under the session it opened, op 2 "let the
# group commit come back". Mode bit 0: a certificate for "fuzz"; bit 1
# (with bit 0): a session open.
AUTHED, SESSION = 0x01, 0x02
RAW, SEALED, SETTLE = 0, 1, 2


def rec(op, data=b""):
    return bytes([op]) + u16(len(data)) + data


def msg_id(n):
    return bytes([0xf0, n]) + bytes(14)


def agent_send_plain(to, n, counter, flags=0, inner=b"\x02sealed-for-you"):
    return s(to) + msg_id(n) + u64(counter) + bytes([flags]) + blob(inner)


AGENT_SID = b"fuzz-session-sid"
AGENT_PING = frame(0x06, u64(7))
AGENT_GET_SEAL = frame(0x08, b"")

AGENT_SEEDS = {
    # Sends to another client and to itself (a DELIVER comes back), a
    # duplicate counter, then the DELIVERED and the small requests.
    "01-session-traffic": bytes([AUTHED | SESSION]) +
    rec(RAW, AGENT_PING) +
    rec(SEALED, agent_send_plain(b"peer", 1, 1)) +
    rec(SEALED, agent_send_plain(b"fuzz", 2, 2, 1)) +
    rec(SETTLE) +
    rec(SEALED, agent_send_plain(b"peer", 3, 1)) +
    rec(RAW, frame(0x05, msg_id(2))) +
    rec(RAW, frame(0x02, s(b"peer")) + AGENT_GET_SEAL) +
    rec(SETTLE),
    # SEND refusals after the MAC: an unknown recipient, a bad flag, a
    # counter of 0, a body that does not decode.
    "02-send-refusals": bytes([AUTHED | SESSION]) +
    rec(SEALED, agent_send_plain(b"nobody", 4, 9)) +
    rec(SEALED, agent_send_plain(b"peer", 5, 10, 0x80)) +
    rec(SEALED, agent_send_plain(b"peer", 6, 0)) +
    rec(SEALED, b"\x00\x04peer") +
    rec(SETTLE),
    # No certificate: one REGISTER (its token is unknown), then the close.
    "03-register-only": bytes([0]) +
    rec(RAW, frame(0x01, s(b"tok") + s(b"newcomer") + s(b"id-spki") +
                   s(b"enc-spki") + s(b"enc-sig"))),
    "04-unauthenticated-ping": bytes([0]) + rec(RAW, AGENT_PING),
    # A SEND on a session the agent never opened, raw.
    "05-unknown-session": bytes([AUTHED]) +
    rec(RAW, frame(0x04, AGENT_SID + u64(1) + bytes(16) + blob(bytes(32)) +
                   bytes(32))),
    # OPEN_SESSION with a value that unwraps to nothing (one RSA operation).
    "06-open-session": bytes([AUTHED]) +
    rec(RAW, frame(0x03, bytes(range(16)) + b"\x5a" * 256) + AGENT_PING),
    # Framing lost: len above max_frame, and len 0.
    "07-too-large": bytes([AUTHED]) + rec(RAW, u32(0x7fffffff) + b"\x06"),
    "08-zero-len": bytes([AUTHED]) + rec(RAW, u32(0)),
    # Framing kept: unknown type, an agent-to-client type, a short body.
    "09-bad-bodies": bytes([AUTHED]) +
    rec(RAW, frame(0x7f, b"x") + frame(0x85, b"") + frame(0x06, b"\x01") +
        AGENT_PING),
    # One frame cut across records, and one left torn at the close.
    "10-split-frames": bytes([AUTHED]) +
    rec(RAW, AGENT_PING[:3]) + rec(RAW, AGENT_PING[3:] + AGENT_GET_SEAL[:2]) +
    rec(RAW, AGENT_GET_SEAL[2:]) + rec(RAW, AGENT_PING[:7]),
}


def write_all(root, name, seeds):
    d = os.path.join(root, "tests", "fuzz", "corpus", name)
    os.makedirs(d, exist_ok=True)
    for fname, data in seeds.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    write_all(root, "fuzz_frame", FRAMES)
    write_all(root, "fuzz_inner", RECORDS)
    write_all(root, "fuzz_agent", AGENT_SEEDS)


if __name__ == "__main__":
    main()
