// Virtual keys: every header, every key state, every filter shape, through the official
// SDK client; enforcement; keys managed through the admin API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { rpc, sleep, startGateway } from '../lib/gateway.mjs';
import { faultJs, nodeBin } from '../lib/servers.mjs';

const KEYS = {
  all: 'vk_all_0123456789abcdef',
  list: 'vk_list_0123456789abcdef',
  none: 'vk_none_0123456789abcdef',
  inactive: 'vk_inactive_0123456789abcdef',
};
const HEADERS = {
  'Authorization: Bearer': (k) => ({ Authorization: `Bearer ${k}` }),
  'X-Api-Key': (k) => ({ 'X-Api-Key': k }),
  'x-bf-virtual-key': (k) => ({ 'x-bf-virtual-key': k }),
  'x-bf-vk': (k) => ({ 'x-bf-vk': k }),
};

const config = (enforce) => ({
  mcp: { client_configs: ['alpha', 'beta'].map((name) => ({
    name, connection_type: 'stdio', stdio_config: { command: nodeBin, args: [faultJs, 'stdio'] }, tools_to_execute: ['*'] })) },
  governance: { virtual_keys: [
    { name: 'all-key', value: KEYS.all, is_active: true,
      mcp_configs: [{ mcp_client_name: 'alpha', tools_to_execute: ['*'] }, { mcp_client_name: 'beta', tools_to_execute: ['*'] }] },
    { name: 'list-key', value: KEYS.list, is_active: true,
      mcp_configs: [{ mcp_client_name: 'alpha', tools_to_execute: ['echo', 'add_tool'] }] },
    { name: 'none-key', value: KEYS.none, is_active: true, mcp_configs: [] },
    { name: 'inactive-key', value: KEYS.inactive, is_active: false,
      mcp_configs: [{ mcp_client_name: 'alpha', tools_to_execute: ['*'] }] },
  ] },
  client: { enforce_auth_on_inference: enforce },
});

async function connect(url, headers = {}) {
  const client = new Client({ name: 'keys-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

async function listNames(url, headers) {
  const client = await connect(url, headers);
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await client.close();
  }
}

async function waitReady(url) {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    try {
      const names = await listNames(url, HEADERS['X-Api-Key'](KEYS.all));
      if (names.includes('alpha_echo') && names.includes('beta_echo')) return;
    } catch {}
    await sleep(200);
  }
  throw new Error('upstreams not ready');
}

describe('enforcement off', () => {
  let gw;
  before(async () => {
    gw = await startGateway({ config: config(false) });
    await waitReady(gw.url);
  });
  after(async () => { assert.deepEqual(await gw.stop(), []); });

  test('no key: every tool is visible', async () => {
    const names = await listNames(gw.url);
    assert.ok(names.includes('alpha_echo') && names.includes('beta_rich'));
  });

  for (const [header, make] of Object.entries(HEADERS)) {
    test(`${header}: ["*"] sees all, a list exactly those, no entry none of that client`, async () => {
      const all = await listNames(gw.url, make(KEYS.all));
      assert.equal(all.length, 16);
      assert.deepEqual(await listNames(gw.url, make(KEYS.list)), ['alpha_add_tool', 'alpha_echo']);
      assert.deepEqual(await listNames(gw.url, make(KEYS.none)), []);
    });
    test(`${header}: unknown and inactive keys get the same 401`, async () => {
      const unknown = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25' } },
                                make('vk_who_is_this'));
      const inactive = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25' } },
                                 make(KEYS.inactive));
      assert.equal(unknown.status, 401);
      assert.equal(inactive.status, 401);
      assert.equal(unknown.text, inactive.text, 'the body must not say which');
      assert.match(unknown.headers.get('www-authenticate'), /^Bearer/);
      // And the official SDK client is refused the same way.
      await assert.rejects(listNames(gw.url, make('vk_who_is_this')), /401|Unauthorized/);
      await assert.rejects(listNames(gw.url, make(KEYS.inactive)), /401|Unauthorized/);
    });
  }

  test('a call outside the key\'s set gets the same answer as an unknown tool', async () => {
    const client = await connect(gw.url, HEADERS['x-bf-vk'](KEYS.list));
    try {
      const ok = await client.callTool({ name: 'alpha_echo', arguments: { text: 'k' } });
      assert.equal(ok.content[0].text, 'echo:k');
      const outside = await client.callTool({ name: 'beta_echo', arguments: {} }).catch((e) => e);
      const missing = await client.callTool({ name: 'nope_echo', arguments: {} }).catch((e) => e);
      assert.equal(outside.code, -32602);
      assert.equal(missing.code, -32602);
      assert.equal(outside.message.replace('beta_echo', 'X'), missing.message.replace('nope_echo', 'X'));
    } finally {
      await client.close();
    }
  });

  test('two keys see different lists at the same time', async () => {
    const [a, b] = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      listNames(gw.url, HEADERS['Authorization: Bearer'](i % 2 ? KEYS.list : KEYS.all)))).then((r) => [r[0], r[1]]);
    assert.equal(a.length, 16);
    assert.deepEqual(b, ['alpha_add_tool', 'alpha_echo']);
  });

  test('filtering holds after an upstream\'s tool list changes', async () => {
    const client = await connect(gw.url, HEADERS['X-Api-Key'](KEYS.list));
    await client.callTool({ name: 'alpha_add_tool', arguments: { name: 'late' } });
    await client.close();
    await sleep(500);
    assert.ok((await listNames(gw.url, HEADERS['X-Api-Key'](KEYS.all))).includes('alpha_late'));
    assert.deepEqual(await listNames(gw.url, HEADERS['X-Api-Key'](KEYS.list)), ['alpha_add_tool', 'alpha_echo']);
  });

  test('r->user is the key\'s name; a key never reaches a log', async () => {
    await listNames(gw.url, HEADERS['X-Api-Key'](KEYS.list));
    assert.match(gw.accessLog(), / list-key "POST \/mcp/);
    for (const k of Object.values(KEYS)) {
      assert.ok(!gw.accessLog().includes(k), 'key in the access log');
      assert.ok(!gw.errorLog().includes(k), 'key in the error log');
    }
  });
});

describe('enforcement on', () => {
  let gw;
  before(async () => {
    gw = await startGateway({
      config: config(true),
      extraConfig: `<Location /api/mcp>
    SetHandler mcp-gateway-admin
    MCPGatewayAdminAllowAnonymous On
</Location>`,
    });
    await waitReady(gw.url);
  });
  after(async () => { assert.deepEqual(await gw.stop(), []); });

  test('no key: 401 with WWW-Authenticate: Bearer', async () => {
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25' } });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
    await assert.rejects(listNames(gw.url));
  });

  test('keys through the admin API: shown once, redacted after, hashed at rest, persisted', async () => {
    const api = async (method, p, body) => {
      const res = await fetch(`http://127.0.0.1:${gw.port}/api/mcp${p}`, { method, headers: { 'Content-Type': 'application/json' },
                                                                          body: body && JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    };
    const created = await api('POST', '/key', { name: 'made', mcp_configs: [{ mcp_client_name: 'beta', tools_to_execute: ['echo'] }] });
    assert.equal(created.status, 200);
    const value = created.json.virtual_key.value;
    assert.match(value, /^vk_[0-9a-f]{64}$/);
    assert.deepEqual(await listNames(gw.url, { 'X-Api-Key': value }), ['beta_echo']);
    const listed = await api('GET', '/keys');
    assert.equal(listed.json.find((k) => k.name === 'made').value, `${value.slice(0, 4)}${'*'.repeat(24)}${value.slice(-4)}`);
    assert.ok(!JSON.stringify(listed.json).includes(KEYS.all));
    const state = fs.readFileSync(path.join(gw.root, 'state/clients.json'), 'utf8');
    assert.ok(!state.includes(value), 'the state file holds the hash, not the key');
    assert.ok(state.includes('value_sha256'));

    await gw.graceful();
    await waitReady(gw.url);
    assert.deepEqual(await listNames(gw.url, { 'X-Api-Key': value }), ['beta_echo'], 'persisted across restart');

    assert.equal((await api('PUT', '/key/made', { is_active: false })).status, 200);
    await assert.rejects(listNames(gw.url, { 'X-Api-Key': value }), /401|Unauthorized/);
    assert.equal((await api('PUT', '/key/made', { is_active: true, mcp_configs: [{ mcp_client_name: 'alpha', tools_to_execute: ['*'] }] })).status, 200);
    assert.equal((await listNames(gw.url, { "X-Api-Key": value })).length, 8);
    assert.equal((await api('DELETE', '/key/made')).status, 200);
    await assert.rejects(listNames(gw.url, { 'X-Api-Key': value }));
    assert.equal((await api('DELETE', '/key/made')).status, 404);
    assert.ok(!gw.errorLog().includes(value) && !gw.accessLog().includes(value));
  });
});
