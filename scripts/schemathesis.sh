#!/usr/bin/env bash
# Property-based API test: schemathesis (from PyPI, in the repository's
# .venv) generates requests from the server's own /openapi.json — valid and
# invalid bodies, queries, paths and headers — and fails on any 5xx answer.
# The server is the built binary on a free loopback port over a temporary
# data directory, with an admin key. Bounded: a few examples per operation
# and a time budget (SHOPSHIELD_SCHEMATHESIS_SECONDS, default 90).
set -euo pipefail
cd "$(dirname "$0")/.."
#
#   scripts/schemathesis.sh [BINARY]   (default: build and use the debug binary)
if [ ! -x .venv/bin/schemathesis ]; then
    echo "== installing schemathesis into .venv"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install --quiet 'schemathesis>=4.30,<5'
fi
if [ $# -ge 1 ]; then
    BIN=$1
else
    cargo build --quiet --bin shopshield
    BIN="${CARGO_TARGET_DIR:-target}/debug/shopshield"
fi
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
# /healthz is probed every 100 ms on a new connection throughout; the run
# fails if it ever takes 100 ms or more, or the server dies.
PROBE_OUT="$DATA/healthz.txt"
.venv/bin/python - "$PORT" "$PROBE_OUT" "$DATA/stop-probe" <<'PY' &
import http.client, os, sys, time
port, out, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
worst, probes, failures = 0.0, 0, []
while not os.path.exists(stop):
    t = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/healthz")
        status = c.getresponse().status
        c.close()
    except OSError as e:
        status = str(e)
    took = time.monotonic() - t
    probes += 1
    worst = max(worst, took)
    if status != 200:
        failures.append(str(status))
    time.sleep(0.1)
with open(out, "w") as f:
    f.write(f"{probes} {worst * 1000:.1f} {len(failures)} {' '.join(failures[:5])}\n")
PY
PROBE=$!
status=0
.venv/bin/schemathesis run "http://127.0.0.1:$PORT/openapi.json" \
    --header "Authorization: Bearer $KEY" \
    --checks not_a_server_error \
    --phases examples,coverage,fuzzing \
    --max-examples "${SHOPSHIELD_SCHEMATHESIS_EXAMPLES:-8}" \
    --max-time "${SHOPSHIELD_SCHEMATHESIS_SECONDS:-90}" \
    --workers 2 \
    --request-timeout 30 \
    --suppress-health-check all \
    --no-color || status=$?
touch "$DATA/stop-probe"
wait "$PROBE"
read -r probes worst_ms failed rest < "$PROBE_OUT"
echo "/healthz during the run: $probes probes, worst $worst_ms ms, $failed failed $rest"
if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "the server died during the run; its log:" >&2
    tail -n 50 "$DATA/server.log" >&2
    exit 1
fi
if grep -q "panicked" "$DATA/server.log"; then
    echo "the server panicked during the run:" >&2
    grep -A5 "panicked" "$DATA/server.log" | head -n 40 >&2
    exit 1
fi
if [ "$failed" != 0 ] || ! awk -v w="$worst_ms" 'BEGIN { exit !(w < 100) }'; then
    echo "/healthz did not answer within 100 ms throughout" >&2
    exit 1
fi
exit "$status"
