#!/usr/bin/env bash
# Runs the whole bridge on this machine with no AWS account and no credentials:
# - every Lambda under `cargo lambda watch` at its real path on http://127.0.0.1:9000;
# - the contact map and state in the embedded store file .local/bridge-store.json (kept across
#   restarts), unless CONTACT_MAP_TABLE / STATE_TABLE point at DynamoDB;
# - CloudTalk and GoHighLevel simulated by the sandbox on http://127.0.0.1:8787, unless real
#   credentials are in the environment (CLOUDTALK_API_KEY_ID, GHL_API_TOKEN), in which case the
#   real APIs are used; the sandbox's console is its page, http://127.0.0.1:8787/.
# Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${BRIDGE_VENV:-.venv}"
if ! command -v cargo-lambda >/dev/null 2>&1 && [ ! -x "$venv/bin/cargo-lambda" ]; then
  echo "==> installing cargo-lambda into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check cargo-lambda
fi
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac
export PATH="$venv/bin:$PATH"

sandbox_port="${SANDBOX_PORT:-8787}"
sandbox_url="http://127.0.0.1:$sandbox_port"
use_sandbox=0
if [ -z "${CLOUDTALK_API_KEY_ID:-}" ]; then
  use_sandbox=1
  export CLOUDTALK_API_BASE="$sandbox_url/cloudtalk/api"
  export CLOUDTALK_AI_API_BASE="$sandbox_url/cloudtalk/ai/v1"
  export CLOUDTALK_ANALYTICS_API_BASE="$sandbox_url/cloudtalk/analytics"
  export CLOUDTALK_PLATFORM_API_BASE="$sandbox_url/cloudtalk/platform"
  export CLOUDTALK_API_KEY_ID=sandbox-key-id CLOUDTALK_API_KEY_SECRET=sandbox-key-secret
fi
if [ -z "${GHL_API_TOKEN:-}" ]; then
  use_sandbox=1
  export GHL_API_BASE="$sandbox_url/ghl"
  export GHL_API_TOKEN=sandbox-ghl-token
  # The sample events in events/ come from location loc_abc123.
  export GHL_LOCATION_ID="${GHL_LOCATION_ID:-loc_abc123}"
  export CAMPAIGN_STAGE_MAP="${CAMPAIGN_STAGE_MAP:-{\"completed\":{\"pipelineId\":\"sandbox-pipeline\",\"stageId\":\"campaign-done\"\}\}}"
  # The sandbox's Marketplace app: its OAuth client, its id in the install samples, and the
  # samples' test key, which signs the signed samples and the sandbox's own GHL webhooks.
  export GHL_APP_ID="${GHL_APP_ID:-app_123}"
  export GHL_APP_CLIENT_ID="${GHL_APP_CLIENT_ID:-sandbox-app-client}"
  export GHL_APP_CLIENT_SECRET="${GHL_APP_CLIENT_SECRET:-sandbox-app-secret}"
  export GHL_WEBHOOK_PUBLIC_KEY="${GHL_WEBHOOK_PUBLIC_KEY:-$(cat tools/keys/sample-ghl-webhook-ed25519-public.pem)}"
fi
export GHL_WEBHOOK_SECRET="${GHL_WEBHOOK_SECRET:-local-dev-ghl-secret}"
export CLOUDTALK_WEBHOOK_SECRET="${CLOUDTALK_WEBHOOK_SECRET:-local-dev-cloudtalk-secret}"
export DEFAULT_PHONE_REGION="${DEFAULT_PHONE_REGION:-IT}"
export LOCAL_STORE_PATH="${LOCAL_STORE_PATH:-$PWD/.local/bridge-store.json}"

echo "==> building (the first build takes a few minutes)"
cargo build --quiet -p functions -p bridge-local -p bridge-operator

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ "$use_sandbox" = 1 ]; then
  SANDBOX_ADDR="127.0.0.1:$sandbox_port" \
  SANDBOX_GHL_LOCATION_ID="$GHL_LOCATION_ID" \
  SANDBOX_GHL_APP_ID="$GHL_APP_ID" \
  SANDBOX_BRIDGE_URL="${SANDBOX_BRIDGE_URL:-http://127.0.0.1:9000}" \
  SANDBOX_CLOUDTALK_WEBHOOK_SECRET="$CLOUDTALK_WEBHOOK_SECRET" \
    target/debug/sandbox &
  pids+=($!)
  echo "==> console on $sandbox_url/"
fi

echo "==> bridge on http://127.0.0.1:9000 (store: $LOCAL_STORE_PATH)"
cargo lambda watch --ignore-changes &
pids+=($!)
wait "${pids[@]}"
