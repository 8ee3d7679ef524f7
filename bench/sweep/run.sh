#!/usr/bin/env bash
# Sweep benchmark: 1,000,000 live listings in the SQLite store (1% of them
# counterfeits of a mark not yet registered), then a new mark is
# registered and the time until every affected listing is taken down is
# measured (sweep opened, index looked up, candidates screened again,
# decisions committed and handed to enforcement). Prints one JSON line
# with the numbers looked at, rescreened and taken down.
#
#   bench/sweep/run.sh [LISTINGS] [AFFECTED] [DB]
#
# The catalogue is built once (through the screening service) into DB and
# reused by later runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
LISTINGS=${1:-1000000}
AFFECTED=${2:-10000}
DB=${3:-${TMPDIR:-/tmp}/shopshield-sweep-bench-$LISTINGS.db}
cargo run --release -p shopshield-app --example sweep_bench -- \
    --listings "$LISTINGS" --affected "$AFFECTED" --marks 1000 --db "$DB"
