// The official TypeScript SDK clients (v1 and v2) against the gateway.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startGateway } from '../lib/gateway.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { assert.deepEqual(await gw.stop(), []); });

for (const [label, Client, Transport] of [['v1 (@modelcontextprotocol/sdk)', ClientV1, TransportV1],
                                          ['v2 (@modelcontextprotocol/client)', ClientV2, TransportV2]]) {
  test(`SDK ${label}: connect, ping, list, unknown tool, terminate`, async () => {
    const transport = new Transport(new URL(gw.url));
    const client = new Client({ name: 'gateway-test', version: '1.0.0' });
    await client.connect(transport);
    assert.match(transport.sessionId, /^[0-9a-f]{32}$/);
    assert.equal(client.getServerVersion().name, 'mod_mcp_gateway');
    await client.ping();
    const { tools } = await client.listTools();
    assert.deepEqual(tools, []);
    await assert.rejects(client.callTool({ name: 'missing_tool', arguments: {} }), /missing_tool|-32602/);
    await transport.terminateSession();
    await client.close();
  });
}
