// The admin REST API: authentication, validation, persistence, coherence across children,
// redaction, health monitoring and live tool updates.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { initialize, rpc, sleep, startGateway } from '../lib/gateway.mjs';
import { faultJs, nodeBin, startNetworkServer } from '../lib/servers.mjs';

const authModules = ['auth_basic', 'authn_file', 'authz_user']
  .map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join('\n');

let gw, faultHttp;
const marker = `--admin-marker-${process.pid}`;
const basic = (u, p) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
const ADMIN = { Authorization: basic('admin', 'adminpw') };

async function api(method, p, body, headers = ADMIN) {
  const res = await fetch(`http://127.0.0.1:${gw.port}/api/mcp${p}`, {
    method, headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, json, text };
}

function processesWith(m) {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(m); } catch { return false; }
  }).map(Number);
}

async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

async function toolNames() {
  const { sessionId } = await initialize(gw.url);
  const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'Mcp-Session-Id': sessionId });
  return r.json.result.tools.map((t) => t.name);
}

const stdioClient = (name, extra = {}) => ({
  name, connection_type: 'stdio',
  stdio_config: { command: nodeBin, args: [faultJs, 'stdio', marker + name], envs: ['PATH', 'SECRET_TOKEN=abcdefghijklmnopqrstuvwxyz'] },
  tools_to_execute: ['echo'], ...extra,
});

const jsonFileConfig = (faultUrl) => ({
  mcp: {
    client_configs: [
      { name: 'fromfile', connection_type: 'stdio', stdio_config: { command: nodeBin, args: [faultJs, 'stdio', marker + 'fromfile'] },
        tools_to_execute: ['*'] },
      { name: 'remote', connection_type: 'http', connection_string: faultUrl, tools_to_execute: ['echo'],
        headers: { 'X-Api-Token': 'env.MCPGW_ADMIN_TEST_TOKEN', 'X-Plain': 'plainvalue-1234567890' } },
    ],
    health_monitor_config: { check_interval: '300ms', check_timeout: '250ms', max_consecutive_failures: 2 },
  },
});

before(async () => {
  process.env.MCPGW_ADMIN_TEST_TOKEN = 'tok-admin-secret-0987654321';
  faultHttp = await startNetworkServer([faultJs, 'http', '@PORT@']);
  gw = await startGateway({
    extraModules: authModules,
    config: jsonFileConfig(faultHttp.url),
    extraConfig: `
<Location /api/mcp>
    SetHandler mcp-gateway-admin
    AuthType Basic
    AuthName "MCP gateway admin"
    AuthUserFile @ROOT@/htpasswd
    Require user admin
    AuthzSendForbiddenOnFailure On
    MCPGatewayAdminAllowCommand ${nodeBin}
</Location>
<Location /open-admin>
    SetHandler mcp-gateway-admin
</Location>`,
  });
  execFileSync('htpasswd', ['-bc', path.join(gw.root, 'htpasswd'), 'admin', 'adminpw'], { stdio: 'ignore' });
  execFileSync('htpasswd', ['-b', path.join(gw.root, 'htpasswd'), 'bob', 'bobpw'], { stdio: 'ignore' });
  await waitFor(async () => (await toolNames()).includes('remote_echo'), 15000, 'file clients up');
});

after(async () => {
  assert.deepEqual(await gw.stop(), []);
  await faultHttp.stop();
  delete process.env.MCPGW_ADMIN_TEST_TOKEN;
  await waitFor(() => processesWith(marker).length === 0, 5000, 'no upstream survives');
});

describe('who may call it', () => {
  test('anonymous callers are refused where no authentication is configured', async () => {
    const res = await fetch(`http://127.0.0.1:${gw.port}/open-admin/clients`);
    assert.equal(res.status, 403);
    assert.match((await res.json()).error.message, /authenticated user/);
  });
  test('httpd authentication: none 401, a non-admin user 403, admin 200', async () => {
    assert.equal((await api('GET', '/clients', undefined, {})).status, 401);
    assert.equal((await api('GET', '/clients', undefined, { Authorization: basic('bob', 'bobpw') })).status, 403);
    assert.equal((await api('GET', '/clients', undefined, { Authorization: basic('admin', 'wrong') })).status, 401);
    assert.equal((await api('GET', '/clients')).status, 200);
  });
  test('a stdio command that is not allow-listed is refused, and says why', async () => {
    const r = await api('POST', '/client', { name: 'shell', connection_type: 'stdio', stdio_config: { command: '/bin/sh', args: ['-c', 'id'] } });
    assert.equal(r.status, 403);
    assert.match(r.json.error.message, /MCPGatewayAdminAllowCommand/);
  });
});

describe('validation', () => {
  for (const [name, message] of [['my-tools', 'Invalid client name: name cannot contain hyphens'],
                                 ['web search', 'Invalid client name: name cannot contain spaces'],
                                 ['123tools', 'Invalid client name: name cannot start with a number']]) {
    test(`name "${name}" -> 400 "${message}"`, async () => {
      const r = await api('POST', '/client', { ...stdioClient('x'), name });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, { is_bifrost_error: false, status_code: 400, error: { message }, extra_fields: {} });
    });
  }
  test('a duplicate name is refused', async () => {
    const r = await api('POST', '/client', { ...stdioClient('x'), name: 'fromfile' });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /already exists/);
  });
  test('unknown ids get 404', async () => {
    assert.equal((await api('PUT', '/client/nope', stdioClient('nope'))).status, 404);
    assert.equal((await api('DELETE', '/client/nope')).status, 404);
    assert.equal((await api('POST', '/client/nope/reconnect')).status, 404);
  });
  test('a stdio client that exits at once is refused and the engine carries on', async () => {
    const r = await api('POST', '/client', { name: 'dies', connection_type: 'stdio',
                                             stdio_config: { command: nodeBin, args: ['-e', 'process.exit(1)'] } });
    assert.equal(r.status, 502);
    // Work that follows must find the engine intact (this once crashed it).
    for (let i = 0; i < 3; i++) assert.equal((await api('GET', '/clients')).status, 200);
    assert.ok(!(await api('GET', '/clients')).json.some((c) => c.config.name === 'dies'));
    assert.doesNotMatch(gw.errorLog(), /engine \(pid \d+\) died/);
  });

  test('removing or reconnecting a client while it is still being added', async () => {
    const silent = (name) => ({ name, connection_type: 'stdio',
                                stdio_config: { command: nodeBin, args: ['-e', `setTimeout(() => {}, 20000) // ${marker}${name}`] } });
    // DELETE while the POST waits: the POST hears of it, nothing is left, the engine lives.
    let pending = api('POST', '/client', silent('slowpoke'));
    await sleep(500);
    assert.equal((await api('DELETE', '/client/slowpoke')).status, 200);
    let r = await pending;
    assert.equal(r.status, 502);
    assert.match(r.json.error.message, /removed/);
    // Reconnect while the POST waits: the add fails and is cleaned up, nothing restarts.
    pending = api('POST', '/client', silent('slowpoke2'));
    await sleep(500);
    await api('POST', '/client/slowpoke2/reconnect');
    r = await pending;
    assert.equal(r.status, 502);
    await sleep(500);
    const names = (await api('GET', '/clients')).json.map((c) => c.config.name);
    assert.ok(!names.includes('slowpoke') && !names.includes('slowpoke2'));
    assert.deepEqual(processesWith(marker + 'slowpoke'), [], 'no process of a removed client survives');
    assert.doesNotMatch(gw.errorLog(), /engine \(pid \d+\) died/);
  });

  test('a client that cannot connect gets an error and leaves nothing behind', async () => {
    const r = await api('POST', '/client', { name: 'unreachable', connection_type: 'http', connection_string: 'http://127.0.0.1:9/mcp' });
    assert.equal(r.status, 502);
    const list = await api('GET', '/clients');
    assert.ok(!list.json.some((c) => c.config.name === 'unreachable'));
  });
});

describe('changes, persistence and coherence', () => {
  let id;
  test('POST adds a client: connected, its tools on /mcp at once, through every child', async () => {
    const r = await api('POST', '/client', stdioClient('added'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'success', message: 'MCP client connected successfully' });
    const list = await api('GET', '/clients');
    const c = list.json.find((x) => x.config.name === 'added');
    assert.equal(c.state, 'connected');
    assert.match(c.config.client_id, /^[0-9a-f-]{36}$/);
    assert.ok(c.tools.some((t) => t.name === 'echo'));
    id = c.config.client_id;
    // Twenty fresh connections spread over the children: all see the new tool.
    const seen = await Promise.all(Array.from({ length: 20 }, () => new Promise((resolve) => {
      const req = http.request(gw.url, { method: 'POST', agent: false, headers: {
        'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Connection: 'close',
        'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/list' } }, (res) => {
        let d = ''; res.on('data', (c) => (d += c)); res.on('end', () => resolve(d.includes('added_echo')));
      });
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }));
    })));
    assert.ok(seen.every(Boolean));
  });

  test('PUT of the tool lists does not reconnect, and GET streams hear list_changed', async () => {
    const pids = processesWith(marker + 'added');
    const ctrl = new AbortController();
    const res = await fetch(gw.url, { headers: { Accept: 'text/event-stream' }, signal: ctrl.signal });
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    while (!buf.includes('connection/opened')) buf += dec.decode((await reader.read()).value);
    const r = await api('PUT', `/client/${id}`, { ...stdioClient('added'), tools_to_execute: ['echo', 'rich'] });
    assert.equal(r.status, 200);
    while (!buf.includes('tools/list_changed')) buf += dec.decode((await reader.read()).value);
    ctrl.abort();
    assert.deepEqual(processesWith(marker + 'added'), pids, 'no reconnect for a tool list change');
    assert.ok((await toolNames()).includes('added_rich'));
  });

  test('PUT of the connection reconnects', async () => {
    const pids = processesWith(marker + 'added');
    const changed = stdioClient('added');
    changed.stdio_config.args = [...changed.stdio_config.args, '--garbage'];
    const r = await api('PUT', `/client/${id}`, changed);
    assert.equal(r.status, 200);
    await waitFor(() => processesWith(marker + 'added').length && !processesWith(marker + 'added').includes(pids[0]), 5000, 'new process');
  });

  test('changes survive engine death, graceful restart and stop/start; written 0600; the JSON file untouched', async () => {
    const jsonPath = path.join(gw.root, 'gateway.json');
    const hash = () => crypto.createHash('sha256').update(fs.readFileSync(jsonPath)).digest('hex');
    const before = hash();
    assert.equal((await api('DELETE', `/client/${(await api('GET', '/clients')).json.find((c) => c.config.name === 'fromfile').config.client_id}`)).status, 200);
    const statePath = path.join(gw.root, 'state/clients.json');
    assert.equal(fs.statSync(statePath).mode & 0o777, 0o600);
    const expectState = async () => {
      const names = (await api('GET', '/clients')).json.map((c) => c.config.name);
      return names.includes('added') && !names.includes('fromfile');
    };
    process.kill(gw.enginePid(), 'SIGKILL');
    await waitFor(async () => { try { return await expectState(); } catch { return false; } }, 8000, 'state after engine death');
    await gw.graceful();
    await waitFor(expectState, 8000, 'state after graceful');
    gw.httpd('-k', 'stop');
    await waitFor(() => !gw.parentPid() || !fs.existsSync(path.join(gw.root, 'httpd.pid')), 10000, 'stopped');
    await sleep(500);
    assert.equal(gw.httpd('-k', 'start').status, 0);
    await waitFor(async () => { try { return await expectState(); } catch { return false; } }, 10000, 'state after stop/start');
    assert.equal(hash(), before, 'the operator\'s JSON file must never be rewritten');
  });

  test('secrets are redacted in every response and never logged', async () => {
    const list = await api('GET', '/clients');
    const text = JSON.stringify(list.json);
    assert.doesNotMatch(text, /tok-admin-secret-0987654321/);
    assert.doesNotMatch(text, /plainvalue-1234567890/);
    assert.doesNotMatch(text, /abcdefghijklmnopqrstuvwxyz/);
    const remote = list.json.find((c) => c.config.name === 'remote');
    assert.deepEqual(remote.config.headers['X-Api-Token'],
                     { value: 'tok-************************4321', env_var: 'MCPGW_ADMIN_TEST_TOKEN', from_env: true });
    assert.equal(remote.config.headers['X-Plain'], 'plai************************7890');
    const added = list.json.find((c) => c.config.name === 'added');
    assert.ok(added.config.stdio_config.envs.includes('SECRET_TOKEN=abcd************************wxyz'));
    for (const s of ['tok-admin-secret-0987654321', 'plainvalue-1234567890', 'abcdefghijklmnopqrstuvwxyz', 'adminpw'])
      assert.ok(!gw.errorLog().includes(s) && !gw.accessLog().includes(s), `${s} leaked into a log`);
  });

  test('a corrupt state file is a clear startup error', async () => {
    const statePath = path.join(gw.root, 'state/clients.json');
    const good = fs.readFileSync(statePath);
    gw.httpd('-k', 'stop');
    await waitFor(() => !fs.existsSync(path.join(gw.root, 'httpd.pid')), 10000, 'stopped');
    await sleep(500);
    fs.writeFileSync(statePath, '{"clients": [tru');
    const r = gw.httpd('-k', 'start');
    await sleep(1000);
    assert.match(gw.errorLog(), /state file .*clients\.json is corrupt/);
    assert.ok(!fs.existsSync(path.join(gw.root, 'httpd.pid')) || r.status !== 0, 'httpd must not run over a corrupt state');
    fs.writeFileSync(statePath, good);
    fs.chownSync(statePath, 33, 33);
    assert.equal(gw.httpd('-k', 'start').status, 0);
    await waitFor(async () => { try { return (await api('GET', '/clients')).status === 200; } catch { return false; } }, 10000, 'restarted');
  });
});

describe('health monitoring', () => {
  test('a killed stdio upstream turns disconnected, its tools leave, reconnect brings them back', async () => {
    const id = (await api('GET', '/clients')).json.find((c) => c.config.name === 'added').config.client_id;
    await waitFor(async () => (await toolNames()).includes('added_echo'), 10000, 'added up');
    for (const pid of processesWith(marker + 'added')) process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await api('GET', '/clients')).json.find((c) => c.config.name === 'added').state === 'disconnected', 5000, 'disconnected');
    assert.ok(!(await toolNames()).includes('added_echo'));
    const { sessionId } = await initialize(gw.url);
    const call = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'added_echo', arguments: { text: 'x' } } }, { 'Mcp-Session-Id': sessionId });
    assert.equal(call.json.error.code, -32602, 'a call to a disconnected client\'s tool is refused clearly');
    const r = await api('POST', `/client/${id}/reconnect`);
    assert.deepEqual(r.json, { status: 'success', message: 'MCP client reconnected successfully' });
    assert.ok((await toolNames()).includes('added_echo'));
  });

  test('an HTTP upstream that stops answering is disconnected after the configured failures', async () => {
    const id = (await api('GET', '/clients')).json.find((c) => c.config.name === 'remote').config.client_id;
    process.kill(faultHttp.pid, 'SIGSTOP');
    try {
      await waitFor(async () => (await api('GET', '/clients')).json.find((c) => c.config.name === 'remote').state === 'disconnected', 8000, 'remote disconnected');
      assert.match(gw.errorLog(), /upstream remote: health check failed \(2 of 2\)/);
      assert.ok(!(await toolNames()).includes('remote_echo'));
    } finally {
      process.kill(faultHttp.pid, 'SIGCONT');
    }
    const r = await api('POST', `/client/${id}/reconnect`);
    assert.equal(r.status, 200);
    assert.ok((await toolNames()).includes('remote_echo'));
  });
});
