#!/usr/bin/env python3
# Regenerates piv-p256.json: python3 tests/vectors/seal/generate.py (needs python3-cryptography).
# Independent computation of the piv-p256 known answers (Python `cryptography`), so the
# Rust code is checked against a second implementation rather than against itself.
import base64, hashlib, hmac, json, os
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization, hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def polymod(values):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk
def hrp_expand(h): return [ord(x) >> 5 for x in h] + [0] + [ord(x) & 31 for x in h]
def convertbits(data, frm, to):
    acc = bits = 0; ret = []
    for v in data:
        acc = (acc << frm) | v; bits += frm
        while bits >= to:
            bits -= to; ret.append((acc >> bits) & ((1 << to) - 1))
    if bits: ret.append((acc << (to - bits)) & ((1 << to) - 1))
    return ret
def bech32(hrp, data, const=1):
    d = convertbits(data, 8, 5)
    pm = polymod(hrp_expand(hrp) + d + [0]*6) ^ const
    chk = [(pm >> 5*(5-i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[x] for x in d + chk)

b64 = lambda b: base64.b64encode(b).decode().rstrip("=")
def priv(label):
    d = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big")
    return ec.derive_private_key(d, ec.SECP256R1())
def comp(k): return k.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
def hkdf(salt, ikm, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)

kats = []
for n, (rl, el, fk) in enumerate([
    ("glasskeep/v1/test/seal/recipient-1", "glasskeep/v1/test/seal/ephemeral-1", bytes(range(16))),
    ("glasskeep/v1/test/seal/recipient-2", "glasskeep/v1/test/seal/ephemeral-2", bytes([0xff]*16)),
    ("glasskeep/v1/test/seal/recipient-3", "glasskeep/v1/test/seal/ephemeral-3", hashlib.sha256(b"file key 3").digest()[:16]),
]):
    r, e = priv(rl), priv(el)
    rc, ec_ = comp(r), comp(e)
    tag = hashlib.sha256(rc).digest()[:4]
    shared = e.exchange(ec.ECDH(), r.public_key())
    key = hkdf(ec_ + rc, shared, b"piv-p256")
    body = ChaCha20Poly1305(key).encrypt(bytes(12), fk, None)
    serial = [12345678, 1, 0xfffffffe][n]; slot = [0x82, 0x95, 0x8a][n]
    stub = bech32("age-plugin-yubikey-", serial.to_bytes(4, "little") + bytes([slot]) + tag).upper()
    kats.append({
        "name": f"kat-{n+1}",
        "recipient_secret": r.private_numbers().private_value.to_bytes(32, "big").hex(),
        "ephemeral_secret": e.private_numbers().private_value.to_bytes(32, "big").hex(),
        "file_key": fk.hex(),
        "recipient_compressed": rc.hex(),
        "recipient": bech32("age1yubikey", rc),
        "tag": tag.hex(),
        "ephemeral_compressed": ec_.hex(),
        "shared_x": shared.hex(),
        "wrap_key": key.hex(),
        "stanza_line": f"-> piv-p256 {b64(tag)} {b64(ec_)}",
        "body": body.hex(),
        "body_b64": b64(body),
        "serial": serial, "slot": slot, "identity_stub": stub,
    })

# A whole age file for kat-1: fixed payload nonce and plaintext, header MAC and STREAM.
k = kats[0]
fk = bytes.fromhex(k["file_key"])
header = ("age-encryption.org/v1\n" + k["stanza_line"] + "\n" + k["body_b64"] + "\n---").encode()
mac = hmac.new(hkdf(b"", fk, b"header"), header, hashlib.sha256).digest()
nonce = hashlib.sha256(b"glasskeep/v1/test/seal/payload-nonce").digest()[:16]
plaintext = b"glasskeep share record (test vector)\n"
pk = hkdf(nonce, fk, b"payload")
payload = ChaCha20Poly1305(pk).encrypt(bytes(11) + b"\x01", plaintext, None)
agefile = header + b" " + b64(mac).encode() + b"\n" + nonce + payload
files = [{"name": "file-kat-1", "kat": "kat-1", "payload_nonce": nonce.hex(),
          "plaintext": plaintext.hex(), "age_file": agefile.hex()}]

# ---- negative vectors ----
p = 2**256 - 2**224 + 2**192 + 2**96 - 1
bb = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
def on_curve_x(x): return pow((x**3 - 3*x + bb) % p, (p-1)//2, p) == 1
x_bad = next(x for x in range(1, 100) if not on_curve_x(x))
k1, k2 = kats[0], kats[1]
tag_b64 = b64(bytes.fromhex(k1["tag"]))
eph = bytes.fromhex(k1["ephemeral_compressed"])
eph_b64 = b64(eph)
body = bytes.fromhex(k1["body"])
e1 = priv("glasskeep/v1/test/seal/ephemeral-1")
eph_uncompressed = e1.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
other_eph = comp(priv("glasskeep/v1/test/seal/other-ephemeral"))
def st(name, expect, tag="piv-p256", args=None, body_=body):
    return {"name": name, "expect": expect, "type": tag,
            "args": [tag_b64, eph_b64] if args is None else args, "body": body_.hex()}
flip = bytearray(body); flip[0] ^= 1
flip_tag = bytearray(body); flip_tag[31] ^= 0x80
neg_stanzas = [
    st("type-x25519", "NotPivP256", tag="X25519"),
    st("type-uppercase", "NotPivP256", tag="PIV-P256"),
    st("no-arguments", "ArgumentCount", args=[]),
    st("one-argument", "ArgumentCount", args=[tag_b64]),
    st("three-arguments", "ArgumentCount", args=[tag_b64, eph_b64, "AA"]),
    st("tag-3-bytes", "TagLength", args=[b64(bytes.fromhex(k1["tag"])[:3]), eph_b64]),
    st("tag-5-bytes", "TagLength", args=[b64(bytes.fromhex(k1["tag"]) + b"\0"), eph_b64]),
    st("tag-32-bytes-full-hash", "TagLength", args=[b64(hashlib.sha256(bytes.fromhex(k1["recipient_compressed"])).digest()), eph_b64]),
    st("tag-trailing-bits", "TagEncoding", args=[tag_b64[:-1] + "x", eph_b64]),
    st("tag-padded", "TagEncoding", args=[tag_b64 + "==", eph_b64]),
    st("tag-url-safe-alphabet", "TagEncoding", args=["_" + tag_b64[1:], eph_b64]),
    st("ephemeral-url-safe-alphabet", "EphemeralEncoding", args=[tag_b64, eph_b64[:5] + "-" + eph_b64[6:]]),
    st("ephemeral-padded", "EphemeralEncoding", args=[tag_b64, eph_b64 + "="]),
    st("ephemeral-uncompressed-65", "EphemeralUncompressed", args=[tag_b64, b64(eph_uncompressed)]),
    st("ephemeral-identity", "EphemeralIdentity", args=[tag_b64, b64(b"\0")]),
    st("ephemeral-32-bytes", "EphemeralLength", args=[tag_b64, b64(eph[1:])]),
    st("ephemeral-34-bytes", "EphemeralLength", args=[tag_b64, b64(eph + b"\0")]),
    st("ephemeral-prefix-04", "EphemeralInvalidPoint", args=[tag_b64, b64(b"\x04" + eph[1:])]),
    st("ephemeral-prefix-00", "EphemeralInvalidPoint", args=[tag_b64, b64(b"\x00" + eph[1:])]),
    st("ephemeral-x-not-on-curve", "EphemeralInvalidPoint", args=[tag_b64, b64(b"\x02" + x_bad.to_bytes(32, "big"))]),
    st("ephemeral-x-equals-p", "EphemeralInvalidPoint", args=[tag_b64, b64(b"\x02" + p.to_bytes(32, "big"))]),
    st("ephemeral-x-all-ff", "EphemeralInvalidPoint", args=[tag_b64, b64(b"\x03" + b"\xff"*32)]),
    st("body-empty", "BodyLength", body_=b""),
    st("body-16-bytes", "BodyLength", body_=body[:16]),
    st("body-31-bytes", "BodyLength", body_=body[:31]),
    st("body-33-bytes", "BodyLength", body_=body + b"\0"),
    st("body-48-bytes", "BodyLength", body_=body + bytes(16)),
    st("wrong-recipient-tag", "WrongRecipient", args=[b64(bytes.fromhex(k2["tag"])), eph_b64]),
    st("body-ciphertext-flipped", "KeyUnwrapFailed", body_=bytes(flip)),
    st("body-poly1305-tag-flipped", "KeyUnwrapFailed", body_=bytes(flip_tag)),
    st("ephemeral-swapped", "KeyUnwrapFailed", args=[tag_b64, b64(other_eph)]),
    st("ephemeral-sign-flipped", "KeyUnwrapFailed", args=[tag_b64, b64(bytes([eph[0] ^ 1]) + eph[1:])]),
]

def mkfile(stanza_lines, fk=fk, tamper_mac=False, payload_mut=None, version="age-encryption.org/v1"):
    h = (version + "\n" + "".join(l + "\n" for l in stanza_lines) + "---").encode()
    m = hmac.new(hkdf(b"", fk, b"header"), h, hashlib.sha256).digest()
    if tamper_mac: m = bytes([m[0] ^ 1]) + m[1:]
    pl = payload
    if payload_mut: pl = payload_mut(pl)
    return h + b" " + b64(m).encode() + b"\n" + nonce + pl
good = [k1["stanza_line"], k1["body_b64"]]
x25519 = ["-> X25519 " + b64(hashlib.sha256(b"x").digest()), b64(hashlib.sha256(b"y").digest())]
scrypt = ["-> scrypt " + b64(bytes(16)) + " 10", b64(bytes(32))]
grease = ["-> 0Bx-grease ab", ""]
k2_lines = [k2["stanza_line"], k2["body_b64"]]
body_flipped = ["-> piv-p256 " + tag_b64 + " " + eph_b64, b64(bytes(flip))]
assert agefile == mkfile(good)
neg_files = [
    {"name": "empty", "expect": "NotAgeFile", "age_file": ""},
    {"name": "plain-text", "expect": "NotAgeFile", "age_file": b"hello, world\n".hex()},
    {"name": "armored", "expect": "NotAgeFile", "age_file": (b"-----BEGIN AGE ENCRYPTED FILE-----\n" + base64.b64encode(agefile) + b"\n-----END AGE ENCRYPTED FILE-----\n").hex()},
    {"name": "unknown-version", "expect": "NotAgeFile", "age_file": mkfile(good, version="age-encryption.org/v2").hex()},
    {"name": "truncated-in-header", "expect": "NotAgeFile", "age_file": agefile[:60].hex()},
    {"name": "body-base64-trailing-bits", "expect": "NotAgeFile", "age_file": mkfile([good[0], good[1][:-1] + chr(ord(good[1][-1]) + 1)]).hex()},
    {"name": "no-stanza", "expect": "NotAgeFile", "age_file": mkfile([]).hex()},
    {"name": "two-piv-p256-stanzas", "expect": "StanzaCount", "age_file": mkfile(good + good).hex()},
    {"name": "piv-p256-plus-grease", "expect": "StanzaCount", "age_file": mkfile(good + grease).hex()},
    {"name": "piv-p256-plus-x25519", "expect": "StanzaCount", "age_file": mkfile(x25519 + good).hex()},
    {"name": "x25519-only", "expect": "ForeignStanza", "age_file": mkfile(x25519).hex()},
    {"name": "scrypt-only", "expect": "ForeignStanza", "age_file": mkfile(scrypt).hex()},
    {"name": "stanza-uncompressed-ephemeral", "expect": "MalformedStanza:EphemeralUncompressed", "age_file": mkfile(["-> piv-p256 " + tag_b64 + " " + b64(eph_uncompressed), good[1]]).hex()},
    {"name": "stanza-body-31-bytes", "expect": "MalformedStanza:BodyLength", "age_file": mkfile([good[0], b64(body[:31])]).hex()},
    {"name": "sealed-to-another-key", "expect": "WrongRecipient", "age_file": mkfile(k2_lines, fk=bytes.fromhex(k2["file_key"])).hex()},
    {"name": "stanza-body-flipped", "expect": "KeyUnwrapFailed", "age_file": mkfile(body_flipped).hex()},
    {"name": "header-mac-flipped", "expect": "HeaderMac", "age_file": mkfile(good, tamper_mac=True).hex()},
    {"name": "header-mac-of-another-header", "expect": "HeaderMac", "age_file": (header + b" " + b64(hmac.new(hkdf(b"", fk, b"header"), header + b"x", hashlib.sha256).digest()).encode() + b"\n" + nonce + payload).hex()},
    {"name": "payload-byte-flipped", "expect": "Payload", "age_file": mkfile(good, payload_mut=lambda pl: bytes([pl[0] ^ 1]) + pl[1:]).hex()},
    {"name": "payload-truncated", "expect": "Payload", "age_file": mkfile(good, payload_mut=lambda pl: pl[:-1]).hex()},
    {"name": "payload-missing", "expect": "Payload", "age_file": mkfile(good, payload_mut=lambda pl: b"").hex()},
    {"name": "payload-trailing-byte", "expect": "Payload", "age_file": mkfile(good, payload_mut=lambda pl: pl + b"\0").hex()},
    {"name": "payload-nonce-truncated", "expect": "NotAgeFile", "age_file": mkfile(good)[:len(header) + 45 + 8].hex()},
]
r1 = bytes.fromhex(k1["recipient_compressed"])
hrp_rec = "age1yubikey"
neg_recipients = [
    {"name": "bad-checksum", "expect": "NotBech32", "text": k1["recipient"][:-1] + ("q" if k1["recipient"][-1] != "q" else "p")},
    {"name": "bech32m-checksum", "expect": "NotBech32", "text": bech32(hrp_rec, r1, const=0x2bc830a3)},
    {"name": "mixed-case", "expect": "NotBech32", "text": k1["recipient"][:20] + k1["recipient"][20:].upper()},
    {"name": "uppercase", "expect": "NotCanonical", "text": k1["recipient"].upper()},
    {"name": "x25519-hrp", "expect": "WrongHrp", "text": bech32("age", r1)},
    {"name": "stub-as-recipient", "expect": "WrongHrp", "text": k1["identity_stub"]},
    {"name": "32-bytes", "expect": "WrongLength", "text": bech32(hrp_rec, r1[1:])},
    {"name": "uncompressed-65-bytes", "expect": "WrongLength", "text": bech32(hrp_rec, priv("glasskeep/v1/test/seal/recipient-1").public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))},
    {"name": "prefix-04", "expect": "InvalidPoint", "text": bech32(hrp_rec, b"\x04" + r1[1:])},
    {"name": "x-not-on-curve", "expect": "InvalidPoint", "text": bech32(hrp_rec, b"\x02" + x_bad.to_bytes(32, "big"))},
]
def stubtxt(b): return bech32("age-plugin-yubikey-", b).upper()
sd = (12345678).to_bytes(4, "little") + b"\x82" + bytes.fromhex(k1["tag"])
neg_stubs = [
    {"name": "lowercase", "expect": "NotCanonical", "text": k1["identity_stub"].lower()},
    {"name": "bad-checksum", "expect": "NotBech32", "text": k1["identity_stub"][:-1] + ("Q" if k1["identity_stub"][-1] != "Q" else "P")},
    {"name": "wrong-hrp", "expect": "WrongHrp", "text": bech32("age-plugin-foo-", sd).upper()},
    {"name": "8-bytes", "expect": "WrongLength", "text": stubtxt(sd[:8])},
    {"name": "10-bytes", "expect": "WrongLength", "text": stubtxt(sd + b"\0")},
    {"name": "slot-9a", "expect": "NotRetiredSlot", "text": stubtxt(sd[:4] + b"\x9a" + sd[5:])},
    {"name": "slot-96", "expect": "NotRetiredSlot", "text": stubtxt(sd[:4] + b"\x96" + sd[5:])},
]
out = {"comment": "piv-p256 sealing vectors, computed by generate.py with Python cryptography (independent of the Rust code). Every secret here is a test-only value derived from a public label.",
       "known_answer": kats, "files": files, "negative_stanzas": neg_stanzas,
       "negative_files": neg_files, "negative_recipients": neg_recipients, "negative_stubs": neg_stubs}
json.dump(out, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "piv-p256.json"), "w"), indent=1)
print(len(kats), len(files), len(neg_stanzas), len(neg_files), len(neg_recipients), len(neg_stubs))
