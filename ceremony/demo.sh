#!/usr/bin/env bash
# A planned TRAINING custody from plan file to postmortem, with three simulated YubiKeys
# behind the real pcscd:
#
#   set-up     init (quorum 2, a 365-day custodian term)
#   plan 1     enroll alice and bob, then carol; seal a credential 2-of-3; a drill
#   3am        an unplanned opening by alice and bob (alarm notice first)
#   plan 2     carol reviews the opening; two-phase rotation: rotate, each new custodian
#              acknowledges with check-share, then the old envelopes are destroyed
#   paper      a sheet for every ceremony, the recovery kit, the HTML postmortem report
#   audit      log verify against the head scanned from the last ceremony sheet
#
# Usage: bash ceremony/demo.sh [DIR]   (default ./demo-custody)
# DIR must be new or empty, or a folder an earlier run of this demo made (it is then
# replaced). Every ceremony is checked against its plan first (`plan check`, then
# `--plan`), and given the head hash from the previous ceremony, as custodians copy it
# from the last ceremony sheet. The simulated cards use the default PIN 123456, fed from
# a PIN file: a real ceremony prompts, and a production custody refuses PIN files.
set -euo pipefail
OUT=${1:-./demo-custody}
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MARK=.glasskeep-demo
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ] && [ ! -e "$OUT/$MARK" ]; then
  echo "demo: $OUT exists and was not made by this demo; give a new or empty folder" >&2
  exit 2
fi
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
touch "$OUT/$MARK"

bash scripts/install-deps.sh
echo "== building"
cargo build --locked -q -p glasskeep -p glasskeep-piv-sim
GK="$ROOT/target/debug/glasskeep"
SIM="$ROOT/target/debug/glasskeep-piv-sim"

CUSTODY="$OUT/custody"
PLANS="$OUT/plans"
SHEETS="$OUT/sheets"
LAB="$OUT/.lab"   # the simulated cards and pcscd: not part of the custody
mkdir -p "$CUSTODY" "$PLANS" "$SHEETS" "$LAB/pcsc" "$LAB/cards"

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
mkdir -p "$LAB/drivers"
cp /usr/lib/pcsc/drivers/serial/libifdvpcd.so "$LAB/drivers/libifdvpcd-b.so"
cat > "$LAB/pcsc/vpcd" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B

FRIENDLYNAME "Virtual PCD B"
DEVICENAME   /dev/null:0x8C7D
LIBPATH      $LAB/drivers/libifdvpcd-b.so
CHANNELID    0x8C7D
EOF

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -x pcscd 2>/dev/null || true
}
trap cleanup EXIT

pcscd -f -c "$LAB/pcsc" >"$LAB/pcscd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do ss -ltn 2>/dev/null | grep -q ':35965 ' && break; sleep 0.1; done

port=35963
for who in alice:1001 bob:1002 carol:1003; do
  serial=${who#*:}
  "$SIM" --port "$port" --state "$LAB/cards/$serial" --serial "$serial" --touch auto \
    >"$LAB/cards/$serial.log" 2>&1 &
  PIDS+=($!)
  port=$((port + 1))
done

PINS="$LAB/pins"
for _ in $(seq 200); do echo 123456; done > "$PINS"
gk() { "$GK" --dir "$CUSTODY" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# The head hash the last ceremony printed, as the next ceremony's anchor; --yes stands
# for the custodians' typed confirmation (the entries to sign are still printed).
head_now() { (gk status --json || true) | json 'd["head"]'; }
# A ceremony under PLAN ('-' for none), with its sheet, numbered in order (the count of
# sheets so far: a ceremony fed from a pipe runs in a subshell): ceremony PLAN NAME CMD...
ceremony() {
  local plan=$1 name=$2
  shift 2
  local sheet
  sheet=$(printf '%s/%02d-%s.pdf' "$SHEETS" "$(ls "$SHEETS" | wc -l)" "$name")
  local planned=()
  [ "$plan" = - ] || planned=(--plan "$plan")
  gk "$@" "${planned[@]}" --pin-file "$PINS" --anchor "$(head_now)" --yes \
    --sheet "$sheet" --witness "Dana Auditor"
}

for _ in $(seq 100); do
  [ "$("$GK" token list 2>/dev/null | grep -c 'serial')" -ge 3 ] && break
  sleep 0.2
done

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "the YubiKeys present"
gk token list

step "init: a TRAINING custody with quorum 2 and a custodian term of 365 days"
gk init --org "Example Corp" --training --quorum 2 --term 365d \
  --sheet "$SHEETS/00-init.pdf" --witness "Dana Auditor"
CUSTODY_ID=$( (gk log verify --json --training || true) | json 'd["custody_id"]')
TODAY=$(date -u +%F)

# ---------------------------------------------------------------------------------------
step "plan 1: set-up, written and published before the ceremony"
PLAN1="$PLANS/1-setup.toml"
cat > "$PLAN1" <<EOF
# Ceremony plan 1: the custody's set-up. Published before the ceremony; every command
# below runs with --plan and its checkpoints record this file's SHA-256.
version = 1
ceremony = "Set-up: enroll alice, bob and carol; seal aws-root 2-of-3; first drill"
date = $TODAY
window_days = 1

[custody]
id = "$CUSTODY_ID"
org = "Example Corp"

[roles]
administrator = "Erin Admin"
custodians = ["alice", "bob", "carol"]
witnesses = ["Dana Auditor"]

[[act]]
kind = "enroll"
custodians = ["alice", "bob"]
serials = [1001, 1002]

[[act]]
kind = "enroll"
custodians = ["carol"]
serials = [1003]
cosigners = ["alice", "bob"]

[[act]]
kind = "seal"
label = "aws-root"
threshold = 2
custodians = ["alice", "bob", "carol"]
secret_kind = "password"
cosigners = ["alice", "bob", "carol"]

[[act]]
kind = "drill"
label = "aws-root"
custodians = ["alice", "carol"]
EOF
cat "$PLAN1"
step "plan check: the plan against the log, and this ceremony's runbook"
gk plan check "$PLAN1"

step "a dry run of the first act: whose YubiKeys, which entries; no card is used"
gk custodian enroll --name alice --serial 1001 --name bob --serial 1002 --plan "$PLAN1" --dry-run

step "enroll alice and bob together: the custody's first quorum, each card cosigning"
ceremony "$PLAN1" enroll-alice-bob custodian enroll --name alice --serial 1001 --name bob --serial 1002

step "enroll carol on YubiKey 1003, with alice and bob cosigning"
ceremony "$PLAN1" enroll-carol custodian enroll --name carol --serial 1003 --cosigners alice,bob

step "seal a sample credential 2-of-3, cosigned by its three custodians"
printf 'correct-horse-battery-staple' | ceremony "$PLAN1" seal-aws-root seal --label aws-root \
  --threshold 2 --custodians alice,bob,carol --rotate-within 24h --cosigners alice,bob,carol
ENV_DIR=$(ls -d "$CUSTODY"/envelopes/aws-root-*)
ENVS=("$ENV_DIR"/*.gkenv)

step "render the envelopes for the safes"
for e in "${ENVS[@]}"; do
  gk envelope render "$e" --format pdf --paper a4
  gk envelope render "$e" --format png
done

step "drill: alice and carol prove the set reconstructs, revealing nothing"
ceremony "$PLAN1" drill drill --label aws-root --envelope "${ENVS[0]}" --envelope "${ENVS[2]}"

# ---------------------------------------------------------------------------------------
step "3am: the identity plane is down; alice and bob open (no plan: the alarm notice first)"
# At the safe the secret is shown on the terminal's alternate screen and cleared; a
# script asks for it on stdout explicitly (--stdout). The alarm notice is also kept as
# text and as a QR image.
ceremony - open open --label aws-root --reason "identity plane down (demo)" --incident DEMO-1 \
  --envelope "${ENVS[0]}" --envelope "${ENVS[1]}" --alarm-file "$OUT/alarm" --stdout
echo

step "status: the credential is OPEN, unreviewed, and must be rotated"
gk status || true

# ---------------------------------------------------------------------------------------
# The open credential's review and rotation are pending (exit 0); `|| true` keeps the
# demo going should a slow run push one past its window.
OPEN_SEQ=$( (gk status --json || true) | json 'd["unreviewed"][0]')
FPS=()
for e in "${ENVS[@]}"; do FPS+=("$(sha256sum "$e" | cut -c1-64)"); done
step "plan 2: review and two-phase rotation"
PLAN2="$PLANS/2-review-rotation.toml"
cat > "$PLAN2" <<EOF
# Ceremony plan 2: the opening's review by carol, who took no part in it; the rotation
# of aws-root (a pending set until each new custodian has acknowledged it); the old
# envelopes destroyed before witnesses.
version = 1
ceremony = "Review opening $OPEN_SEQ; rotate aws-root; destroy the old envelopes"
date = $TODAY
window_days = 1

[custody]
id = "$CUSTODY_ID"
org = "Example Corp"

[roles]
administrator = "Erin Admin"
custodians = ["alice", "bob", "carol"]
witnesses = ["Dana Auditor"]

[[act]]
kind = "review"
open = $OPEN_SEQ
verdict = "justified"
cosigners = ["carol"]

[[act]]
kind = "rotate"
label = "aws-root"
cosigners = ["alice", "bob", "carol"]

[[act]]
kind = "check-share"
label = "aws-root"
custodians = ["alice"]

[[act]]
kind = "check-share"
label = "aws-root"
custodians = ["bob"]

[[act]]
kind = "check-share"
label = "aws-root"
custodians = ["carol"]
EOF
for i in 0 1 2; do
  cat >> "$PLAN2" <<EOF

[[act]]
kind = "destroyed"
fingerprint = "${FPS[$i]}"
witnesses = ["alice", "bob"]
EOF
done
cat "$PLAN2"
step "plan check"
gk plan check "$PLAN2"

step "review opening $OPEN_SEQ by carol, who did not take part in it"
ceremony "$PLAN2" review review --open "$OPEN_SEQ" --verdict justified \
  --notes "demo: planned exercise" --cosigners carol

step "rotate: a new secret and new envelopes, cosigned by the old set's custodians"
printf 'new-root-password-after-rotation' | ceremony "$PLAN2" rotate rotate --label aws-root \
  --cosigners alice,bob,carol

step "status: the new set is pending; the old one stays live until it is acknowledged"
gk status || true

step "each new custodian acknowledges their envelope with check-share"
NEW_DIR=$(ls -dt "$CUSTODY"/envelopes/aws-root-* | head -1)
for e in "$NEW_DIR"/*.gkenv; do
  who=$(basename "$e" .gkenv)
  ceremony "$PLAN2" "check-share-${who#*-}" check-share --envelope "$e"
done
for e in "$NEW_DIR"/*.gkenv; do gk envelope render "$e" --format pdf --paper a4; done

step "destroy the old envelopes (the new set is active: the old one is superseded)"
for i in 0 1 2; do
  ceremony "$PLAN2" "destroyed-$((i + 1))" envelope destroyed --fingerprint "${FPS[$i]}" \
    --witnesses alice,bob
done

step "status: nothing open, unreviewed, pending or left to destroy"
gk status

# ---------------------------------------------------------------------------------------
step "the recovery kit for the safe (RECOVERY, recover.py, the live sets)"
gk recovery-kit "$OUT/recovery-kit"

step "the postmortem report: one offline HTML file"
gk log show --format html --training -o "$OUT/postmortem.html"

LAST_SHEET=$(ls "$SHEETS"/*.pdf | sort | tail -1)
step "the auditor verifies the log against the head scanned from the last sheet"
echo "scanning $LAST_SHEET at 300 dpi"
pdftoppm -r 300 -png "$LAST_SHEET" "$OUT/last-sheet"
SCAN=
for page in "$OUT"/last-sheet*.png; do
  if zbarimg --quiet --raw "$page" 2>/dev/null | grep -q '^GKHEAD1:'; then SCAN=$page; break; fi
done
[ -n "$SCAN" ] || { echo "demo: no head code found on $LAST_SHEET" >&2; exit 1; }
zbarimg --quiet --raw "$SCAN" 2>/dev/null
gk log verify --anchor "$SCAN" --training

cat <<EOF

demo complete. Everything is in $OUT:
  custody (log and envelopes)  $CUSTODY
  ceremony plans               $PLANS
  ceremony sheets              $SHEETS
  envelopes (PDF, PNG)         $CUSTODY/envelopes
  alarm notice                 $OUT/alarm.txt, $OUT/alarm.png
  recovery kit                 $OUT/recovery-kit
  postmortem report            $OUT/postmortem.html
  last sheet, scanned          $SCAN
EOF
