// Every MPM: the SDK client works, and many requests with Connection: close spread over
// several child processes share one session (sessions live in the engine).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { initialize, startGateway } from '../lib/gateway.mjs';

function postClose(url, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
                 Connection: 'close', ...headers },
    }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

for (const mpm of ['event', 'worker', 'prefork']) {
  test(`${mpm} MPM: SDK client, and one session served by several children`, async () => {
    const gw = await startGateway({
      mpm,
      // Which child served each request, to prove the session crossed children.
      extraConfig: 'LogFormat "%P %>s %{Mcp-Session-Id}i" pidlog\nCustomLog "@ROOT@/pids.log" pidlog',
    });
    try {
      const client = new Client({ name: 'mpm-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(gw.url)));
      assert.deepEqual((await client.listTools()).tools, []);
      await client.close();

      const { sessionId } = await initialize(gw.url);
      const replies = await Promise.all(Array.from({ length: 60 }, (_, i) =>
        postClose(gw.url, { jsonrpc: '2.0', id: i, method: 'ping' }, { 'Mcp-Session-Id': sessionId })));
      for (const r of replies) assert.equal(r.status, 200);
      const log = fs.readFileSync(path.join(gw.root, 'pids.log'), 'utf8');
      const servedBy = new Set(log.split('\n').filter((l) => l.endsWith(` 200 ${sessionId}`))
                                  .map((l) => l.split(' ')[0]));
      assert.ok(servedBy.size >= 2, `one session should cross children; served by ${[...servedBy]}`);
    } finally {
      assert.deepEqual(await gw.stop(), []);
    }
  });
}
