#!/usr/bin/env python3
"""An independent verifier of glasskeep ceremony logs.

Written from docs/FORMAT.md ("Ceremony log") alone, as an auditor outside the project
would: its own strict CBOR reader, its own replay, its own attestation path building.
Python 3.11, the standard library and `cryptography` only.

    verify_log.py LOG [--anchor HEX] [--now RFC3339] [--training] [--lenient] [--strict]
                      [--format-version {1,2}] [--ca-dir DIR]
    verify_log.py --self-test

Prints one JSON object ({"ok", "class", "seq", "training", "violations", "pending",
...}) and exits 0 when the log passes, 1 when it does not (a failure or a violation: an
obligation past its window), 2 on a usage error, and with --strict 11 when it passes
with work still pending within its window. LOG is the file, or a custody
folder holding `ceremony.log`. `--format-version 1` reads retired version-1 logs (what
glasskeep builds before format 2 read and write); the default is version 2.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import re
import sys
import time
import unicodedata
import unittest

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CA_DIR = os.path.join(ROOT, "crates", "glasskeep-core", "src", "attestation")

MAGIC = b"GKL1"
MAX_ENTRY = 1 << 20
MAX_TIME = 253402300799
U64 = (1 << 64) - 1
ZERO = bytes(32)
ENTRY_LABEL = b"glasskeep/v1/entry\0"
OTHER_LABELS = [b"", b"glasskeep/v2/checkpoint\0", b"glasskeep/v1/checkpoint\0",
                b"glasskeep/v0/entry\0", b"glasskeep/v2/entry\0", b"glasskeep/v1/entry"]
CHECKPOINT_LABEL = {1: b"glasskeep/v1/checkpoint\0", 2: b"glasskeep/v2/checkpoint\0"}
N_P256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

GENESIS, ENROLL, SEAL, OPEN, DRILL, SHARE_CHECK, ROTATE, DESTROYED, REVIEW, CHECKPOINT, RETIRE, \
    ACTIVATE = range(12)
BIDI = {0x061C, 0xFEFF, 0x2028, 0x2029} | set(range(0x200B, 0x2010)) \
    | set(range(0x202A, 0x202F)) | set(range(0x2060, 0x206A))
POLICY_ORDER = ["opening-not-cosigned", "review-overdue", "rotated-late", "rotation-overdue",
                "envelope-not-destroyed", "must-rotate", "term-lapsed", "uncheckpointed-tail"]
PENDING_ORDER = ["enroll", "seal", "review", "rotate", "destroy-envelope", "rotate-after-retirement",
                 "acknowledge", "reaffirm"]
DESTRUCTION_GRACE = 30 * 86400
TERM_GRACE = 30 * 86400
MIN_TERM, MAX_TERM = 86400, 3650 * 86400


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


class Failure(Exception):
    """The first failure: a class name as glasskeep prints it, the seq, a reason."""

    def __init__(self, cls, seq, detail, offset=None):
        super().__init__(detail)
        self.cls, self.seq, self.detail, self.offset = cls, seq, detail, offset


class DecodeError(Exception):
    pass


# ---------------------------------------------------------------- strict CBOR reader

class Cbor:
    """FORMAT.md "Conventions": shortest heads, definite lengths, the listed types only."""

    def __init__(self, data, version):
        self.d, self.p, self.version = data, 0, version

    def take(self, n):
        if self.p + n > len(self.d):
            raise DecodeError(f"truncated at byte {self.p}")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def head(self, major):
        first = self.take(1)[0]
        if first >> 5 != major:
            raise DecodeError(f"major type {first >> 5} where {major} is required")
        info = first & 31
        if info < 24:
            return info
        if info > 27:
            raise DecodeError("indefinite length or reserved head")
        n = 1 << (info - 24)
        v = int.from_bytes(self.take(n), "big")
        if v < (24 if n == 1 else 1 << (4 * n)):
            raise DecodeError("head not in its shortest form")
        return v

    def uint(self, lo=0, hi=U64):
        v = self.head(0)
        if not lo <= v <= hi:
            raise DecodeError(f"value {v} outside {lo}..={hi}")
        return v

    def bytes(self, lo, hi=None):
        b = self.take(self.head(2))
        if not lo <= len(b) <= (lo if hi is None else hi):
            raise DecodeError(f"byte string of {len(b)} bytes")
        return b

    def text(self, lo, hi, checked=True):
        raw = self.take(self.head(3))
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("invalid UTF-8") from None
        if not lo <= len(raw) <= hi:
            raise DecodeError(f"text of {len(raw)} bytes")
        if checked and (self.version >= 2 or checked == "name"):
            for c in s:
                if unicodedata.category(c) == "Cc" or (self.version >= 2 and ord(c) in BIDI):
                    raise DecodeError(f"control character U+{ord(c):04X} in text")
        return s

    def name(self):
        return self.text(1, 64, "name")

    def bool(self):
        b = self.take(1)[0]
        if b not in (0xF4, 0xF5):
            raise DecodeError("not a boolean")
        return b == 0xF5

    def array(self, exact=None, most=255):
        n = self.head(4)
        if n > len(self.d) - self.p or n > most or (exact is not None and n != exact):
            raise DecodeError(f"array of {n} items")
        return n

    def map(self, n):
        m = self.head(5)
        if 2 * m > len(self.d) - self.p or m != n:
            raise DecodeError(f"map of {m} pairs, {n} required")

    def key(self, k):
        if self.uint() != k:
            raise DecodeError(f"map key {k} expected")

    def fields(self, *readers):
        """A map whose keys are exactly 1..len(readers), read in order."""
        self.map(len(readers))
        out = []
        for i, read in enumerate(readers, 1):
            self.key(i)
            out.append(read())
        return out


# ---------------------------------------------------------------- entries

def decode_entry(cbor, version):
    r = Cbor(cbor, version)
    r.map(6)
    r.key(1)
    v = r.uint()
    if v != version:
        raise DecodeError(f"entry format version {v} (this verifier reads {version})")
    r.key(2)
    seq = r.uint()
    r.key(3)
    prev = r.bytes(32)
    r.key(4)
    t = r.uint(0, MAX_TIME)
    r.key(5)
    kind = r.uint()
    r.key(6)
    if kind > (ACTIVATE if version >= 2 else CHECKPOINT):
        raise DecodeError(f"unknown entry kind {kind}")
    body = BODIES[kind](r)
    if r.p != len(r.d):
        raise DecodeError("trailing bytes")
    return {"seq": seq, "prev": prev, "time": t, "kind": kind, "body": body}


def names(r):
    return [r.name() for _ in range(r.array())]


def hashes32(r):
    return [r.bytes(32) for _ in range(r.array())]


def genesis(r):
    f = [lambda: r.text(1, 256), r.bool, lambda: r.bytes(16), lambda: r.text(1, 64),
         lambda: r.bytes(32)]
    if r.version >= 2:
        f += [lambda: r.uint(2, 255), lambda: r.uint(MIN_TERM, MAX_TERM)]
    v = r.fields(*f)
    return {"org": v[0], "training": v[1], "custody_id": v[2], "q": v[5] if len(v) > 5 else None,
            "term": v[6] if len(v) > 6 else None}


def record(r):
    v = r.fields(r.name, lambda: r.uint(0, 0xFFFFFFFF),
                 lambda: [r.uint(0, 255) for _ in range(r.array(exact=3))],
                 lambda: r.uint(0x82, 0x95), lambda: r.bytes(33),
                 lambda: r.uint(1, 3), lambda: r.uint(1, 3), lambda: r.bytes(33),
                 lambda: r.uint(1, 3), lambda: r.uint(1, 3), lambda: r.bytes(1, 4096),
                 lambda: r.bytes(1, 4096), lambda: r.bytes(1, 4096))
    keys = ["name", "serial", "firmware", "seal_slot", "seal_key", "seal_pin", "seal_touch",
            "sign_key", "sign_pin", "sign_touch", "device_cert", "seal_cert", "sign_cert"]
    return dict(zip(keys, v))


def enroll(r):
    if r.version >= 2:
        return r.fields(lambda: record(r), r.bool)[0]
    return r.fields(lambda: record(r))[0]


def seal(r):
    readers = [lambda: r.bytes(16), lambda: r.text(1, 128), lambda: r.uint(0, 3),
               lambda: r.uint(0, 255), lambda: r.uint(0, 255), lambda: names(r),
               lambda: hashes32(r), lambda: r.bytes(32), r.uint]
    if r.version >= 2:
        readers.append(r.uint)  # key 10: the review window
    v = r.fields(*readers)
    # Version 1 had no review window: its openings are never judged overdue for review.
    return {"set": v[0], "label": v[1], "t": v[3], "n": v[4], "custodians": v[5],
            "envelopes": v[6], "window": v[8], "review_window": v[9] if len(v) > 9 else U64}


def open_(r):
    v = r.fields(lambda: r.bytes(16), lambda: r.text(1, 4096), lambda: r.text(0, 256),
                 lambda: names(r), lambda: hashes32(r))
    return {"set": v[0], "custodians": v[3], "envelopes": v[4]}


def drill(r):
    v = r.fields(lambda: r.bytes(16), lambda: names(r), lambda: hashes32(r))
    return {"set": v[0], "custodians": v[1], "envelopes": v[2]}


def share_check(r):
    v = r.fields(lambda: r.bytes(16), r.name, lambda: r.bytes(32))
    return {"set": v[0], "custodians": [v[1]], "envelopes": [v[2]]}


def rotate(r):
    v = r.fields(lambda: r.bytes(16), lambda: r.bytes(16))
    return {"old": v[0], "new": v[1]}


def destroyed(r):
    v = r.fields(lambda: r.bytes(32), lambda: names(r))
    return {"envelope": v[0], "witnesses": v[1]}


def review(r):
    v = r.fields(r.uint, lambda: r.uint(0, 1), lambda: r.text(0, 4096))
    return {"open_seq": v[0]}


def checkpoint(r):
    def sigs():
        return [r.fields(r.name, lambda: r.bytes(64)) for _ in range(r.array())]
    if r.version < 2:
        v = r.fields(lambda: r.bytes(32), sigs)
        return {"head": v[0], "signatures": v[1], "clock": None}
    # Keys 1-3, then 4 (plan hash), 5 (build hash) and 6 (allowances, 1..=3), each
    # optional, in ascending order.
    pairs = r.head(5)
    if not 3 <= pairs <= 6:
        raise DecodeError(f"checkpoint map of {pairs} pairs")
    out = {"plan": None, "build": None, "allowed": 0}
    r.key(1)
    out["head"] = r.bytes(32)
    r.key(2)
    out["signatures"] = sigs()
    r.key(3)
    out["clock"] = r.uint()
    last = 3
    for _ in range(pairs - 3):
        k = r.uint()
        if not last < k <= 6:
            raise DecodeError(f"checkpoint key {k} after {last}")
        last = k
        if k == 6:
            out["allowed"] = r.uint(1, 3)
        else:
            out["plan" if k == 4 else "build"] = r.bytes(32)
    return out


def retire(r):
    v = r.fields(r.name, lambda: r.text(1, 4096))
    return {"name": v[0]}


def activate(r):
    v = r.fields(lambda: r.bytes(16), lambda: names(r))
    if not v[1]:
        raise DecodeError("activation lists nobody missing")
    return {"set": v[0], "missing": v[1]}


BODIES = [genesis, enroll, seal, open_, drill, share_check, rotate, destroyed, review,
          checkpoint, retire, activate]


def read_frames(data, version):
    """Stage 1. Returns (entries, hashes, failure or None)."""
    entries, hashes_ = [], []
    pos = 0
    while pos < len(data):
        seq, rest = len(entries), len(data) - pos

        def fail(cls, why):
            return entries, hashes_, Failure(cls, seq, why, pos)
        if rest < 8:
            torn = MAGIC.startswith(data[pos:pos + 4])
            return fail("torn-tail" if torn else "framing", "header shorter than 8 bytes")
        if data[pos:pos + 4] != MAGIC:
            return fail("framing", "no frame magic")
        length = int.from_bytes(data[pos + 4:pos + 8], "big")
        if length > MAX_ENTRY:
            return fail("framing", f"frame length {length} is impossible")
        if rest < 8 + length + 32:
            return fail("torn-tail", "the file ends inside the frame")
        cbor = data[pos + 8:pos + 8 + length]
        trailer = data[pos + 8 + length:pos + 8 + length + 32]
        digest = sha256(ENTRY_LABEL, cbor)
        if digest != trailer:
            other = any(sha256(lab, cbor) == trailer for lab in OTHER_LABELS)
            return fail("domain-label" if other else "framing", "frame hash mismatch")
        try:
            e = decode_entry(cbor, version)
        except DecodeError as why:
            return fail("decode", str(why))
        if e["seq"] != seq:
            return fail("sequence", f"entry at this position has seq {e['seq']}")
        prev = hashes_[-1] if hashes_ else ZERO
        if e["prev"] != prev or (e["kind"] == CHECKPOINT and e["body"]["head"] != prev):
            return fail("hash-link", "does not link to the previous entry")
        entries.append(e)
        hashes_.append(digest)
        pos += 8 + length + 32
    return entries, hashes_, None


# ---------------------------------------------------------------- attestation

OID_EC = "1.2.840.10045.2.1"
OID_P256, OID_P384 = "1.2.840.10045.3.1.7", "1.3.132.0.34"
SIG_ALGS = {"1.2.840.113549.1.1.11": ("rsa", hashes.SHA256), "1.2.840.113549.1.1.12": ("rsa", hashes.SHA384),
            "1.2.840.113549.1.1.13": ("rsa", hashes.SHA512), "1.2.840.10045.4.3.2": ("ec", hashes.SHA256),
            "1.2.840.10045.4.3.3": ("ec", hashes.SHA384), "1.2.840.10045.4.3.4": ("ec", hashes.SHA512)}
KNOWN_CRITICAL = {"2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.14", "2.5.29.35"}
YUBICO_ARC = "1.3.6.1.4.1.41482.3."
ANCHOR_PINS = ["63ECE914E54DD87915F34033C85AF4C0696BA1512F8ADD66CED738331207B546",
               "62760C6A6EF91679F454C8902B80FD009825B3F25DA90F1FBACE2EC6586CD5A8"]
INTERMEDIATE_PINS = ["4698A1D3389C3EC60016C216250F1D0439922832D65142327436376DC2942B55",
                     "D4CC3F456FDAF4E7812A21AAB1DFE9D8E27D24E2FD2D6F21C9940109F0DAA754",
                     "6DE693F05376F5D8CA29069261E1C8626C75D503BD2EDBFD75354CAD1F722870",
                     "2D55B7998F4E42569D6D8FA382B6DC77D1DACF07358B19701163892922B17052",
                     "0C90B7D184A36EDF50A35F9BE935F0C5689BFDCFE5BDD073366CAFB49061A440"]
SLOTS = {0x9A, 0x9C, 0x9D, 0x9E, 0xF9} | set(range(0x82, 0x96))


class Refused(Exception):
    pass


def tlv(buf, pos):
    """One DER TLV at pos: (tag, content start, end)."""
    if pos + 2 > len(buf) or buf[pos] & 0x1F == 0x1F:
        raise Refused("bad DER")
    tag, n = buf[pos], buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if not 1 <= k <= 4 or pos + k > len(buf):
            raise Refused("bad DER length")
        n, pos = int.from_bytes(buf[pos:pos + k], "big"), pos + k
    if pos + n > len(buf):
        raise Refused("DER runs past its end")
    return tag, pos, pos + n


def parse_oid(raw):
    arcs, v = [], 0
    for b in raw:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(v)
            v = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


class Cert:
    """A certificate with the raw DER of the parts FORMAT.md compares byte for byte."""

    def __init__(self, der):
        try:
            self.x = x509.load_der_x509_certificate(der)
            _, s, e = tlv(der, 0)
            if e != len(der):
                raise Refused("bytes after the certificate")
            _, ts, te = tlv(der, s)
            self.tbs = der[s:te]
            _, _, ae = tlv(der, te)
            self.outer_alg = der[te:ae]
            parts, p = [], ts
            while p < te:
                tag, cs, ce = tlv(der, p)
                parts.append((tag, der[p:ce], der[cs:ce]))
                p = ce
            if parts[0][0] == 0xA0:
                parts = parts[1:]
            self.inner_alg, self.issuer, self.subject = parts[1][1], parts[2][1], parts[4][1]
            spki = parts[5][2]
            _, as_, ae2 = tlv(spki, 0)
            alg = spki[as_:ae2]
            _, os_, oe = tlv(alg, 0)
            self.key_oid = parse_oid(alg[os_:oe])
            rest = alg[oe:]
            self.curve = parse_oid(rest[2:]) if rest[:1] == b"\x06" else None
            _, bs, be = tlv(spki, ae2)
            self.point = spki[bs + 1:be] if spki[bs:bs + 1] == b"\x00" else None
            self.exts = list(self.x.extensions)
            self.not_before = self.x.not_valid_before_utc
        except Exception as why:  # any parse failure refuses the record
            raise Refused(f"not a DER certificate: {why}") from None

    def ext(self, oid):
        for e in self.exts:
            if e.oid.dotted_string == oid:
                return e.value
        return None

    def ext_raw(self, oid):
        v = self.ext(oid)
        return None if v is None else v.value


def verify_signature(child, issuer):
    if child.outer_alg != child.inner_alg:
        raise Refused("outer and inner signature algorithms differ")
    _, cs, _ = tlv(child.outer_alg, 0)
    _, os_, oe = tlv(child.outer_alg, cs)
    oid, params = parse_oid(child.outer_alg[os_:oe]), child.outer_alg[oe:]
    if oid not in SIG_ALGS:
        raise Refused(f"unsupported signature algorithm {oid}")
    family, hash_cls = SIG_ALGS[oid]
    if params not in ((b"", b"\x05\x00") if family == "rsa" else (b"",)):
        raise Refused("signature algorithm parameters")
    try:
        key = issuer.x.public_key()
    except Exception:
        raise Refused("issuer key") from None
    sig = child.x.signature
    try:
        if family == "rsa":
            if issuer.key_oid != "1.2.840.113549.1.1.1" or not isinstance(key, rsa.RSAPublicKey):
                raise Refused("issuer key family")
            if (key.key_size + 7) // 8 < 256:
                raise Refused("RSA key too short")
            key.verify(sig, child.tbs, padding.PKCS1v15(), hash_cls())
        else:
            if issuer.key_oid != OID_EC or issuer.curve not in (OID_P256, OID_P384):
                raise Refused("issuer key family")
            key.verify(sig, child.tbs, ec.ECDSA(hash_cls()))
    except (InvalidSignature, ValueError):
        raise Refused("bad signature") from None


def check_link(child, issuer):
    if child.issuer != issuer.subject:
        raise Refused("issuer name mismatch")
    for e in child.exts:
        oid = e.oid.dotted_string
        if e.critical and oid not in KNOWN_CRITICAL and not oid.startswith(YUBICO_ARC):
            raise Refused(f"unknown critical extension {oid}")
    verify_signature(child, issuer)
    if child.not_before < issuer.not_before:
        raise Refused("certificate predates its issuer")


def check_ca(ca, below):
    bc = ca.ext("2.5.29.19")
    if bc is None or not bc.ca:
        raise Refused("issuer is not a CA")
    if bc.path_length is not None and below > bc.path_length:
        raise Refused("path length exceeded")
    ku = ca.ext("2.5.29.15")
    if ku is not None and not ku.key_cert_sign:
        raise Refused("issuer may not sign certificates")


def build_path(device, anchors, intermediates):
    current, below = device, 1
    for _ in range(4):
        for a in (a for a in anchors if a.subject == current.issuer):
            try:
                check_link(current, a)
                check_ca(a, below)
                return a
            except Refused:
                pass
        nxt = next((i for i in intermediates if i.subject == current.issuer), None)
        if nxt is None:
            raise Refused("no trusted issuer")
        check_link(current, nxt)
        check_ca(nxt, below)
        current, below = nxt, below + 1
    raise Refused("path too long")


def der_u32(raw):
    if raw is None or len(raw) < 3 or raw[0] != 0x02 or raw[1] != len(raw) - 2 or raw[1] > 5:
        raise Refused("serial extension")
    c = raw[2:]
    if c[0] & 0x80 or (len(c) > 1 and c[0] == 0 and not c[1] & 0x80) or int.from_bytes(c, "big") > 0xFFFFFFFF:
        raise Refused("serial extension")
    return int.from_bytes(c, "big")


class TrustStore:
    def __init__(self, anchors, intermediates):
        self.anchors = [c for c in (self._parse(d) for d in anchors) if c]
        self.intermediates = [c for c in (self._parse(d) for d in intermediates) if c]

    @staticmethod
    def _parse(der):
        try:
            return Cert(der)
        except Refused:
            return None

    @classmethod
    def load(cls, ca_dir, training):
        if training:
            with open(os.path.join(ca_dir, "sim-training-root.der"), "rb") as f:
                return cls([f.read()], [])
        with open(os.path.join(ca_dir, "yubico-attestation-cas.pem")) as f:
            pem = f.read()
        ders = [base64.b64decode("".join(b.split("-----END CERTIFICATE-----")[0].split()))
                for b in pem.split("-----BEGIN CERTIFICATE-----")[1:]]
        pin = {d: hashlib.sha256(d).hexdigest().upper() for d in ders}
        return cls([d for d in ders if pin[d] in ANCHOR_PINS],
                   [d for d in ders if pin[d] in INTERMEDIATE_PINS])


def verify_record(rec, store):
    """FORMAT.md "Attestation chains": raises Refused, or returns None."""
    device = Cert(rec["device_cert"])
    facts = []
    for cert_der in (rec["seal_cert"], rec["sign_cert"]):
        slot = Cert(cert_der)
        check_link(slot, device)
        bc = device.ext("2.5.29.19")
        if bc is not None and not bc.ca:
            raise Refused("device certificate says it is no CA")
        build_path(device, store.anchors, store.intermediates)
        if slot.key_oid != OID_EC or slot.curve != OID_P256 or slot.point is None \
                or len(slot.point) != 65 or slot.point[0] != 4:
            raise Refused("slot key is not P-256")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), slot.point)
        except ValueError:
            raise Refused("slot key is not on P-256") from None
        fw, pol, ff = (slot.ext_raw("1.3.6.1.4.1.41482.3." + s) for s in "389")
        if fw is None or len(fw) != 3 or pol is None or len(pol) != 2 \
                or not (1 <= pol[0] <= 3 and 1 <= pol[1] <= 3) or (ff is not None and len(ff) != 1):
            raise Refused("Yubico extension")
        serial = der_u32(slot.ext_raw("1.3.6.1.4.1.41482.3.7"))
        m = re.fullmatch(r"CN=YubiKey PIV Attestation (\+?[0-9A-Fa-f]+)", slot.x.subject.rfc4514_string())
        slot_id = int(m.group(1), 16) if m else None
        facts.append((serial, slot.point, list(fw), pol[0], pol[1],
                      slot_id if slot_id in SLOTS else None))
    for role, (serial, point, fw, pin, touch, slot_id) in zip(("seal", "sign"), facts):
        if serial != rec["serial"]:
            raise Refused("serial mismatch")
        try:
            recorded = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), rec[role + "_key"])
            attested = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError:
            raise Refused("key mismatch") from None
        if recorded.public_numbers() != attested.public_numbers():
            raise Refused(f"{role} key mismatch")
        if not policy_allowed(role, pin, touch):
            raise Refused(f"{role} policy too weak")
        if slot_id is not None and slot_id != (rec["seal_slot"] if role == "seal" else 0x9C):
            raise Refused(f"{role} slot mismatch")
        if fw != rec["firmware"]:
            raise Refused("firmware mismatch")
        if (pin, touch) != (rec[role + "_pin"], rec[role + "_touch"]):
            raise Refused(f"{role} policy mismatch")


def policy_allowed(role, pin, touch):
    return touch == 2 and (pin in (2, 3) if role == "seal" else pin == 3)


# ---------------------------------------------------------------- replay and verify

def checkpoint_digest(version, custody_id, e):
    b = e["body"]
    parts = [CHECKPOINT_LABEL[version], custody_id, e["seq"].to_bytes(8, "big"), b["head"]]
    if version >= 2:
        parts += [e["time"].to_bytes(8, "big"), bytes([len(b["signatures"])])]
        for name, _ in b["signatures"]:
            raw = name.encode()
            parts += [bytes([len(raw)]), raw]
        if b.get("plan") is not None:
            parts.append(b["plan"])
        if b.get("build") is not None:
            parts += [bytes([5]), b["build"]]
        if b.get("allowed"):
            parts.append(bytes([6, b["allowed"]]))
    return sha256(*parts)


def signature_valid(key, digest, sig):
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < N_P256 and 0 < s <= (N_P256 - 1) // 2):
        return False
    try:
        key.verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return True
    except InvalidSignature:
        return False


class Replay:
    def __init__(self, version, ca_dir, attest):
        self.version, self.ca_dir, self.attest = version, ca_dir, attest
        self.custody = None
        self.custodians = {}      # name -> {"key", "record", "retired"}
        self.serials, self.keys = set(), set()
        self.sets, self.set_order = {}, []
        self.openings = {}        # open seq -> dict
        self.envelopes = {}       # fingerprint -> {"set", "name", "destroyed"}
        self.last_time, self.last_checkpoint = 0, None
        self.batch, self.batch_live = [], set()
        self.retires = []         # (seq, time, name, [set ids])
        self.uncovered = []       # v1: open seqs not yet cosigned
        self.checkpoints = self.signatures = 0
        self.clock_behind = []

    def live(self):
        return {n for n, c in self.custodians.items() if c["retired"] is None}

    def live_set(self, sid, seq, pending_ok=False):
        s = self.sets.get(sid)
        if s is None or s["status"] == "superseded" or (s["status"] == "pending" and not pending_ok):
            raise Failure("replay", seq, "set not sealed, superseded or pending")
        return s

    def affirm(self, names_, seq, t):
        for n in names_:
            self.custodians[n]["affirmed"] = (seq, t)

    def unacknowledged(self, s):
        return [n for n, a in zip(s["custodians"], s["acks"]) if a is None]

    def activate(self, new, seq, t):
        new["status"] = "sealed"
        old = self.sets[new["predecessor"]]
        old["status"], old["rotated"], old["rotated_time"], old["successor"] = "superseded", seq, t, None
        for o in old["openings"]:
            if self.openings[o]["rotated"] is None:
                self.openings[o]["rotated"] = (seq, t)

    def check_shares(self, s, custodians, envelopes, seq):
        if len(custodians) != len(envelopes) or len(set(custodians)) != len(custodians):
            raise Failure("replay", seq, "custodian and envelope lists")
        last = -1
        for name, fp in zip(custodians, envelopes):
            owner = self.envelopes.get(fp)
            if owner is None or owner["set"] != s["id"] or owner["name"] != name:
                raise Failure("replay", seq, f"{name} does not hold that envelope")
            index = s["envelopes"].index(fp)
            if index <= last:
                raise Failure("replay", seq, "not in ascending share index")
            last = index

    def apply(self, e):
        seq, kind, b = e["seq"], e["kind"], e["body"]
        fail = lambda why, cls="replay": Failure(cls, seq, why)  # noqa: E731
        if (kind == GENESIS) != (self.custody is None):
            raise fail("genesis must be first and only first")
        if kind == GENESIS:
            self.custody, self.last_time = b, e["time"]
            return
        if e["time"] < self.last_time:
            raise fail("time went backwards")
        v2 = self.version >= 2
        if kind == ENROLL:
            if b["name"] in self.custodians or b["serial"] in self.serials:
                raise fail("name or serial already enrolled")
            if not policy_allowed("seal", b["seal_pin"], b["seal_touch"]) \
                    or not policy_allowed("sign", b["sign_pin"], b["sign_touch"]):
                raise fail("weak key policy")
            try:
                key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b["sign_key"])
            except ValueError:
                raise fail("sign key is not a P-256 point") from None
            if v2 and (b["sign_key"] in self.keys or b["seal_key"] in self.keys):
                raise fail("key used by another custodian")
            try:
                self.attest(b, TrustStore.load(self.ca_dir, self.custody["training"]))
            except Refused as why:
                raise fail(f"{b['name']}'s attestation is refused: {why}", "attestation") from None
            self.custodians[b["name"]] = {"key": key, "record": b, "retired": None,
                                          "affirmed": (seq, e["time"])}
            self.serials.add(b["serial"])
            self.keys |= {b["sign_key"], b["seal_key"]}
        elif kind == SEAL:
            if b["t"] < 2 or b["t"] > b["n"] or len(b["custodians"]) != b["n"] \
                    or len(b["envelopes"]) != b["n"] or b["set"] in self.sets:
                raise fail("set shape")
            for name in b["custodians"]:
                if name not in self.custodians or (v2 and self.custodians[name]["retired"] is not None):
                    raise fail(f"{name} is not a live custodian")
            fps = b["envelopes"]
            if len(set(b["custodians"])) != len(b["custodians"]) or len(set(fps)) != len(fps) \
                    or any(fp in self.envelopes for fp in fps):
                raise fail("custodian or envelope repeated")
            for name, fp in zip(b["custodians"], fps):
                self.envelopes[fp] = {"set": b["set"], "name": name, "destroyed": None}
            self.sets[b["set"]] = dict(b, id=b["set"], status="sealed", rotated=None, openings=[],
                                       successor=None, predecessor=None, acks=[])
            self.set_order.append(b["set"])
        elif kind in (OPEN, DRILL, SHARE_CHECK):
            s = self.live_set(b["set"], seq, pending_ok=kind == SHARE_CHECK)
            if kind != SHARE_CHECK and len(b["custodians"]) < s["t"]:
                raise fail("below threshold")
            self.check_shares(s, b["custodians"], b["envelopes"], seq)
            if v2:
                self.affirm(b["custodians"], seq, e["time"])
            if kind == SHARE_CHECK and s["status"] == "pending":
                i = s["envelopes"].index(b["envelopes"][0])
                if s["acks"][i] is None:
                    s["acks"][i] = seq
                if all(a is not None for a in s["acks"]):
                    self.activate(s, seq, e["time"])
            if kind == OPEN:
                s["status"] = "opened"
                s["openings"].append(seq)
                self.openings[seq] = {"time": e["time"], "set": b["set"], "custodians": b["custodians"],
                                      "deadline": min(e["time"] + s["window"], U64),
                                      "review_deadline": min(e["time"] + s["review_window"], U64),
                                      "review": None, "rotated": None}
                self.uncovered.append(seq)
        elif kind == ROTATE:
            old = self.live_set(b["old"], seq)
            if old["successor"] is not None:
                raise fail("a rotation of the old set is pending")
            new = self.live_set(b["new"], seq)
            if b["old"] == b["new"] or new["status"] != "sealed" or new["successor"] is not None:
                raise fail("bad rotation")
            if not v2:  # version 1: the rotate superseded the old set at once
                old["status"], old["rotated"], old["rotated_time"] = "superseded", seq, e["time"]
                for o in old["openings"]:
                    self.openings[o]["rotated"] = (seq, e["time"])
                self.last_time = e["time"]
                self.batch.append(e)
                return
            # Two-phase: the new set is pending until acknowledged; the exposure of the
            # old set's openings ends with the rotate.
            old["successor"] = b["new"]
            new["status"], new["predecessor"], new["acks"] = "pending", b["old"], [None] * new["n"]
            new["rotate_seq"] = seq
            for o in old["openings"]:
                if self.openings[o]["rotated"] is None:
                    self.openings[o]["rotated"] = (seq, e["time"])
        elif kind == ACTIVATE:
            s = self.sets.get(b["set"])
            if s is None or s["status"] != "pending":
                raise fail("not a pending set")
            if b["missing"] != self.unacknowledged(s):
                raise fail("missing custodians are not exactly those who did not acknowledge")
            if sum(a is not None for a in s["acks"]) < s["t"]:
                raise fail("fewer acknowledgements than the threshold")
            b["old"] = s["predecessor"]
            self.activate(s, seq, e["time"])
        elif kind == DESTROYED:
            env = self.envelopes.get(b["envelope"])
            if env is None or env["destroyed"] is not None or not b["witnesses"]:
                raise fail("unknown or destroyed envelope, or no witness")
            if self.version >= 2 and any(w not in self.live() for w in b["witnesses"]):
                raise fail("a witness is not a live custodian")
            env["destroyed"] = seq
        elif kind == REVIEW:
            o = self.openings.get(b["open_seq"])
            if o is None or o["review"] is not None:
                raise fail("not an opening, or already reviewed")
            o["review"] = seq
        elif kind == RETIRE:
            c = self.custodians.get(b["name"])
            if c is None or c["retired"] is not None or len(self.live()) - 1 < self.custody["q"]:
                raise fail("cannot retire")
            c["retired"] = seq
            self.retires.append((seq, e["time"], b["name"], [sid for sid in self.set_order
                                                  if self.sets[sid]["status"] != "superseded"
                                                  and b["name"] in self.sets[sid]["custodians"]]))
        elif kind == CHECKPOINT:
            self.checkpoint(e)
            return
        self.last_time = e["time"]
        self.batch.append(e)

    def checkpoint(self, e):
        seq, b = e["seq"], e["body"]
        signers = [n for n, _ in b["signatures"]]
        raw = [n.encode() for n in signers]
        if not raw or any(x >= y for x, y in zip(raw, raw[1:])):
            raise Failure("replay", seq, "signers empty or not strictly ascending")
        for n in signers:
            if n not in self.custodians:
                raise Failure("unknown-signer", seq, f"{n} is not enrolled")
            if self.version >= 2 and self.custodians[n]["retired"] is not None:
                raise Failure("replay", seq, f"{n} is retired")
        if self.version >= 2:
            labels = [self.sets[s]["label"] for s in self.set_order
                      if self.sets[s]["status"] in ("sealed", "opened")]
            if len(set(labels)) != len(labels):
                raise Failure("replay", seq, "two live sets share a label")
        digest = checkpoint_digest(self.version, self.custody["custody_id"], e)
        for n, sig in b["signatures"]:
            if not signature_valid(self.custodians[n]["key"], digest, sig):
                raise Failure("signature", seq, f"{n}'s signature does not verify")
        S = set(signers)
        if self.version >= 2:
            self.quorum(S, seq)
            if b["clock"] < e["time"]:
                self.clock_behind.append(seq)
        else:
            self.uncovered = [o for o in self.uncovered
                              if len(S & set(self.sets[self.openings[o]["set"]]["custodians"]))
                              < self.sets[self.openings[o]["set"]]["t"]]
        self.checkpoints += 1
        self.signatures += len(signers)
        self.last_time, self.last_checkpoint = e["time"], seq
        self.batch, self.batch_live = [], self.live()

    def quorum(self, S, cp_seq):
        q, B = self.custody["q"], self.batch_live
        if not self.batch and len(S) < q:
            raise Failure("quorum", cp_seq, f"{len(S)} signers, quorum {q}")
        E = {e["body"]["name"] for e in self.batch if e["kind"] == ENROLL}
        for e in self.batch:
            k, b = e["kind"], e["body"]
            if k == ENROLL:
                ok = b["name"] in S and (len(B) + len(E) >= q if len(B) < q else len(S & B) >= q)
            elif k == RETIRE:
                ok = len(S - {b["name"]}) >= q
            elif k == SEAL:
                ok = len(S & set(b["custodians"])) >= b["t"]
            elif k in (ROTATE, ACTIVATE):
                old = self.sets[b["old"]]
                ok = len(S & set(old["custodians"])) >= old["t"]
            elif k == DESTROYED:
                ok = S == set(b["witnesses"]) and len(S) >= 2
            elif k == REVIEW:
                ok = bool(S - set(self.openings[b["open_seq"]]["custodians"]))
            else:  # open, drill, share-check
                ok = S == set(b["custodians"])
            if not ok:
                raise Failure("quorum", e["seq"], "the next checkpoint's signers lack this act's quorum")

    def policy(self, n_entries, now):
        """(violations, pending): what missed its window, and what is still within it.
        `now` None judges nothing overdue."""
        out, pend = [], []

        def past(due):
            return now is not None and now > due

        def add(seq, cls, detail, due=None):
            out.append((-1 if seq is None else seq, POLICY_ORDER.index(cls), len(out),
                        {"seq": seq, "kind": "policy/" + cls, "due": due, "detail": detail}))

        def owe(seq, cls, detail, due=None):
            pend.append((-1 if seq is None else seq, PENDING_ORDER.index(cls), len(pend),
                         {"seq": seq, "kind": "pending/" + cls, "due": due, "detail": detail}))

        if self.version >= 2 and self.custody is not None:
            if len(self.live()) < self.custody["q"]:
                owe(None, "enroll", "fewer live custodians than the quorum")
            if not self.sets:
                owe(None, "seal", "no credential sealed yet")
        if self.version < 2:
            for o in self.uncovered:
                add(o, "opening-not-cosigned", "opening not cosigned by its set's threshold")
        for seq in sorted(self.openings):
            o = self.openings[seq]
            if o["review"] is None:
                if past(o["review_deadline"]):
                    add(seq, "review-overdue", "not reviewed in time", o["review_deadline"])
                else:
                    owe(seq, "review", "to be reviewed", o["review_deadline"])
            if o["rotated"] is not None:
                if o["rotated"][1] > o["deadline"]:
                    add(seq, "rotated-late", f"rotated at entry {o['rotated'][0]} after the deadline", o["deadline"])
            elif past(o["deadline"]):
                add(seq, "rotation-overdue", "not rotated, past the deadline", o["deadline"])
            else:
                owe(seq, "rotate", "to be rotated", o["deadline"])
        for sid in self.set_order:
            s = self.sets[sid]
            if s["status"] == "superseded":
                due = min(s["rotated_time"] + DESTRUCTION_GRACE, U64)
                for fp in s["envelopes"]:
                    if self.envelopes[fp]["destroyed"] is None:
                        if past(due):
                            add(s["rotated"], "envelope-not-destroyed", f"envelope {fp.hex()} not destroyed", due)
                        else:
                            owe(s["rotated"], "destroy-envelope", f"envelope {fp.hex()} to be destroyed", due)
        for seq, when, name, sids in self.retires:
            for sid in sids:
                s = self.sets[sid]
                if s["status"] != "superseded":
                    due = min(when + s["window"], U64)
                    if past(due):
                        add(seq, "must-rotate", f"set {sid.hex()} includes retired {name}", due)
                    else:
                        owe(seq, "rotate-after-retirement", f"set {sid.hex()} includes retired {name}", due)
        for sid in self.set_order:
            s = self.sets[sid]
            if s["status"] == "pending":
                for name in self.unacknowledged(s):
                    owe(s["rotate_seq"], "acknowledge", f"{name} to acknowledge set {sid.hex()}")
        if self.version >= 2 and self.custody is not None and now is not None:
            for name, c in self.custodians.items():
                if c["retired"] is not None:
                    continue
                seq, since = c["affirmed"]
                ends = min(since + self.custody["term"], U64)
                if now <= ends:
                    continue
                due = min(ends + TERM_GRACE, U64)
                if past(due):
                    add(seq, "term-lapsed", f"{name}'s term ran out", due)
                else:
                    owe(seq, "reaffirm", f"{name}'s term ran out", due)
        start = 1 if self.last_checkpoint is None else self.last_checkpoint + 1
        if start < n_entries:
            add(start, "uncheckpointed-tail", f"entries {start}..{n_entries - 1} not checkpointed")
        return ([f for *_, f in sorted(out, key=lambda x: x[:3])],
                [f for *_, f in sorted(pend, key=lambda x: x[:3])])


def verify(data, anchor=None, now=None, training=False, lenient=False, version=2, ca_dir=CA_DIR,
           attest=verify_record, strict=False):
    report = {"ok": False, "class": None, "seq": None, "offset": None, "detail": None,
              "training": False, "lenient": lenient, "strict": strict,
              "clock": "machine" if now is None else "given",
              "format_version": version, "org": None, "custody_id": None, "entries": 0,
              "checkpoints": 0, "signatures": 0, "head": None, "anchor_seq": None,
              "violations": [], "pending": [], "clock_behind": []}
    now = int(time.time()) if now is None else now
    entries, hashes_, failure = read_frames(data, version)
    report["entries"] = len(entries)
    report["head"] = hashes_[-1].hex() if hashes_ else None
    if entries and entries[0]["kind"] == GENESIS:
        g = entries[0]["body"]
        report.update(training=g["training"], org=g["org"], custody_id=g["custody_id"].hex())
    state = Replay(version, ca_dir, attest)
    try:
        if failure:
            raise failure
        if not entries:
            raise Failure("framing", None, "the log is empty", 0)
        if version >= 2 and report["training"] and not training:
            raise Failure("training", 0, "a TRAINING custody: pass --training to verify it")
        for e in entries:
            state.apply(e)
        if anchor is not None:
            matches = [i for i, h in enumerate(hashes_) if h == anchor]
            if not matches:
                raise Failure("anchor", len(entries) - 1, "the anchor is no entry of this file")
            report["anchor_seq"] = matches[-1]
    except Failure as f:
        report.update({"class": f.cls, "seq": f.seq, "offset": f.offset, "detail": f.detail})
    else:
        report["violations"], report["pending"] = state.policy(len(entries), now)
        report["ok"] = lenient or not report["violations"]
        if not report["ok"]:
            first = report["violations"][0]
            report.update({"class": first["kind"], "seq": first["seq"], "detail": first["detail"]})
    report.update(checkpoints=state.checkpoints, signatures=state.signatures,
                  clock_behind=state.clock_behind)
    return report


def parse_now(text):
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("an RFC 3339 time needs an offset (Z or +hh:mm)")
    return int(t.timestamp())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", nargs="?")
    ap.add_argument("--anchor")
    ap.add_argument("--now")
    ap.add_argument("--training", action="store_true")
    ap.add_argument("--lenient", action="store_true")
    ap.add_argument("--strict", action="store_true",
                    help="exit 11 when the log verifies but work is pending (or violations taken as warnings)")
    ap.add_argument("--format-version", type=int, choices=(1, 2), default=2)
    ap.add_argument("--ca-dir", default=CA_DIR)
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        sys.path.insert(0, HERE)
        import test_verify_log
        suite = unittest.defaultTestLoader.loadTestsFromModule(test_verify_log)
        return 0 if unittest.TextTestRunner(verbosity=1).run(suite).wasSuccessful() else 1
    if not a.log:
        ap.error("LOG is required")
    anchor = now = None
    if a.anchor is not None:
        if not re.fullmatch(r"[0-9A-Fa-f]{64}", a.anchor.strip()):
            ap.error("--anchor takes the 64 hex digits of the head hash")
        anchor = bytes.fromhex(a.anchor.strip())
    if a.now is not None:
        try:
            now = parse_now(a.now)
        except ValueError as why:
            ap.error(f"--now: {why}")
    path = os.path.join(a.log, "ceremony.log") if os.path.isdir(a.log) else a.log
    with open(path, "rb") as f:
        data = f.read()
    r = verify(data, anchor, now, a.training, a.lenient, a.format_version, a.ca_dir, strict=a.strict)
    if r["training"]:
        print("TRAINING custody (simulated YubiKeys only)", file=sys.stderr)
    print(json.dumps(r, indent=2))
    if not r["ok"]:
        return 1
    return 11 if a.strict and (r["pending"] or r["violations"]) else 0


if __name__ == "__main__":
    sys.exit(main())
