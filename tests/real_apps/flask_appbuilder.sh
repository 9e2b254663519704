#!/usr/bin/env bash
# A Flask-AppBuilder 5.3.0 app (PyPI) with its security REST API, driven
# through the unedited draft of the OpenAPI document it serves.
#
# Installs FAB into WORKDIR (default target/real-apps/flask-appbuilder;
# reused when present; the pins keep marshmallow and SQLAlchemy at versions
# FAB 5.3.0 starts with), creates the database and an admin, starts the
# app on loopback, signs in for a JWT, and runs tests/it/draft/real_apps.rs:
# `scim-sidecar draft` on the app's own `GET /api/v1/_openapi` (fetched
# with the JWT), then Okta's user sequence through the draft as written.
# Needs python3 (with venv) and curl.
#
#   tests/real_apps/flask_appbuilder.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${1:-$ROOT/target/real-apps/flask-appbuilder}
PORT=${FAB_PORT:-18181}
mkdir -p "$WORK"

if [ ! -x "$WORK/venv/bin/flask" ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet flask-appbuilder==5.3.0 "marshmallow<4" "marshmallow-sqlalchemy<1.5" "sqlalchemy<2.1"
fi
cat > "$WORK/config.py" <<'EOF'
import os
basedir = os.path.abspath(os.path.dirname(__file__))
SECRET_KEY = os.environ["FAB_SECRET"]
SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(basedir, "app.db")
SQLALCHEMY_TRACK_MODIFICATIONS = False
FAB_ADD_SECURITY_API = True
FAB_API_SWAGGER_UI = True  # also serves the OpenAPI document at /api/v1/_openapi
AUTH_TYPE = 1  # database users
WTF_CSRF_ENABLED = False
EOF
cat > "$WORK/app.py" <<'EOF'
from flask import Flask
from flask_appbuilder import AppBuilder
from flask_appbuilder.utils.legacy import get_sqla_class

app = Flask(__name__)
app.config.from_object("config")
db = get_sqla_class()(app)
with app.app_context():
    appbuilder = AppBuilder(app, db.session)
EOF
SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export FAB_SECRET=$SECRET FLASK_APP=app.py
cd "$WORK"
rm -f app.db
venv/bin/flask fab create-db >/dev/null
venv/bin/flask fab create-admin --username admin --firstname Ad --lastname Min \
    --email admin@example.com --password "$PASSWORD" >/dev/null
venv/bin/flask run --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
APP=$!
trap 'kill "$APP" 2>/dev/null || true; wait "$APP" 2>/dev/null || true' EXIT
cd "$ROOT"
for _ in $(seq 1 120); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/_openapi" && break
    sleep 0.5
done
JWT=$(curl -fs -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\",\"provider\":\"db\"}" \
    "http://127.0.0.1:$PORT/api/v1/security/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# The draft as the document gives it, then drafted with --probe.
for PROBE in "" 1; do
    REAL_APP_OPENAPI="http://127.0.0.1:$PORT/api/v1/_openapi" \
    REAL_APP_HEADER="Authorization: Bearer $JWT" \
    REAL_APP_URL="http://127.0.0.1:$PORT" \
    REAL_APP_DRAFT="$WORK/draft${PROBE:+-probed}.toml" REAL_APP_PROBE="$PROBE" \
    APP_TOKEN="$JWT" \
        cargo test --test it draft::real_apps -- --ignored --nocapture || failed=1
done
# With the one edit the document cannot tell: FAB refuses a user without
# roles or groups ("At least one of 'roles' or 'groups' must be provided"),
# so the create needs a constant role (1 is the Admin role create-admin made).
REAL_APP_OPENAPI="http://127.0.0.1:$PORT/api/v1/_openapi" \
REAL_APP_HEADER="Authorization: Bearer $JWT" \
REAL_APP_URL="http://127.0.0.1:$PORT" \
REAL_APP_PROBE=1 \
REAL_APP_APPEND=$'[users.constants]\n"$.roles" = [1]' \
APP_TOKEN="$JWT" \
    cargo test --test it draft::real_apps -- --ignored --nocapture || failed=1
exit "${failed:-0}"
