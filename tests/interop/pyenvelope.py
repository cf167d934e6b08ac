#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""An independent implementation of the kcourier JSON envelope.

PROTOCOL.md section 2, written from the spec alone on Python's
`cryptography`, so tests/test_interop.c can check that what kcourier seals
this opens and the other way round.

  pyenvelope.py seal PUB.pem IN OUT        PUB: public key, cert or private key
  pyenvelope.py open KEY.pem IN OUT        exit 1 on any failure, OUT untouched
  pyenvelope.py tamper IN OUT MEMBER INDEX flip bit 0 of a decoded byte
  pyenvelope.py fingerprint FILE           hex SHA-256 of the DER SPKI
  pyenvelope.py pbes2 KEY.pem              PBES2 parameters, via openssl asn1parse
  pyenvelope.py describe KEY.pem           "RSA <bits> <e>" after loading the key

A passphrase for an encrypted key comes from $KCOURIER_PASSPHRASE.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MEMBERS = ("v", "encrypted_aes_key", "iv", "encrypted_message", "mac")
LABEL = b"kcourier/1 json"
OAEP = asym.OAEP(mgf=asym.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                 label=None)


class Refused(Exception):
    """Any reason an envelope does not open; deliberately one kind."""


def b64encode(raw):
    return base64.b64encode(raw).decode("ascii")


def b64decode_canonical(text):
    """Standard alphabet with padding, and nothing that re-encodes otherwise."""
    if not isinstance(text, str):
        raise Refused()
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Refused()
    if b64encode(raw) != text:
        raise Refused()
    return raw


def mac_key(k):
    """Km = HMAC-SHA256(K, "kcourier/1 mac" || 0x01): HKDF-Expand, one block."""
    return hmac.new(k, b"kcourier/1 mac\x01", hashlib.sha256).digest()


def envelope_mac(k, wrapped, iv, ct):
    return hmac.new(mac_key(k), LABEL + wrapped + iv + ct,
                    hashlib.sha256).digest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def passphrase():
    p = os.environ.get("KCOURIER_PASSPHRASE")
    return p.encode() if p else None


def load_public(path):
    pem = read(path)
    if b"-----BEGIN CERTIFICATE-----" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    if b"PRIVATE KEY-----" in pem:
        return load_private(path).public_key()
    return serialization.load_pem_public_key(pem)


def load_private(path):
    pem = read(path)
    # cryptography refuses a password for a plain key, so give one only to
    # PKCS#8 "ENCRYPTED PRIVATE KEY" or traditional "Proc-Type: 4,ENCRYPTED".
    return serialization.load_pem_private_key(
        pem, passphrase() if b"ENCRYPTED" in pem else None)


def seal(pub, pt):
    if not isinstance(pub, rsa.RSAPublicKey) or pub.key_size != 2048 \
            or pub.public_numbers().e != 65537:
        raise SystemExit("pyenvelope: not an RSA-2048 key with e = 65537")
    k, iv = os.urandom(32), os.urandom(16)
    wrapped = pub.encrypt(k, OAEP)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(pt) + padder.finalize()
    enc = Cipher(algorithms.AES(k), modes.CBC(iv)).encryptor()
    ct = enc.update(padded) + enc.finalize()
    # Spaces after ':' and ',' (json's default), unlike kcourier's compact
    # form: both are the same JSON value.
    return json.dumps({
        "v": 1,
        "encrypted_aes_key": b64encode(wrapped),
        "iv": b64encode(iv),
        "encrypted_message": b64encode(ct),
        "mac": b64encode(envelope_mac(k, wrapped, iv, ct)),
    }).encode() + b"\n"


def no_duplicates(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise Refused()
    return dict(pairs)


def parse(text):
    try:
        obj = json.loads(text.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (ValueError, UnicodeDecodeError):
        raise Refused()
    if not isinstance(obj, dict) or sorted(obj) != sorted(MEMBERS):
        raise Refused()
    # bool is a subclass of int in Python: true must not pass for 1.
    if type(obj["v"]) is not int or obj["v"] != 1:
        raise Refused()
    fields = {name: b64decode_canonical(obj[name]) for name in MEMBERS[1:]}
    ct = fields["encrypted_message"]
    if len(fields["encrypted_aes_key"]) != 256 or len(fields["iv"]) != 16 \
            or len(fields["mac"]) != 32 or not ct or len(ct) % 16:
        raise Refused()
    return fields


def open_envelope(priv, text):
    f = parse(text)
    wrapped, iv, ct = f["encrypted_aes_key"], f["iv"], f["encrypted_message"]
    try:
        k = priv.decrypt(wrapped, OAEP)
        unwrapped = len(k) == 32
    except ValueError:
        unwrapped = False
    if not unwrapped:
        # PROTOCOL.md section 1: go on with a random K, fail at the MAC.
        k = os.urandom(32)
    good_mac = hmac.compare_digest(envelope_mac(k, wrapped, iv, ct), f["mac"])
    if not (good_mac and unwrapped):
        raise Refused()
    dec = Cipher(algorithms.AES(k), modes.CBC(iv)).decryptor()
    padded = dec.update(ct) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise Refused()


def tamper(text, member, index):
    obj = json.loads(text)
    if member == "v":
        obj["v"] = 2
    else:
        raw = bytearray(b64decode_canonical(obj[member]))
        raw[index % len(raw)] ^= 1
        obj[member] = b64encode(bytes(raw))
    return json.dumps(obj).encode() + b"\n"


def spki_fingerprint(path):
    der = load_public(path).public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def pbes2(path):
    """PBES2 parameters as `openssl asn1parse` shows them, in order:
    scheme, KDF, salt length, iteration count, PRF, cipher."""
    out = subprocess.run(["openssl", "asn1parse", "-in", path], check=True,
                         capture_output=True, text=True).stdout
    objects = re.findall(r"prim: OBJECT\s+:(\S+)", out)
    salt = re.search(r"prim: OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)", out)
    iters = re.search(r"prim: INTEGER\s+:([0-9A-F]+)", out)
    if not (salt and iters):
        raise SystemExit("pyenvelope: no PBES2 parameters in " + path)
    return "%s %d %d %s" % (" ".join(objects[:2]), len(salt.group(1)) // 2,
                            int(iters.group(1), 16), " ".join(objects[2:]))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "seal":
        write(args[2], seal(load_public(args[0]), read(args[1])))
    elif cmd == "open":
        try:
            pt = open_envelope(load_private(args[0]), read(args[1]))
        except Refused:
            print("pyenvelope: cannot open", file=sys.stderr)
            return 1
        write(args[2], pt)
    elif cmd == "tamper":
        write(args[1], tamper(read(args[0]), args[2], int(args[3])))
    elif cmd == "fingerprint":
        print(spki_fingerprint(args[0]))
    elif cmd == "pbes2":
        print(pbes2(args[0]))
    elif cmd == "describe":
        pub = load_private(args[0]).public_key()
        print("RSA %d %d" % (pub.key_size, pub.public_numbers().e))
    else:
        raise SystemExit("pyenvelope: unknown command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
