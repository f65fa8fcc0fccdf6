#!/usr/bin/env bash
# A full demonstration ceremony with three simulated YubiKeys behind the real pcscd:
# init (TRAINING, quorum 2), enroll alice and bob together and then carol with both of
# them cosigning, seal a sample credential 2-of-3, render the envelopes, open with alice
# and bob, review by carol (who took no part), rotate, record the old envelopes destroyed
# with two witnesses each, and verify the log against the head written "on paper".
# Every ceremony is given the head from the previous one, as custodians would copy it
# from the last ceremony sheet.
#
# Everything happens under target/demo/ and is started and stopped here. The simulated
# cards use the default PIN 123456, fed from a PIN file: a real ceremony prompts.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/install-deps.sh
echo "== building"
cargo build --locked -q -p glasskeep -p glasskeep-piv-sim
GK="$ROOT/target/debug/glasskeep"
SIM="$ROOT/target/debug/glasskeep-piv-sim"

DEMO="$ROOT/target/demo"
rm -rf "$DEMO"
mkdir -p "$DEMO/pcsc" "$DEMO/cards" "$DEMO/custody"
CUSTODY="$DEMO/custody"

# One pcscd per machine: the tests use the same lock.
exec 9>/tmp/glasskeep-pcscd.lock
flock 9
pkill -x pcscd 2>/dev/null || true
pkill -x glasskeep-piv-sim 2>/dev/null || true
sleep 0.5
# A pcscd killed hard leaves its socket and pid file behind; the next one would refuse.
rm -f /run/pcscd/pcscd.comm /run/pcscd/pcscd.pid

# Two vpcd entries give four virtual readers on ports 35963..35966. The driver keeps its
# sockets in global state per slot, so the second entry loads a private copy of it.
mkdir -p "$DEMO/drivers"
cp /usr/lib/pcsc/drivers/serial/libifdvpcd.so "$DEMO/drivers/libifdvpcd-b.so"
cat > "$DEMO/pcsc/vpcd" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B

FRIENDLYNAME "Virtual PCD B"
DEVICENAME   /dev/null:0x8C7D
LIBPATH      $DEMO/drivers/libifdvpcd-b.so
CHANNELID    0x8C7D
EOF

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -x pcscd 2>/dev/null || true
}
trap cleanup EXIT

pcscd -f -c "$DEMO/pcsc" >"$DEMO/pcscd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do ss -ltn 2>/dev/null | grep -q ':35965 ' && break; sleep 0.1; done

port=35963
for who in alice:1001 bob:1002 carol:1003; do
  serial=${who#*:}
  "$SIM" --port "$port" --state "$DEMO/cards/$serial" --serial "$serial" --touch auto \
    >"$DEMO/cards/$serial.log" 2>&1 &
  PIDS+=($!)
  port=$((port + 1))
done

PINS="$DEMO/pins"
for _ in $(seq 100); do echo 123456; done > "$PINS"
gk() { "$GK" --dir "$CUSTODY" "$@"; }
# The head hash the last ceremony printed, as the next ceremony's anchor; --yes stands
# for the custodians' typed confirmation (the entries to sign are still printed).
head_now() { (gk status --json || true) | python3 -c 'import json,sys; print(json.load(sys.stdin)["head"])'; }
ceremony() { gk "$@" --pin-file "$PINS" --anchor "$(head_now)" --yes; }

for _ in $(seq 100); do
  [ "$("$GK" token list 2>/dev/null | grep -c 'serial')" -ge 3 ] && break
  sleep 0.2
done

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "the YubiKeys present"
gk token list

step "init: a TRAINING custody with quorum 2"
gk init --org "Example Corp" --training --quorum 2

step "enroll alice and bob together: the custody's first quorum, each card cosigning"
ceremony custodian enroll --name alice --serial 1001 --name bob --serial 1002

step "enroll carol on YubiKey 1003, with alice and bob cosigning"
ceremony custodian enroll --name carol --serial 1003 --cosigners alice,bob

step "seal a sample credential 2-of-3, cosigned by its three custodians"
printf 'correct-horse-battery-staple' | ceremony seal --label aws-root --threshold 2 \
  --custodians alice,bob,carol --rotate-within 24h --cosigners alice,bob,carol
ENV_DIR=$(ls -d "$CUSTODY"/envelopes/aws-root-*)
ENVS=("$ENV_DIR"/*.gkenv)

step "render the envelopes for the safes"
for e in "${ENVS[@]}"; do
  gk envelope render "$e" --format pdf --paper a4
  gk envelope render "$e" --format png
done

step "open with alice and bob (the alarm notice first, then the secret)"
# At the safe the secret is shown on the terminal's alternate screen and cleared; a
# script asks for it on stdout explicitly (--stdout). The alarm notice is also kept as
# text and as a QR image.
ceremony open --label aws-root --reason "identity plane down (demo)" --incident DEMO-1 \
  --envelope "${ENVS[0]}" --envelope "${ENVS[1]}" --alarm-file "$DEMO/alarm" --stdout
echo

step "status: the credential is OPEN and unreviewed"
gk status || true

# The open credential's review and rotation are pending (exit 0); `|| true` keeps the
# demo going should a slow run push one past its window.
OPEN_SEQ=$( (gk status --json || true) | python3 -c 'import json,sys; print(json.load(sys.stdin)["unreviewed"][0])')
step "review opening $OPEN_SEQ by carol, who did not take part in it"
ceremony review --open "$OPEN_SEQ" --verdict justified --notes "demo: planned exercise" --cosigners carol

step "rotate the credential (new secret, new envelopes), cosigned by the old set's custodians"
printf 'new-root-password-after-rotation' | ceremony rotate --label aws-root --cosigners alice,bob,carol

step "destroy the old envelopes"
for e in "${ENVS[@]}"; do
  fp=$(sha256sum "$e" | cut -c1-64)
  ceremony envelope destroyed --fingerprint "$fp" --witnesses alice,bob
done

step "status: nothing open, unreviewed or left to destroy"
gk status

HEAD=$( (gk status --json || true) | python3 -c 'import json,sys; print(json.load(sys.stdin)["head"])')
step "the auditor verifies the log against the head kept on paper"
gk log verify --anchor "$HEAD" --training

step "the transcript for the postmortem"
gk log show --format text

echo
echo "demo complete: custody in $CUSTODY, envelopes under $CUSTODY/envelopes"
