#!/usr/bin/env bash
# Installs the system packages glasskeep's build and tests need on Debian bookworm.
# Runs as root in CI; uses sudo only when not root. Idempotent: skips what is present.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
APT_PACKAGES=(
  libpcsclite-dev pkg-config   # building the yubikey/pcsc crates
  pcscd vsmartcard-vpcd pcsc-tools   # the real PC/SC stack the simulated card sits behind
  yubico-piv-tool              # an independent PIV client that must read the simulated card
  yubikey-manager              # ykman 4.0.9: a second independent PIV client; from apt like the rest, so no pip/PyPI step
  age                          # interop: Debian's age decrypts what glasskeep seals
  zbar-tools poppler-utils     # interop: zbarimg reads our QR codes, pdftoppm renders our PDFs
  tesseract-ocr                # interop: OCR of a 300 dpi rendering of the text fallback, read back by `envelope read`
  chromium                     # tests: the postmortem report (log show --format html) rendered headless, read by tesseract
  librsvg2-bin                 # interop: rsvg-convert rasterises our SVG envelopes for zbarimg
  python3-cryptography         # the recovery script in docs/RECOVERY.md, the independent log verifier
  faketime                     # tests: a ceremony on a machine whose clock is behind the log
  tmux                         # tests: custodians at a real terminal (typed PINs, Ctrl-C, scrollback)
  iproute2                     # tests: the air-gap guard in network namespaces (ip link, veth pairs)
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Interop tests: age-plugin-yubikey is the reference decoder for sealed shares (and what
# custodians recover with if glasskeep is lost). Pinned to the version the tests cover.
AGE_PLUGIN_YUBIKEY_VERSION=0.5.1
if ! age-plugin-yubikey --version 2>/dev/null | grep -qx "age-plugin-yubikey $AGE_PLUGIN_YUBIKEY_VERSION"; then
  cargo install age-plugin-yubikey --version "$AGE_PLUGIN_YUBIKEY_VERSION" --locked
fi

# The card-free core must build for WebAssembly (an auditor's verifier page).
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

# Supply-chain policy (deny.toml): licenses, banned crates, sources, duplicate versions.
# Pinned, so the policy is checked the same way everywhere; built from crates.io.
CARGO_DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION"; then
  cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
fi
