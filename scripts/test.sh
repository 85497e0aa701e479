#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs moto (a DynamoDB-compatible server)
# into .venv and Chromium with chromedriver (for the console's browser test) when they are missing, starts moto
# on a free local port (with DynamoDB's per-item atomicity: scripts/moto_server.py), runs every
# Rust test against it, stops it.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh new_contact`).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${BRIDGE_VENV:-.venv}"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "==> installing moto[server] into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]>=5,<6"
fi

# The console's browser test needs Chromium and chromedriver; without the rights to install it, say so and go on
# (that test then fails with the same advice).
scripts/chromium.sh || true

mkdir -p target
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# moto's server, with DynamoDB's item operations atomic as in AWS (see scripts/moto_server.py).
"$venv/bin/python" scripts/moto_server.py -H 127.0.0.1 -p "$port" > target/moto_server.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
echo "==> moto_server on 127.0.0.1:$port"

export DYNAMODB_TEST_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

log="target/test-output.log"
export FAULT_SUMMARY_FILE="$PWD/target/fault-injection-summary.txt"
rm -f "$FAULT_SUMMARY_FILE"
set +e
cargo test --workspace --all-targets "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($i ~ /^passed;?$/) s += $(i-1) } END { print s + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($i ~ /^failed;?$/) s += $(i-1) } END { print s + 0 }' "$log")
echo
if [ -f "$FAULT_SUMMARY_FILE" ]; then
  echo "fault injection: $(cat "$FAULT_SUMMARY_FILE")"
fi
echo "cargo-test: $passed passed, $failed failed"
exit "$status"
