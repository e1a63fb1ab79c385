// Starts a real httpd with the built module for one test file, and stops it (and checks
// that nothing it started survives). Everything lives in a fresh directory under /tmp.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const modulePath = path.join(projectRoot, 'build/mod_mcp_gateway.so');
const template = fs.readFileSync(path.join(projectRoot, 'conf/httpd-standalone.conf.in'), 'utf8');
const httpdBin = process.env.HTTPD || '/usr/sbin/apache2';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Every process whose command line mentions this gateway's directory: httpd, its
// children and the engine (all run "apache2 -f <root>/httpd.conf").
function processesOf(root) {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(root)) out.push(Number(entry));
    } catch {}
  }
  return out;
}

export async function startGateway(opts = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpgw-test-'));
  fs.chmodSync(root, 0o755);
  const port = opts.port || (await freePort());
  const gatewayJson = path.join(root, 'gateway.json');
  fs.writeFileSync(gatewayJson, JSON.stringify(opts.config || { mcp: { client_configs: [] } }, null, 2));
  const asRoot = process.getuid() === 0;
  // Caller-supplied pieces first, so that they may use @ROOT@ too.
  const conf = template
    .replaceAll('@EXTRA_MODULES@', opts.extraModules || '')
    .replaceAll('@GATEWAY_DIRECTIVES@', opts.directives || '')
    .replaceAll('@LOCATION_DIRECTIVES@', opts.location || '')
    .replaceAll('@EXTRA_CONFIG@', opts.extraConfig || '')
    .replaceAll('@ROOT@', root)
    .replaceAll('@PORT@', String(port))
    .replaceAll('@MPM@', opts.mpm || 'event')
    .replaceAll('@MODULE@', modulePath)
    .replaceAll('@GATEWAY_JSON@', gatewayJson)
    .replaceAll('@LOGLEVEL@', opts.logLevel || 'info')
    .replaceAll('@USER_LINES@', asRoot ? 'User www-data\nGroup www-data' : '');
  const confPath = path.join(root, 'httpd.conf');
  fs.writeFileSync(confPath, conf);
  const gw = new Gateway(root, port, confPath);
  const r = spawnSync(httpdBin, ['-f', confPath, '-k', 'start'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`httpd failed to start: ${r.stderr}\n${gw.errorLog()}`);
  await waitFor(() => gw.enginePid(), 5000, 'the engine to start');
  await waitFor(() => gw.canConnect(), 5000, 'httpd to listen');
  return gw;
}

export class Gateway {
  constructor(root, port, confPath) {
    this.root = root;
    this.port = port;
    this.confPath = confPath;
    this.url = `http://127.0.0.1:${port}/mcp`;
  }

  errorLog() {
    try {
      return fs.readFileSync(path.join(this.root, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  accessLog() {
    try {
      return fs.readFileSync(path.join(this.root, 'access.log'), 'utf8');
    } catch {
      return '';
    }
  }

  parentPid() {
    try {
      return Number(fs.readFileSync(path.join(this.root, 'httpd.pid'), 'utf8').trim());
    } catch {
      return 0;
    }
  }

  // The pid of the running engine: the newest "engine started (pid N)" that is alive.
  enginePid() {
    const pids = [...this.errorLog().matchAll(/engine started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    const pid = pids.at(-1);
    return pid && pidAlive(pid) ? pid : 0;
  }

  canConnect() {
    return new Promise((resolve) => {
      const s = net.connect(this.port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
  }

  httpd(...args) {
    return spawnSync(httpdBin, ['-f', this.confPath, ...args], { encoding: 'utf8' });
  }

  async graceful() {
    const before = this.enginePid();
    this.httpd('-k', 'graceful');
    await waitFor(() => { const p = this.enginePid(); return p && p !== before; }, 10000,
                  'a new engine after graceful restart');
  }

  // Stops httpd and waits until no process of this gateway is left; returns the pids
  // that had to be killed by force (a test asserts this is empty).
  async stop() {
    const parent = this.parentPid();
    this.httpd('-k', 'stop');
    try {
      await waitFor(() => !parent || !pidAlive(parent), 15000, 'httpd to stop');
      await waitFor(() => processesOf(this.root).length === 0, 5000, 'every process to exit');
      return [];
    } catch {
      const left = processesOf(this.root);
      for (const pid of left) {
        try { process.kill(pid, 'SIGKILL'); } catch {}
      }
      return left;
    }
  }

  processes() {
    return processesOf(this.root);
  }
}

// A POST to the gateway with the headers a well-behaved client sends.
export async function rpc(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

export async function initialize(url, version = '2025-11-25', headers = {}) {
  const r = await rpc(url, {
    jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'test', version: '1' } },
  }, headers);
  return { ...r, sessionId: r.headers.get('mcp-session-id') };
}

export { execFileSync };
