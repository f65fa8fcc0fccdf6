#!/usr/bin/env python3
"""Writes a small TRAINING ceremony log with real attestation chains, from FORMAT.md.

    make_training_log.py OUT [--format-version {1,2}] [--variant NAME]

The simulator's TRAINING root key is derived from its published seed, so anyone can
issue f9 and slot certificates under it: that is what makes a training custody
worthless for real secrets and useful here. The log covers enroll, seal, share-check,
open, review, rotate, envelope-destroyed and checkpoints, every checkpoint carrying
its acts' quorum. Variants break one thing: `bad-serial` (attestation), `stranger`
(a checkpoint signer never enrolled), `bad-signature`.
"""

import argparse
import datetime
import hashlib
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_log as vl  # noqa: E402

SEED = b"glasskeep-piv-sim/v1/training-attestation-root: PUBLIC SEED, NOT A SECRET"
T0 = 1_704_067_200  # 2024-01-01T00:00:00Z


def key(label):
    scalar = int.from_bytes(hashlib.sha256(label.encode() if isinstance(label, str) else label).digest(), "big")
    return ec.derive_private_key(scalar % (vl.N_P256 - 1) + 1, ec.SECP256R1())


def point(k, compressed):
    fmt = serialization.PublicFormat.CompressedPoint if compressed else serialization.PublicFormat.UncompressedPoint
    return k.public_key().public_bytes(serialization.Encoding.X962, fmt)


def cert(subject, issuer, pub, signer, serial, ca, exts=()):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(pub)
         .serial_number(serial)
         .not_valid_before(datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc))
         .not_valid_after(datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    for oid, value in exts:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
    return b.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def der_int(v):
    raw = v.to_bytes(v.bit_length() // 8 + 1, "big")  # minimal, with a 00 when the top bit is set
    return bytes([2, len(raw)]) + raw


def record(name, serial, bad_serial=False):
    with open(os.path.join(vl.CA_DIR, "sim-training-root.der"), "rb") as f:
        root = x509.load_der_x509_certificate(f.read())
    dev_key = key(f"device/{serial}")
    dev_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "training PIV Attestation")])
    root_key = ec.derive_private_key(int.from_bytes(hashlib.sha256(SEED).digest(), "big"), ec.SECP256R1())
    assert point(root_key, False) == root.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    device = cert(dev_name, root.subject, dev_key.public_key(), root_key, serial, True)
    keys, certs = {}, {}
    for role, slot, pin in (("seal", 0x82, 2), ("sign", 0x9C, 3)):
        k = key(f"{name}/{role}")
        attested = serial + (1 if bad_serial and role == "sign" else 0)
        exts = [("1.3.6.1.4.1.41482.3.3", bytes([5, 7, 1])),
                ("1.3.6.1.4.1.41482.3.7", der_int(attested)),
                ("1.3.6.1.4.1.41482.3.8", bytes([pin, 2]))]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"YubiKey PIV Attestation {slot:02x}")])
        certs[role] = cert(subject, dev_name, k.public_key(), dev_key, 1000 + slot, False, exts)
        keys[role] = point(k, True)
    return {"name": name, "serial": serial, "fw": [5, 7, 1], "keys": keys, "certs": certs,
            "device": device}


class Enc:
    """The deterministic CBOR of FORMAT.md: shortest heads, keys ascending."""

    def __init__(self):
        self.b = bytearray()

    def head(self, major, v):
        if v < 24:
            self.b.append(major << 5 | v)
        else:
            n = 1 if v < 256 else 2 if v < 65536 else 4 if v < 1 << 32 else 8
            self.b.append(major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[n])
            self.b += v.to_bytes(n, "big")

    def item(self, x):
        if isinstance(x, bool):
            self.b.append(0xF5 if x else 0xF4)
        elif isinstance(x, int):
            self.head(0, x)
        elif isinstance(x, bytes):
            self.head(2, len(x))
            self.b += x
        elif isinstance(x, str):
            self.head(3, len(x.encode()))
            self.b += x.encode()
        elif isinstance(x, list):
            self.head(4, len(x))
            for y in x:
                self.item(y)
        else:  # a record: its values in key order 1, 2, ...
            self.head(5, len(x.values))
            for i, y in enumerate(x.values, 1):
                self.head(0, i)
                self.item(y)
        return self


class M:
    def __init__(self, *values):
        self.values = list(values)


def build(version, variant):
    cid = bytes(range(16))
    entries, out = [], bytearray()
    state = {"head": vl.ZERO, "time": T0}

    def push(kind, body, dt=60):
        seq = len(entries)
        state["time"] += dt
        entry = M(version, seq, state["head"], state["time"], kind, body)
        cbor = bytes(Enc().item(entry).b)
        # Entry maps start at key 1: M numbers its values from 1, as entries do.
        h = hashlib.sha256(vl.ENTRY_LABEL + cbor).digest()
        out.extend(vl.MAGIC + len(cbor).to_bytes(4, "big") + cbor + h)
        entries.append(cbor)
        state["head"] = h
        return seq

    def checkpoint(signers, forge=None):
        signers = sorted(signers)
        seq, t = len(entries), state["time"] + 60
        e = {"seq": seq, "time": t, "body": {"head": state["head"], "signatures": [(n, b"") for n in signers]}}
        digest = vl.checkpoint_digest(version, cid, e)
        sigs = []
        for n in signers:
            r, s = utils.decode_dss_signature(key(f"{n}/sign").sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))
            s = min(s, vl.N_P256 - s)
            if n == forge:
                r = r ^ 1
            sigs.append(M(n, r.to_bytes(32, "big") + s.to_bytes(32, "big")))
        body = [state["head"], sigs] + ([t - 30] if version >= 2 else [])
        push(9, M(*body))

    g = ["Training Org", True, cid, "0.1.0", bytes(32)] + ([2] if version >= 2 else [])
    push(0, M(*g))
    for i, name in enumerate(["alice", "bob", "carol"]):
        r = record(name, 1001 + i, variant == "bad-serial" and name == "bob")
        rec = M(name, r["serial"], r["fw"], 0x82, r["keys"]["seal"], 2, 2, r["keys"]["sign"], 3, 2,
                r["device"], r["certs"]["seal"], r["certs"]["sign"])
        push(1, M(rec, False) if version >= 2 else M(rec))
    checkpoint(["alice", "bob", "carol"] + (["mallory"] if variant == "stranger" else []))
    fps = [hashlib.sha256(f"envelope/{s}/{i}".encode()).digest() for s in (1, 2) for i in range(2)]
    set1, set2 = bytes([1] * 16), bytes([2] * 16)
    # Version 2 seals record a review window (key 10) after the rotation window.
    windows = [86400] + ([7 * 86400] if version >= 2 else [])
    push(2, M(set1, "root", 0, 2, 2, ["alice", "bob"], fps[:2], bytes(32), *windows))
    checkpoint(["alice", "bob"], forge="bob" if variant == "bad-signature" else None)
    push(5, M(set1, "bob", fps[1]))
    checkpoint(["bob"])
    open_seq = push(3, M(set1, "IdP down", "INC-1", ["alice", "bob"], fps[:2]))
    checkpoint(["alice", "bob"])
    push(8, M(open_seq, 0, "confirmed"))
    checkpoint(["carol"])
    push(2, M(set2, "root", 0, 2, 2, ["alice", "bob"], fps[2:], bytes(32), *windows))
    push(6, M(set1, set2))
    checkpoint(["alice", "bob"])
    for fp in fps[:2]:
        push(7, M(fp, ["alice", "bob"]))
    checkpoint(["alice", "bob"])
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--format-version", type=int, choices=(1, 2), default=2)
    ap.add_argument("--variant", choices=("valid", "bad-serial", "stranger", "bad-signature"), default="valid")
    a = ap.parse_args()
    with open(a.out, "wb") as f:
        f.write(build(a.format_version, a.variant))


if __name__ == "__main__":
    main()
