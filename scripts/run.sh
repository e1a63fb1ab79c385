#!/usr/bin/env bash
# Installs what is missing, builds the module and runs httpd in the foreground on
# 127.0.0.1:${PORT:-8080} with the example configuration (an upstream that needs no network:
# the reference "everything" MCP server over stdio). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
make

port=${PORT:-8080}
root=$PWD/build/run
mkdir -p "$root"
chmod 755 "$root"
# The example JSON names its stdio server relative to the project: make that absolute.
sed "s|node_modules/|$PWD/node_modules/|" conf/mcp-gateway.example.json > "$root/gateway.json"
user_lines=""
[ "$(id -u)" -eq 0 ] && user_lines=$'User www-data\nGroup www-data'
sed -e "s|@ROOT@|$root|g; s|@PORT@|$port|g; s|@MPM@|event|g" \
    -e "s|@MODULE@|$PWD/build/mod_mcp_gateway.so|; s|@GATEWAY_JSON@|$root/gateway.json|" \
    -e "s|@LOGLEVEL@|info|" \
    conf/httpd-standalone.conf.in | awk -v u="$user_lines" '{ if ($0 == "@USER_LINES@") print u; else print }' \
    | sed -e 's|@[A-Z_]*@||g' > "$root/httpd.conf"

echo "mod_mcp_gateway: http://127.0.0.1:$port/mcp  (error log: $root/error.log)"
exec /usr/sbin/apache2 -f "$root/httpd.conf" -DFOREGROUND
