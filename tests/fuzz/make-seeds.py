#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpora of fuzz_frame and fuzz_inner.

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


if __name__ == "__main__":
    main()
