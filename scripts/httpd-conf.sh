#!/usr/bin/env bash
# Writes a self-contained httpd.conf for the gateway from conf/httpd-standalone.conf.in.
#
#   scripts/httpd-conf.sh ROOT PORT GATEWAY_JSON [LOGLEVEL] [EXTRA_MODULES] [EXTRA_CONFIG] > ROOT/httpd.conf
#
# Used by scripts/run.sh, scripts/valgrind.sh and the benchmarks (the Node tests fill the
# same template in test/lib/gateway.mjs). Runs httpd as www-data when started as root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
root=$1 port=$2 json=$3 loglevel=${4:-info} modules=${5:-} extra=${6:-}
user_lines=""
[ "$(id -u)" -eq 0 ] && user_lines=$'User www-data\nGroup www-data'
ROOT=$root PORT=$port JSON=$json LOGLEVEL=$loglevel MODULES=$modules EXTRA=$extra USERS=$user_lines \
MODULE=$top/build/mod_mcp_gateway.so awk '
  {
    gsub(/@EXTRA_MODULES@/, ENVIRON["MODULES"]); gsub(/@EXTRA_CONFIG@/, ENVIRON["EXTRA"]);
    gsub(/@USER_LINES@/, ENVIRON["USERS"]); gsub(/@ROOT@/, ENVIRON["ROOT"]);
    gsub(/@PORT@/, ENVIRON["PORT"]); gsub(/@MPM@/, "event"); gsub(/@MODULE@/, ENVIRON["MODULE"]);
    gsub(/@GATEWAY_JSON@/, ENVIRON["JSON"]); gsub(/@LOGLEVEL@/, ENVIRON["LOGLEVEL"]);
    gsub(/@[A-Z_]+@/, ""); print
  }' "$top/conf/httpd-standalone.conf.in"
