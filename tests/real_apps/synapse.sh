#!/usr/bin/env bash
# Installs Synapse (PyPI `matrix-synapse`) into target/real_apps/synapse,
# generates a homeserver config for server name example.org on a free
# loopback port (SQLite, no federation, sign-in through SSO only: password
# login disabled), registers the sidecar's admin account `scim-bot` with
# the registration shared secret, and runs the opt-in lifecycle tests
# (Okta's and Entra's sequences through config/matrix.toml) against it.
# Needs python3 with venv and pip.
#
#   tests/real_apps/synapse.sh               # install (once), start, test, stop
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=1.163.2
DIR=target/real_apps/synapse
SERVER_NAME=example.org
mkdir -p "$DIR"
if [ ! -x "$DIR/venv/bin/register_new_matrix_user" ]; then
  python3 -m venv "$DIR/venv"
  "$DIR/venv/bin/pip" install --quiet "matrix-synapse==$VERSION"
fi
PY="$PWD/$DIR/venv/bin/python"
DATA="$PWD/$DIR/data"
rm -rf "$DATA"
mkdir -p "$DATA"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$DATA" && "$PY" -m synapse.app.homeserver --server-name "$SERVER_NAME" \
  --config-path homeserver.yaml --generate-config --report-stats=no >/dev/null)
# Listen on the free port, loopback only; no federation; generous login
# rate limits for the test; password login off (users sign in through SSO:
# an account is reactivated without a password).
"$PY" - "$DATA/homeserver.yaml" "$PORT" <<'PY'
import sys, yaml
path, port = sys.argv[1], int(sys.argv[2])
c = yaml.safe_load(open(path))
c["listeners"] = [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http",
                   "tls": False, "x_forwarded": False,
                   "resources": [{"names": ["client"], "compress": False}]}]
c["federation_domain_whitelist"] = []
c["trusted_key_servers"] = []
c["suppress_key_server_warning"] = True
many = {"per_second": 1000, "burst_count": 10000}
c["rc_login"] = {"address": many, "account": many, "failed_attempts": many}
c["rc_admin_redaction"] = many
c["password_config"] = {"enabled": False}
# A fresh database finishes its schema (unique indexes among them) in
# background updates, which sleep between batches by default; until they
# are done some writes fail (a reactivation answers 500).
c["background_updates"] = {"sleep_enabled": False, "min_batch_size": 1000,
                           "default_batch_size": 1000}
yaml.safe_dump(c, open(path, "w"))
PY
(cd "$DATA" && exec "$PY" -m synapse.app.homeserver -c homeserver.yaml) >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  curl -fsS "$BASE/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$BASE/health" >/dev/null
# The admin account, and an access token for it from the registration API
# (password login is off, so the token comes from registering).
TOKEN=$("$PY" - "$BASE" "$DATA/homeserver.yaml" <<'PY'
import hashlib, hmac, json, sys, urllib.request, yaml
base, path = sys.argv[1], sys.argv[2]
secret = yaml.safe_load(open(path))["registration_shared_secret"].encode()
def call(method, url, body=None):
    req = urllib.request.Request(base + url, method=method,
        headers={"Content-Type": "application/json"},
        data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())
nonce = call("GET", "/_synapse/admin/v1/register")["nonce"]
user, password = "scim-bot", "unused-bot-password-1"
mac = hmac.new(secret, digestmod=hashlib.sha1)
for part in (nonce, user, password, "admin"):
    mac.update(part.encode() + (b"\x00" if part != "admin" else b""))
reply = call("POST", "/_synapse/admin/v1/register", {"nonce": nonce, "username": user,
    "password": password, "admin": True, "mac": mac.hexdigest()})
print(reply["access_token"])
PY
)
for _ in $(seq 1 600); do
  curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/_synapse/admin/v1/background_updates/status" |
    python3 -c 'import json,sys; sys.exit(0 if not json.load(sys.stdin)["current_updates"] else 1)' && break
  sleep 0.2
done
export SYNAPSE_URL="$BASE" SYNAPSE_TOKEN="$TOKEN" SYNAPSE_SERVER_NAME="$SERVER_NAME"
cargo test --test it real_apps::synapse -- --ignored --test-threads=1 "$@"
