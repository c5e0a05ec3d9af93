#!/usr/bin/env bash
# `make demo`: install what is missing, build, run the self-tests, print the
# crypto benchmark. (The relay + two nodes in network namespaces join this
# demo when the relay and node daemon land; see README "Status".)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
make -j"$(nproc)" all tests
echo
echo "== self-tests (build/) =="
PQ_VECTORS=${PQ_VECTORS:-$(cd .. && pwd)/shared/vectors} ./tests/run.sh build
echo
echo "== pqlan bench =="
./build/pqlan bench
