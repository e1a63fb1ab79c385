// The /mcp endpoint over raw HTTP: every error the transport and JSON-RPC define.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import http from 'node:http';
import { initialize, rpc, startGateway } from '../lib/gateway.mjs';

let gw;
before(async () => {
  gw = await startGateway({
    location: '    MCPGatewayMaxBodySize 65536\n    MCPGatewayKeepAliveInterval 1',
  });
});
after(async () => {
  assert.deepEqual(await gw.stop(), [], 'processes left behind after stop');
  assert.doesNotMatch(gw.errorLog(), /Segmentation fault|AH00052/);
});

async function session(version = '2025-11-25') {
  const r = await initialize(gw.url, version);
  assert.equal(r.status, 200);
  assert.match(r.sessionId, /^[0-9a-f]{32}$/);
  return r.sessionId;
}

describe('initialize and version negotiation', () => {
  for (const v of ['2025-03-26', '2025-06-18', '2025-11-25', '2024-11-05']) {
    test(`a client asking for ${v} gets ${v}`, async () => {
      const r = await initialize(gw.url, v);
      assert.equal(r.json.result.protocolVersion, v);
      assert.equal(r.json.result.serverInfo.name, 'mod_mcp_gateway');
      assert.deepEqual(r.json.result.capabilities.tools, { listChanged: true });
    });
  }
  test('an unknown version is answered with the newest we speak', async () => {
    const r = await initialize(gw.url, '2099-01-01');
    assert.equal(r.json.result.protocolVersion, '2025-11-25');
  });
  test('session ids differ and are 128-bit hex', async () => {
    const ids = new Set();
    for (let i = 0; i < 20; i++) ids.add(await session());
    assert.equal(ids.size, 20);
  });
});

describe('JSON-RPC errors', () => {
  test('-32700 for a body that is not JSON', async () => {
    const sid = await session();
    const r = await rpc(gw.url, '{"jsonrpc":', { 'Mcp-Session-Id': sid });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32700);
    assert.equal(r.json.id, null);
  });
  test('-32600 for an invalid request', async () => {
    const sid = await session();
    for (const body of ['{"jsonrpc":"2.0","id":1}', '{"jsonrpc":"1.0","id":1,"method":"ping"}',
                        '{"jsonrpc":"2.0","id":1,"method":42}', '"just a string"']) {
      const r = await rpc(gw.url, body, { 'Mcp-Session-Id': sid });
      assert.equal(r.status, 400, body);
      assert.equal(r.json.error.code, -32600, body);
    }
  });
  test('-32601 for an unknown method, echoing the id', async () => {
    const sid = await session();
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 'abc', method: 'no/such' }, { 'Mcp-Session-Id': sid });
    assert.equal(r.status, 200);
    assert.equal(r.json.error.code, -32601);
    assert.equal(r.json.id, 'abc');
  });
  test('-32602 for bad params and for an unknown tool', async () => {
    const sid = await session();
    let r = await rpc(gw.url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { arguments: {} } },
                      { 'Mcp-Session-Id': sid });
    assert.equal(r.json.error.code, -32602);
    r = await rpc(gw.url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'nope_tool' } },
                  { 'Mcp-Session-Id': sid });
    assert.equal(r.json.error.code, -32602);
    assert.match(r.json.error.message, /nope_tool/);
    r = await rpc(gw.url, { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { cursor: 'bogus' } },
                  { 'Mcp-Session-Id': sid });
    assert.equal(r.json.error.code, -32602);
  });
  test('notifications and responses get 202 with no body', async () => {
    const sid = await session();
    let r = await rpc(gw.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'Mcp-Session-Id': sid });
    assert.equal(r.status, 202);
    assert.equal(r.text, '');
    r = await rpc(gw.url, { jsonrpc: '2.0', id: 99, result: {} }, { 'Mcp-Session-Id': sid });
    assert.equal(r.status, 202);
  });
  test('batches work in 2025-03-26 and are refused later', async () => {
    const sid = await session('2025-03-26');
    const batch = [{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' }];
    let r = await rpc(gw.url, batch, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-03-26' });
    assert.equal(r.status, 200);
    assert.equal(r.json.length, 2);
    assert.deepEqual(r.json.map((m) => m.id), [1, 2]);
    r = await rpc(gw.url, batch, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-06-18' });
    assert.equal(r.status, 400);
  });
  test('ping and an empty tools/list', async () => {
    const sid = await session();
    let r = await rpc(gw.url, { jsonrpc: '2.0', id: 5, method: 'ping' }, { 'Mcp-Session-Id': sid });
    assert.deepEqual(r.json, { jsonrpc: '2.0', id: 5, result: {} });
    r = await rpc(gw.url, { jsonrpc: '2.0', id: 6, method: 'tools/list' }, { 'Mcp-Session-Id': sid });
    assert.deepEqual(r.json.result, { tools: [] });
  });
});

describe('sessions and headers', () => {
  test('a request without a session id gets 400, an unknown one 404', async () => {
    let r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.equal(r.status, 400);
    r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'Mcp-Session-Id': 'f'.repeat(32) });
    assert.equal(r.status, 404);
    r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'Mcp-Session-Id': 'not-even-hex' });
    assert.equal(r.status, 404);
  });
  test('DELETE ends the session', async () => {
    const sid = await session();
    let res = await fetch(gw.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': sid } });
    assert.equal(res.status, 200);
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'Mcp-Session-Id': sid });
    assert.equal(r.status, 404);
    res = await fetch(gw.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': sid } });
    assert.equal(res.status, 404);
    res = await fetch(gw.url, { method: 'DELETE' });
    assert.equal(res.status, 400);
  });
  test('an unsupported MCP-Protocol-Version gets 400', async () => {
    const sid = await session();
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' },
                        { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '1999-01-01' });
    assert.equal(r.status, 400);
  });
  test('Accept and Content-Type are checked', async () => {
    const sid = await session();
    let r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' },
                      { 'Mcp-Session-Id': sid, Accept: 'application/json' });
    assert.equal(r.status, 406);
    r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'ping' },
                  { 'Mcp-Session-Id': sid, 'Content-Type': 'text/plain' });
    assert.equal(r.status, 415);
    const res = await fetch(gw.url, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 406);
  });
  test('a foreign Origin gets 403, a local one passes', async () => {
    let r = await initialize(gw.url, '2025-11-25', { Origin: 'http://evil.example.com' });
    assert.equal(r.status, 403);
    r = await initialize(gw.url, '2025-11-25', { Origin: `http://localhost:${gw.port}` });
    assert.equal(r.status, 200);
  });
  test('other methods get 405 with Allow', async () => {
    const res = await fetch(gw.url, { method: 'PUT', body: '{}' });
    assert.equal(res.status, 405);
    assert.match(res.headers.get('allow'), /POST/);
  });
});

describe('body limit', () => {
  test('a declared length over the limit gets 413 at once', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(70000) } });
    const r = await rpc(gw.url, big);
    assert.equal(r.status, 413);
  });
  test('a chunked body is cut off at the limit without being read to the end', async () => {
    const status = await new Promise((resolve, reject) => {
      const req = http.request(gw.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
                   'Transfer-Encoding': 'chunked' },
      }, (res) => { res.resume(); resolve(res.statusCode); });
      req.on('error', reject);
      // 128 KiB in chunks, but never end(): a server that read to the end would hang.
      req.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
      for (let i = 0; i < 128; i++) req.write('y'.repeat(1024));
    });
    assert.equal(status, 413);
  });
});

describe('GET stream', () => {
  async function openStream(headers = {}) {
    const ctrl = new AbortController();
    const res = await fetch(gw.url, { headers: { Accept: 'text/event-stream', ...headers }, signal: ctrl.signal });
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    return {
      res,
      async readUntil(pred, ms = 5000) {
        const deadline = Date.now() + ms;
        while (!pred(buf)) {
          if (Date.now() > deadline) throw new Error(`stream stalled with: ${JSON.stringify(buf)}`);
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
        }
        return buf;
      },
      close() { ctrl.abort(); },
    };
  }

  test('first event is connection/opened, then keep-alive comments, even with gzip accepted', async () => {
    const s = await openStream({ 'Accept-Encoding': 'gzip, deflate' });
    assert.equal(s.res.status, 200);
    assert.match(s.res.headers.get('content-type'), /text\/event-stream/);
    assert.equal(s.res.headers.get('content-encoding'), null);
    const first = await s.readUntil((b) => b.includes('\n\n'), 2000);
    assert.equal(first.split('\n\n')[0], 'data: {"jsonrpc":"2.0","method":"connection/opened"}');
    await s.readUntil((b) => b.includes(': heartbeat'), 4000);
    s.close();
  });
  test('a stream bound to a session ends when the session is deleted', async () => {
    const sid = await session();
    const s = await openStream({ 'Mcp-Session-Id': sid });
    await s.readUntil((b) => b.includes('connection/opened'));
    await fetch(gw.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': sid } });
    await s.readUntil(() => false, 3000).catch((e) => { throw e; }).then(() => {});
  });
  test('GET with an unknown session gets 404', async () => {
    const res = await fetch(gw.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': 'a'.repeat(32) } });
    assert.equal(res.status, 404);
  });
  test('a client that leaves frees its stream (100 open and close)', async () => {
    for (let i = 0; i < 100; i++) {
      const s = await openStream();
      await s.readUntil((b) => b.includes('connection/opened'));
      s.close();
    }
    const r = await initialize(gw.url);
    assert.equal(r.status, 200);
  });
});

describe('the stateless 2026-07-28 revision', () => {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
                 'io.modelcontextprotocol/clientCapabilities': {} };
  const headers = (method, name) => ({ 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method,
                                       ...(name ? { 'Mcp-Name': name } : {}) });
  test('server/discover without a session', async () => {
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } },
                        headers('server/discover'));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('mcp-session-id'), null);
    assert.equal(r.json.result.resultType, 'complete');
    assert.ok(r.json.result.supportedVersions.includes('2026-07-28'));
    assert.equal(r.json.result._meta['io.modelcontextprotocol/serverInfo'].name, 'mod_mcp_gateway');
  });
  test('tools/list with caching hints', async () => {
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta } },
                        headers('tools/list'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.result.tools, []);
    assert.equal(typeof r.json.result.ttlMs, 'number');
  });
  test('Mcp-Method must match the body: 400 with -32020 and the request id', async () => {
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: meta } },
                        headers('server/discover'));
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32020);
    assert.equal(r.json.id, 7);
  });
  test('missing _meta: 400 with -32602', async () => {
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 8, method: 'tools/list' }, headers('tools/list'));
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32602);
  });
  test('unsupported version: 400 with -32022 listing what we speak', async () => {
    const m = { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 9, method: 'tools/list', params: { _meta: m } },
                        { ...headers('tools/list'), 'MCP-Protocol-Version': '2099-01-01' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32022);
    assert.equal(r.json.error.data.requested, '2099-01-01');
  });
  test('removed methods get 404 with -32601', async () => {
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 10, method: 'ping', params: { _meta: meta } }, headers('ping'));
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, -32601);
  });
});
