// Upstream MCP servers behind the gateway: the reference servers over all three
// transports, plus our fault server for what they never do.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { initialize, rpc, sleep, startGateway } from '../lib/gateway.mjs';
import { everythingJs, faultJs, filesystemJs, memoryJs, nodeBin, startNetworkServer } from '../lib/servers.mjs';

let gw, evHttp, evSse, faultHttp, streamHttp, client, fsDir, memFile, recordFile, httpRecord, streamRecord;

const stdio = (name, args, extra = {}) => ({
  name, connection_type: 'stdio', stdio_config: { command: nodeBin, args, envs: ['PATH'] },
  tools_to_execute: ['*'], ...extra,
});

before(async () => {
  fsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpgw-fs-'));
  fs.writeFileSync(path.join(fsDir, 'hello.txt'), 'hello from the filesystem server');
  fs.chmodSync(fsDir, 0o777);
  memFile = path.join(fsDir, 'memory.jsonl');
  recordFile = path.join(fsDir, 'record.jsonl');
  httpRecord = path.join(fsDir, 'http-record.jsonl');
  fs.writeFileSync(recordFile, '');
  fs.writeFileSync(httpRecord, '');
  fs.chmodSync(recordFile, 0o666);
  evHttp = await startNetworkServer([everythingJs, 'streamableHttp']);
  evSse = await startNetworkServer([everythingJs, 'sse'], { urlPath: '/sse' });
  faultHttp = await startNetworkServer([faultJs, 'http', '@PORT@', '--forget-session-after', '2', '--record', httpRecord]);
  streamRecord = path.join(fsDir, 'stream-record.jsonl');
  fs.writeFileSync(streamRecord, '');
  streamHttp = await startNetworkServer([faultJs, 'http', '@PORT@', '--get-stream', '--record', streamRecord]);
  gw = await startGateway({
    config: {
      mcp: {
        client_configs: [
          stdio('everything', [everythingJs, 'stdio']),
          { name: 'evhttp', connection_type: 'http', connection_string: evHttp.url, tools_to_execute: ['*'] },
          { name: 'evsse', connection_type: 'sse', connection_string: evSse.url, tools_to_execute: ['echo', 'get-sum'] },
          stdio('files', [filesystemJs, fsDir]),
          { ...stdio('memory', [memoryJs]), stdio_config: { command: nodeBin, args: [memoryJs], envs: ['PATH', `MEMORY_FILE_PATH=${memFile}`] } },
          stdio('fault', [faultJs, 'stdio', '--record', recordFile], { tools_to_auto_execute: ['echo'] }),
          stdio('noisy', [faultJs, 'stdio', '--garbage'], { tools_to_execute: ['echo', 'slow'] }),
          { name: 'faulthttp', connection_type: 'http', connection_string: faultHttp.url, tools_to_execute: ['echo'] },
          { name: 'streamy', connection_type: 'http', connection_string: streamHttp.url, tools_to_execute: ['*'] },
          stdio('hidden', [faultJs, 'stdio'], { tools_to_execute: [] }),
          { name: 'broken', connection_type: 'stdio', stdio_config: { command: '/does/not/exist' }, tools_to_execute: ['*'] },
        ],
        tool_manager_config: { tool_execution_timeout: '2s' },
      },
    },
  });
  // Wait until every working upstream has published its tools.
  const deadline = Date.now() + 30000;
  for (;;) {
    const { sessionId } = await initialize(gw.url);
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'Mcp-Session-Id': sessionId });
    const names = r.json.result.tools.map((t) => t.name);
    const want = ['everything_echo', 'evhttp_echo', 'evsse_echo', 'files_read_text_file', 'memory_read_graph',
                  'fault_echo', 'noisy_echo', 'faulthttp_echo', 'streamy_echo'];
    if (want.every((n) => names.includes(n))) break;
    if (Date.now() > deadline) throw new Error(`upstreams not ready: ${names.join(' ')}\n${gw.errorLog()}`);
    await sleep(200);
  }
  client = new Client({ name: 'upstream-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gw.url)));
});

after(async () => {
  await client?.close();
  const left = await gw.stop();
  await Promise.all([evHttp?.stop(), evSse?.stop(), faultHttp?.stop(), streamHttp?.stop()]);
  assert.deepEqual(left, []);
  // No upstream process may outlive the gateway.
  await sleep(300);
  const survivors = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(fsDir); } catch { return false; }
  });
  assert.deepEqual(survivors, [], 'stdio upstreams survived httpd stop');
});

const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('');

describe('reference servers through the gateway (official SDK client)', () => {
  test('lists the tools of every transport, names prefixed, definitions passed through', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of ['everything_echo', 'everything_get-sum', 'evhttp_echo', 'evhttp_get-sum', 'evsse_echo',
                     'evsse_get-sum', 'files_read_text_file', 'files_list_directory', 'memory_create_entities'])
      assert.ok(names.includes(n), `${n} missing`);
    assert.ok(!names.includes('evsse_get-tiny-image'), 'tools_to_execute list must filter');
    assert.ok(!names.some((n) => n.startsWith('hidden_')), 'tools_to_execute [] must hide all');
    assert.ok(!names.some((n) => n.startsWith('broken_')));
    const echo = tools.find((t) => t.name === 'fault_echo');
    assert.equal(echo.title, 'Echo');
    assert.deepEqual(echo.annotations, { readOnlyHint: true });
    assert.deepEqual(echo._meta, { 'example.com/kind': 'test' });
    assert.ok(tools.find((t) => t.name === 'fault_rich').outputSchema, 'outputSchema passed through');
    assert.ok(names.includes('fault_rich'), 'second page (nextCursor) followed');
  });

  for (const c of ['everything', 'evhttp', 'evsse']) {
    test(`${c}: echo and get-sum`, async () => {
      let r = await client.callTool({ name: `${c}_echo`, arguments: { message: `hi ${c}` } });
      assert.equal(text(r), `Echo: hi ${c}`);
      r = await client.callTool({ name: `${c}_get-sum`, arguments: { a: 2, b: 40 } });
      assert.match(text(r), /42/);
    });
  }

  test('filesystem: read a file', async () => {
    const r = await client.callTool({ name: 'files_read_text_file', arguments: { path: path.join(fsDir, 'hello.txt') } });
    assert.equal(text(r), 'hello from the filesystem server');
  });

  test('memory: create and read back an entity', async () => {
    await client.callTool({ name: 'memory_create_entities', arguments: { entities: [{ name: 'gw', entityType: 'test', observations: ['works'] }] } });
    const r = await client.callTool({ name: 'memory_read_graph', arguments: {} });
    assert.match(text(r) || JSON.stringify(r.structuredContent), /works/);
  });

  test('every content type, structuredContent and isError pass unchanged', async () => {
    const r = await client.callTool({ name: 'fault_rich', arguments: {} });
    assert.deepEqual(r.content.map((c) => c.type), ['text', 'image', 'audio', 'resource', 'resource_link']);
    assert.deepEqual(r.structuredContent, { n: 42 });
    assert.equal(r.isError, false);
  });

  test('progress notifications reach a caller that sent a progressToken', async () => {
    const seen = [];
    const r = await client.callTool({ name: 'everything_trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
                                    undefined, { onprogress: (p) => seen.push(p.progress) });
    assert.match(text(r), /completed/);
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test('a 12 MB tool result arrives whole', async () => {
    const r = await client.callTool({ name: 'fault_big', arguments: { bytes: 12 * 1024 * 1024 } });
    assert.equal(text(r).length, 12 * 1024 * 1024);
  });

  test('200 concurrent calls through one stdio upstream are all answered correctly', async () => {
    const calls = Array.from({ length: 200 }, (_, i) => client.callTool({ name: 'fault_echo', arguments: { text: `n${i}` } }));
    const results = await Promise.all(calls);
    results.forEach((r, i) => assert.equal(text(r), `echo:n${i}`));
  });
});

describe('faults', () => {
  test('answers out of order are matched to their calls', async () => {
    const r = await Promise.all([
      client.callTool({ name: 'noisy_slow', arguments: { ms: 400, text: 'first' } }),
      client.callTool({ name: 'noisy_slow', arguments: { ms: 10, text: 'second' } }),
    ]);
    assert.deepEqual(r.map(text), ['slow:first', 'slow:second']);
  });

  test('garbage on stdout is logged and skipped', async () => {
    const r = await client.callTool({ name: 'noisy_echo', arguments: { text: 'through the noise' } });
    assert.equal(text(r), 'echo:through the noise');
    assert.match(gw.errorLog(), /upstream noisy: skipped a line that is not JSON/);
  });

  test('an upstream error becomes an isError result', async () => {
    const r = await client.callTool({ name: 'fault_fail', arguments: {} });
    assert.equal(r.isError, true);
    assert.equal(text(r), 'Tool execution failed: deliberate failure');
  });

  test('a hung call times out with an isError naming the timeout, and is cancelled upstream', async () => {
    const t0 = Date.now();
    const r = await client.callTool({ name: 'fault_hang', arguments: {} });
    assert.ok(Date.now() - t0 >= 1900 && Date.now() - t0 < 4000);
    assert.equal(r.isError, true);
    assert.match(text(r), /timed out after 2000 ms \(tool_execution_timeout\)/);
    await sleep(200);
    assert.match(fs.readFileSync(recordFile, 'utf8'), /notifications\/cancelled/);
  });

  test('a caller that goes away has its call cancelled upstream', async () => {
    fs.writeFileSync(recordFile, '');
    const ctrl = new AbortController();
    const { sessionId } = await initialize(gw.url);
    const p = fetch(gw.url, {
      method: 'POST', signal: ctrl.signal,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'fault_slow', arguments: { ms: 1500 } } }),
    }).catch(() => {});
    await sleep(300);
    ctrl.abort();
    await p;
    await sleep(500);
    assert.match(fs.readFileSync(recordFile, 'utf8'), /notifications\/cancelled.*cancelled by the client/);
  });

  test('a client\'s notifications/cancelled reaches the upstream (SDK AbortSignal)', async () => {
    fs.writeFileSync(recordFile, '');
    const ctrl = new AbortController();
    const call = client.callTool({ name: 'fault_slow', arguments: { ms: 2000, text: 'never' } }, undefined,
                                 { signal: ctrl.signal }).catch((e) => e);
    await sleep(300);
    ctrl.abort('changed my mind');
    assert.ok((await call) instanceof Error);
    await sleep(500);
    const record = fs.readFileSync(recordFile, 'utf8');
    assert.match(record, /notifications\/cancelled/);
    assert.match(gw.errorLog(), /the client cancelled a call to fault/);
    // The session carries on.
    assert.equal(text(await client.callTool({ name: 'fault_echo', arguments: { text: 'after' } })), 'echo:after');
  });

  test('an HTTP server that forgets the session: one re-initialize and one retry', async () => {
    const initializes = () => fs.readFileSync(httpRecord, 'utf8').split('\n').filter((l) => l.includes('"initialize":true')).length;
    const before = initializes();
    for (let i = 0; i < 4; i++) {
      const r = await client.callTool({ name: 'faulthttp_echo', arguments: { text: `h${i}` } });
      assert.equal(text(r), `echo:h${i}`);
    }
    const inits = initializes() - before;
    assert.equal(inits, 1, 'exactly one re-initialize');
  });

  test('a tool list change reaches GET streams and the new tool is listed', async () => {
    const ctrl = new AbortController();
    const res = await fetch(gw.url, { headers: { Accept: 'text/event-stream' }, signal: ctrl.signal });
    const reader = res.body.getReader();
    let buf = '';
    const dec = new TextDecoder();
    while (!buf.includes('connection/opened')) buf += dec.decode((await reader.read()).value);
    await client.callTool({ name: 'fault_add_tool', arguments: { name: 'late_tool' } });
    const deadline = Date.now() + 5000;
    while (!buf.includes('notifications/tools/list_changed') && Date.now() < deadline)
      buf += dec.decode((await reader.read()).value);
    ctrl.abort();
    assert.match(buf, /notifications\/tools\/list_changed/);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'fault_late_tool'));
  });

  test('an HTTP server\'s GET stream is opened, and its list_changed refreshes the tools', async () => {
    await sleep(300);
    assert.match(fs.readFileSync(streamRecord, 'utf8'), /"getStream":true/, 'the gateway opened the GET stream');
    await client.callTool({ name: 'streamy_add_tool', arguments: { name: 'pushed' } });
    const deadline = Date.now() + 5000;
    let names = [];
    while (Date.now() < deadline) {
      names = (await client.listTools()).tools.map((t) => t.name);
      if (names.includes('streamy_pushed')) break;
      await sleep(100);
    }
    assert.ok(names.includes('streamy_pushed'), 'list_changed over the GET stream was followed');
  });

  test('a crashing upstream fails its call and leaves the others serving', async () => {
    const r = await client.callTool({ name: 'fault_crash', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(text(r), /Tool execution failed/);
    await sleep(300);
    const { tools } = await client.listTools();
    assert.ok(!tools.some((t) => t.name.startsWith('fault_')), 'a dead upstream\'s tools leave the list');
    const after = await client.callTool({ name: 'fault_echo', arguments: { text: 'x' } }).catch((e) => e);
    assert.ok(after instanceof Error || after.isError);
    assert.equal(text(await client.callTool({ name: 'everything_echo', arguments: { message: 'still here' } })), 'Echo: still here');
    assert.match(gw.errorLog(), /upstream fault: connected -> disconnected/);
    assert.match(gw.errorLog(), /upstream broken: cannot connect: cannot run \/does\/not\/exist/);
  });
});
