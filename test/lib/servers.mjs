// Upstream MCP servers for tests: the official reference servers from npm and our own
// fault server. Each is started on loopback and stopped by pid.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort, projectRoot, sleep } from './gateway.mjs';

export const everythingJs = path.join(projectRoot, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const filesystemJs = path.join(projectRoot, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const memoryJs = path.join(projectRoot, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
export const faultJs = path.join(projectRoot, 'test/servers/fault-server.mjs');
export const nodeBin = process.execPath;

async function waitListening(port, ms = 10000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on ${port}`);
}

// Starts a network server process; returns { port, url, stop }.
export async function startNetworkServer(args, { env = {}, urlPath = '/mcp', port } = {}) {
  port = port || (await freePort());
  const child = spawn(nodeBin, args.map((a) => (a === '@PORT@' ? String(port) : a)), {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  await waitListening(port);
  return {
    port,
    pid: child.pid,
    url: `http://127.0.0.1:${port}${urlPath}`,
    stderr: () => stderr,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000);
    }),
  };
}
