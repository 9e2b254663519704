#!/usr/bin/env bash
# JupyterHub 6.1.1 (PyPI) with configurable-http-proxy 5.3.0 (npm), driven
# through the unedited draft of its published OpenAPI document.
#
# Installs both into WORKDIR (default target/real-apps/jupyterhub; reused
# when present), starts the Hub on loopback with a service token that may
# manage users and groups, and runs tests/it/draft/real_apps.rs: `scim-sidecar
# draft` on tests/openapi/jupyterhub/rest-api.yml (the document ships in
# JupyterHub's sdist; the Hub does not serve it), then Okta's user sequence
# through the draft as written. Needs python3 (with venv), npm and curl.
#
#   tests/real_apps/jupyterhub.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${1:-$ROOT/target/real-apps/jupyterhub}
HUB_PORT=${HUB_PORT:-18184}
PROXY_PORT=${PROXY_PORT:-18183}
PROXY_API_PORT=${PROXY_API_PORT:-18185}
mkdir -p "$WORK"

if [ ! -x "$WORK/venv/bin/jupyterhub" ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet jupyterhub==6.1.1
fi
if [ ! -x "$WORK/node/node_modules/.bin/configurable-http-proxy" ]; then
    npm install --silent --no-audit --no-fund --prefix "$WORK/node" configurable-http-proxy@5.3.0
fi

TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
cat > "$WORK/jupyterhub_config.py" <<EOF
import os
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = $PROXY_PORT
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = $HUB_PORT
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:$PROXY_API_PORT"
c.ConfigurableHTTPProxy.command = ["$WORK/node/node_modules/.bin/configurable-http-proxy"]
c.JupyterHub.db_url = "sqlite:///$WORK/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "$WORK/jupyterhub_cookie_secret"
c.JupyterHub.authenticator_class = "null"
c.JupyterHub.services = [{"name": "scim-sidecar", "api_token": os.environ["JH_SCIM_TOKEN"]}]
c.JupyterHub.load_roles = [{
    "name": "scim-provisioner",
    "scopes": ["admin:users", "admin:groups", "list:users", "list:groups"],
    "services": ["scim-sidecar"],
}]
EOF
rm -f "$WORK/jupyterhub.sqlite"
(cd "$WORK" && JH_SCIM_TOKEN=$TOKEN exec "$WORK/venv/bin/jupyterhub" -f "$WORK/jupyterhub_config.py") >"$WORK/server.log" 2>&1 &
HUB=$!
trap 'kill "$HUB" 2>/dev/null || true; wait "$HUB" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$HUB_PORT/hub/api/" >/dev/null && break
    sleep 0.5
done
curl -fs "http://127.0.0.1:$HUB_PORT/hub/api/" >/dev/null || { tail -20 "$WORK/server.log"; exit 1; }

# The draft as the document gives it, then drafted with --probe.
for PROBE in "" 1; do
    REAL_APP_OPENAPI="$ROOT/tests/openapi/jupyterhub/rest-api.yml" \
    REAL_APP_URL="http://127.0.0.1:$HUB_PORT" \
    REAL_APP_HEADER="Authorization: Bearer $TOKEN" \
    REAL_APP_DRAFT="$WORK/draft${PROBE:+-probed}.toml" REAL_APP_PROBE="$PROBE" \
    APP_TOKEN="$TOKEN" \
        cargo test --test it draft::real_apps -- --ignored --nocapture || failed=1
done
exit "${failed:-0}"
