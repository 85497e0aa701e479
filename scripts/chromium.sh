#!/usr/bin/env bash
# Makes sure a Chromium is installed for the console's browser test (tools/tests/console.rs):
# nothing when one is on PATH (or CHROMIUM names one); otherwise installs Debian's `chromium`
# with apt-get, as root or through passwordless sudo, non-interactively. Without the rights to
# install, it says what to run and returns 1 (the browser test would fail).
set -euo pipefail

for name in "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
  if [ -n "$name" ] && command -v "$name" >/dev/null 2>&1; then
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium.sh: Chromium is missing and this is not a Debian-like system: install Chromium" \
    "and put it on PATH (or set CHROMIUM=/path/to/chromium) for the console's browser test" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium.sh: Chromium is missing and this user cannot install packages." >&2
  echo "  run: sudo apt-get install -y chromium   (or set CHROMIUM=/path/to/chromium)" >&2
  echo "  the console's browser test (tools/tests/console.rs) fails without it" >&2
  exit 1
fi
echo "==> installing chromium (apt-get, for the console's browser test)"
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y -q --no-install-recommends chromium >/dev/null; then
  "${as_root[@]}" apt-get update -q >/dev/null
  "${as_root[@]}" apt-get install -y -q --no-install-recommends chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1
