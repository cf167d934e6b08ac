#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_envelope.

Real envelopes, sealed by tests/interop/pyenvelope.py to a throwaway key
(the fuzzer has its own key, so they fail at the MAC: they are there to
start it inside the parser), and near misses for every rule of PROTOCOL.md
section 2: v, the member set, base64, lengths, trailing text.

Usage: tests/fuzz/make-envelope-seeds.py [REPO_ROOT]   (default: .)
"""
import base64
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
sys.path.insert(0, os.path.join(root, "tests", "interop"))
import pyenvelope  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

OUT = os.path.join(root, "tests", "fuzz", "corpus", "fuzz_envelope")
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sealed(msg):
    return json.loads(pyenvelope.seal(KEY.public_key(), msg))


def compact(obj):
    """kcourier's own spelling: no spaces."""
    return json.dumps(obj, separators=(",", ":")).encode()


def with_member(name, value):
    obj = sealed(b"near miss")
    obj[name] = value
    return compact(obj)


def without(name):
    obj = sealed(b"near miss")
    del obj[name]
    return compact(obj)


def b64(raw):
    return base64.b64encode(raw).decode()


def seeds():
    base = compact(sealed(b"near miss"))
    yield "01-real-empty", compact(sealed(b""))
    yield "02-real-hello-spaced", pyenvelope.seal(KEY.public_key(), b"hello")
    yield "03-real-1k", compact(sealed(os.urandom(1000)))
    yield "10-v-2", with_member("v", 2)
    yield "11-v-real", base.replace(b'"v":1', b'"v":1.0')
    yield "12-v-true", with_member("v", True)
    yield "13-v-string", with_member("v", "1")
    yield "20-missing-mac", without("mac")
    yield "21-duplicate-iv", base[:-1] + b',"iv":"AAAAAAAAAAAAAAAAAAAAAA=="}'
    yield "22-extra-member", base[:-1] + b',"x":null}'
    iv = sealed(b"x")["iv"]
    yield "30-b64-whitespace", with_member("iv", iv[:8] + "\n" + iv[8:])
    yield "31-b64-no-padding", with_member("iv", iv.rstrip("="))
    yield "32-b64-unused-bits", with_member("iv", iv[:21] + "B==")
    yield "33-b64-urlsafe", with_member("iv", "-_" + iv[2:])
    yield "40-iv-15-bytes", with_member("iv", b64(bytes(15)))
    yield "41-ct-empty", with_member("encrypted_message", "")
    yield "42-ct-17-bytes", with_member("encrypted_message", b64(bytes(17)))
    yield "43-wrapped-255", with_member("encrypted_aes_key", b64(bytes(255)))
    yield "44-wrapped-zero", with_member("encrypted_aes_key", b64(bytes(256)))
    yield "50-trailing-garbage", base + b"x"
    yield "51-truncated", base[: len(base) // 2]
    yield "52-deep-arrays", b"[" * 5000 + b"]" * 5000
    yield "53-unicode-escape", base.replace(b'"iv":"', b'"iv":"\\u0041', 1)
    yield "54-invalid-utf8", base.replace(b'"mac"', b'"m\xff\xfe"', 1)
    yield "55-empty-object", b"{}"
    yield "56-top-level-array", b"[" + base + b"]"
    yield "57-nul-in-key", base.replace(b'"v"', b'"v\\u0000"', 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
