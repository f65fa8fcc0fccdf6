#!/usr/bin/env bash
# Installs the system packages glasskeep's build and tests need on Debian bookworm.
# Runs as root in CI; uses sudo only when not root. Idempotent: skips what is present.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
APT_PACKAGES=(
  libpcsclite-dev pkg-config   # building the yubikey/pcsc crates
  pcscd vsmartcard-vpcd pcsc-tools   # the real PC/SC stack the simulated card sits behind
  yubico-piv-tool              # an independent PIV client that must read the simulated card
  age                          # interop: Debian's age decrypts what glasskeep seals
  zbar-tools poppler-utils     # interop: zbarimg reads our QR codes, pdftoppm renders our PDFs
  librsvg2-bin                 # interop: rsvg-convert rasterises our SVG envelopes for zbarimg
  python3-cryptography         # the recovery script in docs/RECOVERY.md
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
