"""Unit checks of verify_log.py: its CBOR reader, framing, the stored vectors and a real
YubiKey attestation chain. Run `python3 -m unittest` in this folder, or
`verify_log.py --self-test`."""

import json
import os
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from verify_log import (CA_DIR, ENTRY_LABEL, MAGIC, ROOT, Cbor, Cert, DecodeError, Refused, TrustStore,
                        build_path, check_link, checkpoint_digest, decode_entry, sha256, signature_valid,
                        verify, verify_record)

VECTORS = os.path.join(ROOT, "tests", "vectors", "log")


def load_vectors(name):
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)


class CborTests(unittest.TestCase):
    def test_shortest_heads(self):
        self.assertEqual(Cbor(bytes([0x18, 24]), 2).uint(), 24)
        for bad in ([0x18, 23], [0x19, 0, 255], [0x1A, 0, 0, 255, 255], [0x1B, 0, 0, 0, 0, 255, 255, 255, 255], [0x1C], [0x1F]):
            self.assertRaises(DecodeError, Cbor(bytes(bad), 2).uint)

    def test_types_and_lengths(self):
        self.assertRaises(DecodeError, Cbor(b"\x20", 2).uint)
        self.assertRaises(DecodeError, Cbor(b"\xf6", 2).bool)
        self.assertRaises(DecodeError, Cbor(b"\x5a\xff\xff\xff\xff", 2).bytes, 0, 10)
        self.assertRaises(DecodeError, Cbor(b"\x62\xff\xfe", 2).text, 0, 9)
        self.assertRaises(DecodeError, Cbor(b"\x9f\xff", 2).array)

    def test_text_rule(self):
        self.assertEqual(Cbor(b"\x62ab", 2).name(), "ab")
        for bad in ("a\x07", "a\u202e", "a\u200b", "a\ufeff", "a\u2066"):
            raw = bad.encode()
            self.assertRaises(DecodeError, Cbor(bytes([0x60 + len(raw)]) + raw, 2).text, 1, 64)
        raw = "a\u202e".encode()
        self.assertEqual(Cbor(bytes([0x60 + len(raw)]) + raw, 1).text(1, 64), "a\u202e")


class FrameTests(unittest.TestCase):
    def test_empty_and_short_headers(self):
        self.assertEqual((verify(b"")["class"], verify(b"")["seq"]), ("framing", None))
        for data, cls in ((b"G", "torn-tail"), (b"GKL1\x00", "torn-tail"), (b"GKX", "framing"),
                          (b"GKL1\x00\x20\x00\x00", "framing"), (b"GKL1\x00\x00\x00\x05ab", "torn-tail")):
            r = verify(data)
            self.assertEqual((r["class"], r["seq"], r["offset"]), (cls, 0, 0), data)


class VectorTests(unittest.TestCase):
    """The v1 vectors: what this verifier reads with --format-version 1."""

    def test_entries(self):
        for v in load_vectors("entries.json"):
            cbor = bytes.fromhex(v["cbor"])
            version = cbor[2]
            self.assertEqual(sha256(ENTRY_LABEL, cbor).hex(), v["hash"])
            self.assertEqual(decode_entry(cbor, version)["seq"], v["seq"])
            other = 2 if version == 1 else 1
            self.assertRaises(DecodeError, decode_entry, cbor, other)

    def test_invalid_entries(self):
        version = bytes.fromhex(load_vectors("entries.json")[0]["cbor"])[2]
        for v in load_vectors("entries-invalid.json"):
            with self.subTest(v["name"]):
                self.assertRaises(DecodeError, decode_entry, bytes.fromhex(v["cbor"]), version)

    def test_checkpoint_signatures(self):
        for v in load_vectors("checkpoints.json"):
            c = v["vector"]
            if "time" in c:
                # Version 2: the signers, the time and the optional plan, build and
                # allowances are signed too.
                opt = lambda k: bytes.fromhex(c[k]) if c.get(k) else None
                body = {"head": bytes.fromhex(c["head"]), "signatures": [(n, None) for n in c["signers"]],
                        "plan": opt("plan"), "build": opt("build"), "allowed": c.get("allowed", 0)}
                e = {"seq": c["seq"], "time": c["time"], "body": body}
                digest = checkpoint_digest(2, bytes.fromhex(c["custody_id"]), e)
            else:
                e = {"seq": c["seq"], "time": 0, "body": {"head": bytes.fromhex(c["head"]), "signatures": []}}
                digest = checkpoint_digest(1, bytes.fromhex(c["custody_id"]), e)
            self.assertEqual(digest.hex(), c["digest"])
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(c["public_key"]))
            self.assertEqual(signature_valid(key, digest, bytes.fromhex(c["signature"])), c["valid"], c["name"])


class LogVectorTests(unittest.TestCase):
    """Whole vector logs, made with attestations that are not checked: the recorded
    outcome holds when this verifier skips the attestation check too. They were judged
    without a clock, where no window has closed: here, as of time 0."""

    def test_logs(self):
        for v in load_vectors("logs.json"):
            data = bytes.fromhex(v["log"])
            version = data[10] if len(data) > 10 and data[:4] == MAGIC else 2
            r = verify(data, now=0, training=v["expect"] != "training", version=version,
                       attest=lambda rec, store: None)
            got = "ok" if r["ok"] else r["class"]
            self.assertEqual((got, r["seq"] if got != "ok" else None), (v["expect"], v.get("seq")), v["name"])


class AttestationTests(unittest.TestCase):
    def test_real_yubikey_chain(self):
        d = os.path.join(CA_DIR, "testdata")

        def pem(name):
            with open(os.path.join(d, name)) as f:
                return x509.load_pem_x509_certificate(f.read().encode()).public_bytes(serialization.Encoding.DER)
        store = TrustStore.load(CA_DIR, False)
        self.assertEqual((len(store.anchors), len(store.intermediates)), (2, 5))
        device, slot = Cert(pem("yubikey-25515137-f9.pem")), Cert(pem("yubikey-25515137-9c.pem"))
        check_link(slot, device)
        self.assertIn("263751", build_path(device, store.anchors, store.intermediates).x.subject.rfc4514_string())
        self.assertRaises(Refused, build_path, device, TrustStore.load(CA_DIR, True).anchors, [])
        rec = {"device_cert": pem("yubikey-25515137-f9.pem"), "seal_cert": pem("yubikey-25515137-9c.pem"),
               "sign_cert": pem("yubikey-25515137-9c.pem")}
        with self.assertRaisesRegex(Refused, "P-256"):  # that card attested a P-384 key
            verify_record(rec, store)


class PendingTests(unittest.TestCase):
    """The training log cut after its opening: within the windows the opening is pending
    and the log passes; past them, violations."""

    def setUp(self):
        import make_training_log as mk
        log = mk.build(2, "valid")
        cuts, at = [], 0
        while at < len(log):
            at += 8 + int.from_bytes(log[at + 4:at + 8], "big") + 32
            cuts.append(at)
        # genesis, 3 enrolls, checkpoint, seal, checkpoint, share-check, checkpoint,
        # open (9), checkpoint (10): the first 11 entries.
        self.log, self.open_seq = log[:cuts[10]], 9
        self.opened = mk.T0 + 60 * 10

    def judge(self, now, strict=False):
        return verify(self.log, now=now, training=True, attest=lambda rec, store: None, strict=strict)

    def test_just_opened_is_pending(self):
        r = self.judge(self.opened)
        self.assertTrue(r["ok"], r)
        self.assertEqual([(p["kind"], p["seq"]) for p in r["pending"]],
                         [("pending/review", 9), ("pending/rotate", 9)])
        self.assertEqual([p["due"] for p in r["pending"]], [self.opened + 7 * 86400, self.opened + 86400])
        self.assertEqual(r["violations"], [])

    def test_past_the_deadlines(self):
        r = self.judge(self.opened + 86400 + 1)
        self.assertEqual((r["ok"], r["class"], r["seq"]), (False, "policy/rotation-overdue", 9))
        self.assertEqual([p["kind"] for p in r["pending"]], ["pending/review"])
        r = self.judge(self.opened + 7 * 86400 + 1)
        self.assertEqual([v["kind"] for v in r["violations"]], ["policy/review-overdue", "policy/rotation-overdue"])


if __name__ == "__main__":
    unittest.main()
