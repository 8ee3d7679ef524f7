#!/usr/bin/env bash
# Property-based API test: schemathesis (from PyPI, in the repository's
# .venv) generates requests from the server's own /openapi.json — valid and
# invalid bodies, queries, paths and headers — and fails on any 5xx answer.
# The server is the built binary on a free loopback port over a temporary
# data directory, with an admin key. Bounded: a few examples per operation
# and a time budget (SHOPSHIELD_SCHEMATHESIS_SECONDS, default 150).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/schemathesis ]; then
    echo "== installing schemathesis into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet 'schemathesis>=4.30,<5'
fi
cargo build --quiet --bin shopshield
BIN=target/debug/shopshield
DATA=$(mktemp -d)
SERVER=""
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$DATA"
}
trap cleanup EXIT
# Generous budgets: the run tests answers, not the rate limiter (which has
# its own tests); the pixel budget stays as shipped.
cat > "$DATA/shopshield.toml" <<'TOML'
[server.rate]
default_key = { per_second = 100000, burst = 100000 }
default_role = { per_second = 100000, burst = 100000 }
anonymous = { per_second = 100000, burst = 100000 }
TOML
KEY=$("$BIN" --data "$DATA" keys create --role admin 2>/dev/null)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --data "$DATA" serve --addr "127.0.0.1:$PORT" 2>"$DATA/server.log" &
SERVER=$!
for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
.venv/bin/schemathesis run "http://127.0.0.1:$PORT/openapi.json" \
    --header "Authorization: Bearer $KEY" \
    --checks not_a_server_error \
    --phases examples,coverage,fuzzing \
    --max-examples "${SHOPSHIELD_SCHEMATHESIS_EXAMPLES:-8}" \
    --max-time "${SHOPSHIELD_SCHEMATHESIS_SECONDS:-150}" \
    --workers 2 \
    --request-timeout 30 \
    --suppress-health-check all \
    --no-color
