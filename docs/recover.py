#!/usr/bin/env python3
"""Recover a glasskeep secret without glasskeep (docs/RECOVERY.md).

  recover.py unpack ENVELOPE.qr|ENVELOPE.txt [OUTDIR]
      ENVELOPE.qr: one QR payload per line ("GK1:..."), any order, as zbarimg prints;
      or ENVELOPE.txt: the envelope's typed-text block (numbered lines and END line).
      Writes OUTDIR/share-<x>.age and OUTDIR/payload.cbor; prints the facts.
  recover.py combine PAYLOAD.cbor SHARE.cbor... [-o OUT]
      SHARE.cbor: share records decrypted with `age -d`. Writes the secret.
Needs only the Python standard library, plus python3-cryptography for `combine`.
"""
import hashlib
import os
import re
import sys

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def fail(msg):
    sys.exit("recover.py: " + msg)


def b45decode(s):
    """Base45, RFC 9285."""
    vals = []
    for c in s:
        if c not in B45:
            fail("character %r is not Base45: rescan the code" % c)
        vals.append(B45.index(c))
    if len(vals) % 3 == 1:
        fail("Base45 text has a dangling character: rescan the code")
    out = bytearray()
    for i in range(0, len(vals), 3):
        g = vals[i:i + 3]
        if len(g) == 3:
            n = g[0] + g[1] * 45 + g[2] * 2025
            if n > 0xFFFF:
                fail("Base45 triplet out of range: rescan the code")
            out += bytes([n >> 8, n & 0xFF])
        else:
            n = g[0] + g[1] * 45
            if n > 0xFF:
                fail("Base45 pair out of range: rescan the code")
            out.append(n)
    return bytes(out)


class Cbor:
    """Reads glasskeep's deterministic CBOR subset: maps with keys 0, 1, 2, ...
    holding unsigned integers, byte strings, text strings and booleans."""

    def __init__(self, data):
        self.d, self.i = data, 0

    def head(self):
        if self.i >= len(self.d):
            fail("record truncated")
        b = self.d[self.i]
        self.i += 1
        major, info = b >> 5, b & 31
        if major == 7:
            if info in (20, 21):
                return major, info == 21
            fail("unexpected CBOR simple value or float")
        if info < 24:
            return major, info
        size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
        if size is None or self.i + size > len(self.d):
            fail("non-canonical or truncated CBOR")
        v = int.from_bytes(self.d[self.i:self.i + size], "big")
        self.i += size
        if v < (24 if size == 1 else 1 << (4 * size)):
            fail("non-canonical CBOR integer")
        return major, v

    def value(self):
        major, v = self.head()
        if major in (0, 7):
            return v
        if major in (2, 3):
            if self.i + v > len(self.d):
                fail("record truncated")
            s = self.d[self.i:self.i + v]
            self.i += v
            return s if major == 2 else s.decode("utf-8")
        fail("unexpected CBOR major type %d" % major)

    def record(self, names, v2_extra=None):
        major, n = self.head()
        if v2_extra is not None and major == 5 and n == len(names) + len(v2_extra):
            names, want = names + v2_extra, 2
        else:
            want = 1
        if major != 5 or n != len(names):
            fail("not a glasskeep record with %d fields" % len(names))
        out = {}
        for k, name in enumerate(names):
            major, key = self.head()
            if major != 0 or key != k:
                fail("record key %d missing or out of order" % k)
            out[name] = self.value()
        if self.i != len(self.d):
            fail("trailing bytes after the record")
        if out["version"] != want:
            fail("format version %r with %d fields is not one this script reads" % (out["version"], n))
        return out


ENVELOPE = ["version", "set_id", "label", "organisation", "custodian", "serial",
            "index", "threshold", "count", "created", "training", "sealed_share",
            "payload"]
# Envelope format version 2 adds the seal slot (a retired PIV slot, 0x82..0x95).
ENVELOPE_V2 = ["seal_slot"]
PAYLOAD = ["version", "set_id", "label", "threshold", "count", "nonce", "ciphertext"]
SHARE = ["version", "set_id", "index", "threshold", "count", "value",
         "payload_digest"]


def reassemble(lines):
    """QR parts "GK1:iii/kkk:FINGERPRINT16:<base45>" -> the envelope's bytes."""
    parts, fp, total = {}, None, None
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            continue
        if not line.startswith("GK1:") or len(line) < 29 or line[7] != "/" \
                or line[11] != ":" or line[28] != ":":
            fail("not a glasskeep envelope code: %r" % line[:30])
        i, k, f = int(line[4:7]), int(line[8:11]), line[12:28]
        if fp is None:
            fp, total = f, k
        if f != fp:
            fail("part %d belongs to envelope %s, not %s: keep envelopes apart" % (i, f, fp))
        if k != total or not 1 <= i <= k:
            fail("part %d of %d does not fit %d parts" % (i, k, total))
        data = b45decode(line[29:])
        if parts.get(i, data) != data:
            fail("part %d scanned twice with different contents" % i)
        parts[i] = data
    if fp is None:
        fail("no QR payloads in the file")
    missing = [i for i in range(1, total + 1) if i not in parts]
    if missing:
        fail("missing part(s) %s of %d: scan them" % (", ".join(map(str, missing)), total))
    blob = b"".join(parts[i] for i in range(1, total + 1))
    digest = hashlib.sha256(blob).hexdigest()
    if digest[:16].upper() != fp:
        fail("reassembled envelope does not match its fingerprint: rescan every code")
    return blob, digest


C32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
LOOK_ALIKES = str.maketrans("OIL", "011")


def gf32_mul(a, b):
    """GF(2^5) with x^5 + x^2 + 1."""
    r = 0
    while b:
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if a & 0x20:
            a ^= 0x25
    return r


def line_check(n, data):
    k = hashlib.sha256(b"glasskeep/v1/envelope-text-line\0" + n.to_bytes(8, "big")).digest()
    c0, c1, coeff = k[0] & 31, k[1] & 31, 1
    for d in data:
        coeff = gf32_mul(coeff, 2)
        c0 ^= d
        c1 ^= gf32_mul(coeff, d)
    return [c0, c1]


def from_text(text):
    """The typed-text block -> the envelope's bytes."""
    lines, end = {}, None
    for raw in text.splitlines():
        c = "".join(ch for ch in raw if not ch.isspace() and ch != "-").upper()
        m = re.fullmatch(r"END([0-9OIL]+)LINESFINGERPRINT(\w{16})", c)
        if m:
            end = (int(m.group(1).translate(LOOK_ALIKES)), m.group(2).translate(LOOK_ALIKES))
            continue
        m = re.fullmatch(r"([0-9OIL]+):(\w*)", c)
        if not m:
            continue
        n = int(m.group(1).translate(LOOK_ALIKES))
        body = m.group(2).translate(LOOK_ALIKES)
        if any(ch not in C32 for ch in body) or len(body) < 3:
            fail("line %d: characters outside the envelope alphabet: check that line" % n)
        syms = [C32.index(ch) for ch in body]
        if n in lines:
            fail("line %d appears twice" % n)
        if line_check(n, syms[:-2]) != syms[-2:]:
            fail("line %d: checksum mismatch: check the characters on that line" % n)
        lines[n] = syms[:-2]
    if end is None:
        fail("the END line is missing")
    missing = [n for n in range(1, end[0] + 1) if n not in lines]
    if missing:
        fail("line(s) %s missing" % ", ".join(map(str, missing)))
    acc = bits = 0
    out = bytearray()
    for n in range(1, end[0] + 1):
        for s in lines[n]:
            acc, bits = (acc << 5) | s, bits + 5
            if bits >= 8:
                bits -= 8
                out.append((acc >> bits) & 0xFF)
                acc &= (1 << bits) - 1
    if bits >= 5 or acc:
        fail("the text is incomplete (last line)")
    digest = hashlib.sha256(bytes(out)).hexdigest()
    if digest[:16].upper() != end[1]:
        fail("the text does not match the END line's fingerprint")
    return bytes(out), digest


def unpack(source, outdir="."):
    with open(source, encoding="utf-8") as f:
        text = f.read()
    if any(line.startswith("GK1:") for line in text.splitlines()):
        blob, fingerprint = reassemble(text.splitlines())
    else:
        blob, fingerprint = from_text(text)
    env = Cbor(blob).record(ENVELOPE, ENVELOPE_V2)
    slot = env.get("seal_slot")
    if slot is not None and not 0x82 <= slot <= 0x95:
        fail("seal slot %r is not a retired PIV slot" % slot)
    if not 2 <= env["threshold"] <= env["count"] or not 1 <= env["index"] <= env["count"]:
        fail("share index, threshold or count out of range")
    for key, value in [("set id", env["set_id"].hex()), ("label", env["label"]),
                       ("organisation", env["organisation"]),
                       ("custodian", env["custodian"]), ("YubiKey serial", env["serial"]),
                       ("seal slot", "not recorded (version 1): try --slot 1" if slot is None else
                        "%02x: age-plugin-yubikey --identity --serial %d --slot %d"
                        % (slot, env["serial"], slot - 0x81)),
                       ("share", "%d of %d, any %d open it" % (env["index"], env["count"], env["threshold"])),
                       ("created (unix)", env["created"]),
                       ("training", "YES - NOT A REAL CREDENTIAL" if env["training"] else "no"),
                       ("fingerprint", fingerprint)]:
        print("%-15s %s" % (key + ":", value))
    payload_path = os.path.join(outdir, "payload.cbor")
    if os.path.exists(payload_path):
        with open(payload_path, "rb") as f:
            if f.read() != env["payload"]:
                fail("this envelope's payload differs from payload.cbor: another share set")
    with open(payload_path, "wb") as f:
        f.write(env["payload"])
    share_path = os.path.join(outdir, "share-%d.age" % env["index"])
    with open(share_path, "wb") as f:
        f.write(env["sealed_share"])
    print("wrote %s and %s" % (share_path, payload_path))


def gf_mul(a, b):
    """GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b)."""
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return r


def gf_inv(a):
    r = 1
    for _ in range(254):  # a^254 = a^-1 in GF(2^8)
        r = gf_mul(r, a)
    return r


def combine(payload_file, share_files, out=None):
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    with open(payload_file, "rb") as f:
        raw = f.read()
    payload = Cbor(raw).record(PAYLOAD)
    digest = hashlib.sha256(b"glasskeep/v1/payload-digest\0" + raw).digest()
    shares = []
    for path in share_files:
        with open(path, "rb") as f:
            s = Cbor(f.read()).record(SHARE)
        for field in ("set_id", "threshold", "count"):
            if s[field] != payload[field]:
                fail("%s: %s differs from the payload's: another share set" % (path, field))
        if s["payload_digest"] != digest:
            fail("%s: made for another payload" % path)
        if not 1 <= s["index"] <= s["count"] or len(s["value"]) != 32:
            fail("%s: malformed share" % path)
        if any(t["index"] == s["index"] for t in shares):
            fail("%s: share %d given twice" % (path, s["index"]))
        shares.append(s)
    if len(shares) < payload["threshold"]:
        fail("%d share(s) given, %d needed" % (len(shares), payload["threshold"]))
    shares = shares[:payload["threshold"]]
    key = bytearray(32)
    for s in shares:
        # Lagrange basis polynomial of share s, evaluated at x = 0.
        basis = 1
        for t in shares:
            if t is not s:
                basis = gf_mul(basis, gf_mul(t["index"], gf_inv(t["index"] ^ s["index"])))
        for b in range(32):
            key[b] ^= gf_mul(s["value"][b], basis)
    aad = (b"glasskeep/v1/payload\0" + payload["set_id"]
           + bytes([payload["threshold"], payload["count"]]) + payload["label"].encode())
    try:
        secret = ChaCha20Poly1305(bytes(key)).decrypt(payload["nonce"], payload["ciphertext"], aad)
    except Exception:
        fail("the shares do not open this payload: one is wrong; try another set of t")
    if out:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secret)
    else:
        sys.stdout.buffer.write(secret)


def main(argv):
    if len(argv) >= 2 and argv[0] == "unpack":
        unpack(*argv[1:3])
    elif len(argv) >= 3 and argv[0] == "combine":
        args, out = argv[1:], None
        if "-o" in args:
            j = args.index("-o")
            out = args[j + 1]
            args = args[:j] + args[j + 2:]
        combine(args[0], args[1:], out)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
