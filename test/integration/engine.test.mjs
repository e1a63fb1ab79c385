// The engine process: respawned after SIGKILL, 503 while it is away, nothing left behind
// by graceful restart or stop, configtest catches a bad JSON file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { initialize, sleep, startGateway } from '../lib/gateway.mjs';

test('SIGKILLed engine is back within 2 s; requests meanwhile get 503 + Retry-After or succeed', async () => {
  const gw = await startGateway({ directives: 'MCPGatewayEngineTimeout 300' });
  try {
    const old = gw.enginePid();
    assert.ok(old);
    process.kill(old, 'SIGKILL');
    const killedAt = Date.now();
    let back = 0;
    const statuses = new Set();
    while (Date.now() - killedAt < 5000) {
      const r = await initialize(gw.url);
      statuses.add(r.status);
      if (r.status === 503) assert.ok(r.headers.get('retry-after'));
      else assert.equal(r.status, 200);
      const pid = gw.enginePid();
      if (r.status === 200 && pid && pid !== old) { back = Date.now() - killedAt; break; }
      await sleep(50);
    }
    assert.ok(back > 0, `engine did not come back (saw ${[...statuses]})`);
    assert.ok(back <= 2500, `engine took ${back} ms to come back`);
    assert.match(gw.errorLog(), /engine \(pid \d+\) died/);
  } finally {
    assert.deepEqual(await gw.stop(), []);
  }
});

test('graceful restart replaces the engine and leaves no stray one', async () => {
  const gw = await startGateway();
  try {
    const first = gw.enginePid();
    await gw.graceful();
    const second = gw.enginePid();
    assert.notEqual(first, second);
    assert.throws(() => process.kill(first, 0), 'old engine still alive');
    const r = await initialize(gw.url);
    assert.equal(r.status, 200);
  } finally {
    assert.deepEqual(await gw.stop(), [], 'stop left processes behind');
  }
});

test('the engine runs as the httpd User, in its own process group', { skip: process.getuid() !== 0 && 'needs root' }, async () => {
  const gw = await startGateway();
  try {
    const status = fs.readFileSync(`/proc/${gw.enginePid()}/status`, 'utf8');
    const uid = Number(status.match(/^Uid:\s+(\d+)/m)[1]);
    assert.equal(uid, 33, 'engine should run as www-data');
    const stat = fs.readFileSync(`/proc/${gw.enginePid()}/stat`, 'utf8').split(') ')[1].split(' ');
    assert.equal(Number(stat[2]), gw.enginePid(), 'engine leads its own process group');
  } finally {
    await gw.stop();
  }
});

test('configtest fails on an invalid gateway JSON file, naming the file', async () => {
  const gw = await startGateway();
  try {
    const json = path.join(gw.root, 'gateway.json');
    fs.writeFileSync(json, '{"mcp": {"client_configs": [}');
    const r = gw.httpd('-t');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /gateway\.json/);
    assert.match(r.stderr, /not valid JSON/);
  } finally {
    await gw.stop();
  }
});
