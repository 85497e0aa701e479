#!/usr/bin/env bash
# Makes sure Chromium and its WebDriver, chromedriver, are installed for the console's browser
# test (tools/local/tests/console.rs, which drives Chromium through chromedriver): nothing for
# one that is on PATH (or that CHROMIUM, resp. CHROMEDRIVER, names); otherwise installs Debian's
# `chromium` and/or `chromium-driver` with apt-get, as root or through passwordless sudo,
# non-interactively. Without the rights to install, it says what to run and returns 1 (the
# browser test would fail).
set -euo pipefail

found() {
  for name in "$@"; do
    if [ -n "$name" ] && command -v "$name" >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

packages=()
found "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable ||
  packages+=(chromium)
found "${CHROMEDRIVER:-}" chromedriver || packages+=(chromium-driver)
if [ "${#packages[@]}" = 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium.sh: missing ${packages[*]} and this is not a Debian-like system: install" \
    "Chromium and chromedriver (of the same version) and put them on PATH (or set" \
    "CHROMIUM=/path/to/chromium, CHROMEDRIVER=/path/to/chromedriver) for the console's" \
    "browser test" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium.sh: missing ${packages[*]} and this user cannot install packages." >&2
  echo "  run: sudo apt-get install -y ${packages[*]}" \
    "  (or set CHROMIUM=/path/to/chromium, CHROMEDRIVER=/path/to/chromedriver)" >&2
  echo "  the console's browser test (tools/local/tests/console.rs) fails without them" >&2
  exit 1
fi
echo "==> installing ${packages[*]} (apt-get, for the console's browser test)"
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null; then
  "${as_root[@]}" apt-get update -q >/dev/null
  "${as_root[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null
fi
found "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable
found "${CHROMEDRIVER:-}" chromedriver
