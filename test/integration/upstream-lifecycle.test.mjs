// What happens to upstream processes across restarts and crashes, the configuration's
// validation, the stdio environment rule, and name collisions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initialize, rpc, sleep, startGateway } from '../lib/gateway.mjs';
import { faultJs, nodeBin } from '../lib/servers.mjs';

// Processes whose command line carries this marker (an argument only our test passes).
function processesWith(marker) {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker); } catch { return false; }
  }).map(Number);
}

async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

async function toolNames(gw) {
  const { sessionId } = await initialize(gw.url);
  const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'Mcp-Session-Id': sessionId });
  return r.json.result.tools.map((t) => t.name);
}

// A stdio server started through a shell, so the MCP server is a grandchild of the engine:
// only killing the whole process group gets it.
function shellWrapped(name, marker) {
  return {
    name, connection_type: 'stdio',
    stdio_config: { command: '/bin/sh', args: ['-c', `${nodeBin} ${faultJs} stdio ${marker}; true`], envs: ['PATH'] },
    tools_to_execute: ['*'],
  };
}

test('no upstream process survives graceful restart, engine SIGKILL or stop', async () => {
  const marker = `--marker-${process.pid}-${Date.now()}`;
  const gw = await startGateway({ config: { mcp: { client_configs: [shellWrapped('wrapped', marker)] } } });
  try {
    await waitFor(async () => (await toolNames(gw)).includes('wrapped_echo'), 10000, 'upstream up');
    const first = processesWith(marker);
    assert.ok(first.length >= 2, 'shell and server should both run');

    await gw.graceful();
    await waitFor(async () => first.every((p) => !processesWith(marker).includes(p)), 5000,
                  'old upstream processes gone after graceful');
    await waitFor(async () => (await toolNames(gw)).includes('wrapped_echo'), 10000, 'upstream back after graceful');

    const second = processesWith(marker);
    process.kill(gw.enginePid(), 'SIGKILL');
    await waitFor(async () => second.every((p) => !processesWith(marker).includes(p)), 5000,
                  'upstream processes gone after the engine was killed');
    await waitFor(async () => (await toolNames(gw)).includes('wrapped_echo'), 10000, 'upstream back after engine restart');
  } finally {
    assert.deepEqual(await gw.stop(), []);
  }
  await waitFor(async () => processesWith(marker).length === 0, 5000, 'upstream processes gone after stop');
});

test('stdio servers get exactly the listed environment; an unset name is a connect error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpgw-env-'));
  fs.chmodSync(dir, 0o777);
  const out = path.join(dir, 'env.json');
  const script = path.join(dir, 'dump-env.mjs');
  fs.writeFileSync(script, `import fs from 'node:fs'; fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env)); await import(${JSON.stringify(faultJs)});`);
  process.env.MCPGW_TEST_SECRET = 'sekret-value-123';
  const gw = await startGateway({
    config: { mcp: { client_configs: [
      { name: 'envcheck', connection_type: 'stdio',
        stdio_config: { command: nodeBin, args: [script, 'stdio'], envs: ['PATH', 'EXTRA=1'] }, tools_to_execute: ['*'] },
      { name: 'needsvar', connection_type: 'stdio',
        stdio_config: { command: nodeBin, args: [faultJs, 'stdio'], envs: ['MCPGW_UNSET_VARIABLE'] }, tools_to_execute: ['*'] },
    ] } },
  });
  try {
    await waitFor(() => fs.existsSync(out), 10000, 'env dump');
    await sleep(200);
    const env = JSON.parse(fs.readFileSync(out, 'utf8'));
    // What node itself may add aside, the child sees PATH and EXTRA only.
    assert.equal(env.EXTRA, '1');
    assert.ok(env.PATH);
    assert.equal(env.MCPGW_TEST_SECRET, undefined, 'unlisted variables must not leak to upstreams');
    assert.equal(env.HOME, undefined);
    await waitFor(() => /upstream needsvar: cannot connect: environment variable MCPGW_UNSET_VARIABLE/.test(gw.errorLog()),
                  5000, 'connect error for the unset variable');
    assert.ok((await toolNames(gw)).includes('envcheck_echo'), 'one failing upstream leaves the others serving');
  } finally {
    await gw.stop();
    delete process.env.MCPGW_TEST_SECRET;
  }
});

test('colliding exposed names are reported and never shadowed', async () => {
  const gw = await startGateway({
    config: { mcp: { tool_name_separator: '_', client_configs: [
      { name: 'a', connection_type: 'stdio', stdio_config: { command: nodeBin, args: [faultJs, 'stdio'] }, tools_to_execute: ['*'] },
      // "a" + "_" + "b_echo" ... we make the collision with a client named "a_x" whose tool
      // "echo" would be "a_x_echo", against client "a"'s added tool "x_echo".
      { name: 'a_x', connection_type: 'stdio', stdio_config: { command: nodeBin, args: [faultJs, 'stdio'] }, tools_to_execute: ['*'] },
    ] } },
  });
  try {
    await waitFor(async () => (await toolNames(gw)).includes('a_x_echo'), 10000, 'both up');
    const { sessionId } = await initialize(gw.url);
    await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a_add_tool', arguments: { name: 'x_echo' } } },
              { 'Mcp-Session-Id': sessionId });
    await waitFor(() => /tool name collision: a_x_echo/.test(gw.errorLog()), 5000, 'collision reported');
    const names = await toolNames(gw);
    assert.equal(names.filter((n) => n === 'a_x_echo').length, 1);
  } finally {
    await gw.stop();
  }
});

test('configtest names the file, the JSON path and the problem', async () => {
  const gw = await startGateway();
  try {
    const json = path.join(gw.root, 'gateway.json');
    const cases = [
      [{ mcp: { client_configs: [{ name: 'my-tools', connection_type: 'stdio', stdio_config: { command: 'x' } }] } },
       /\$\.mcp\.client_configs\[0\]\.name: Invalid client name: name cannot contain hyphens/],
      [{ mcp: { client_configs: [{ name: '123tools', connection_type: 'http', connection_string: 'http://x' }] } },
       /Invalid client name: name cannot start with a number/],
      [{ mcp: { client_configs: [{ name: 'web search', connection_type: 'http', connection_string: 'http://x' }] } },
       /Invalid client name: name cannot contain spaces/],
      [{ mcp: { client_configs: [{ name: 'web', connection_type: 'http', connection_string: 'env.MCPGW_NOPE_URL' }] } },
       /client 'web' needs environment variable MCPGW_NOPE_URL, which is not set/],
      [{ mcp: { client_configs: [{ name: 'a', connection_type: 'ftp' }] } }, /connection_type: unknown connection type 'ftp'/],
      [{ mcp: { client_configs: [
        { name: 'a', connection_type: 'http', connection_string: 'http://x' },
        { name: 'a', connection_type: 'http', connection_string: 'http://y' }] } }, /client name 'a' is already used/],
      [{ mcp: { client_configs: [{ name: 'a', connection_type: 'http', connection_string: 'http://x',
        tools_to_execute: ['read'], tools_to_auto_execute: ['write'] }] } }, /tools_to_auto_execute\[0\]: tool 'write' is not in tools_to_execute/],
      [{ mcp: { tool_manager_config: { tool_execution_timeout: 'soon' } } }, /tool_execution_timeout: must be a duration/],
    ];
    for (const [config, pattern] of cases) {
      fs.writeFileSync(json, JSON.stringify(config));
      const r = gw.httpd('-t');
      assert.notEqual(r.status, 0, JSON.stringify(config));
      assert.match(r.stderr, pattern);
      assert.match(r.stderr, /gateway\.json/);
    }
  } finally {
    await gw.stop();
  }
});

test('a secret from env.NAME in a URL or header never reaches the error log', async () => {
  process.env.MCPGW_SECRET_TOKEN = 'tok-very-secret-9876';
  process.env.MCPGW_SECRET_URL = 'http://127.0.0.1:9/secret-path-5555/mcp';
  const gw = await startGateway({
    logLevel: 'debug',
    config: { mcp: { client_configs: [{ name: 'remote', connection_type: 'http', connection_string: 'env.MCPGW_SECRET_URL',
                                        headers: { Authorization: 'env.MCPGW_SECRET_TOKEN' }, tools_to_execute: ['*'] }] } },
  });
  try {
    await waitFor(() => /upstream remote: .*(error|failed)/.test(gw.errorLog()), 15000, 'connect failure logged');
    assert.doesNotMatch(gw.errorLog(), /tok-very-secret-9876/);
    assert.doesNotMatch(gw.errorLog(), /secret-path-5555/);
  } finally {
    await gw.stop();
    delete process.env.MCPGW_SECRET_TOKEN;
    delete process.env.MCPGW_SECRET_URL;
  }
});

test('auto_reconnect brings a dead stdio upstream back with backoff', async () => {
  const marker = `--auto-marker-${process.pid}-${Date.now()}`;
  const gw = await startGateway({ config: { mcp: {
    client_configs: [{ name: 'phoenix', connection_type: 'stdio', stdio_config: { command: nodeBin, args: [faultJs, 'stdio', marker] },
                       tools_to_execute: ['*'] }],
    health_monitor_config: { auto_reconnect: true } } } });
  try {
    await waitFor(async () => (await toolNames(gw)).includes('phoenix_echo'), 10000, 'up');
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    await waitFor(async () => !(await toolNames(gw)).includes('phoenix_echo'), 5000, 'gone');
    await waitFor(async () => (await toolNames(gw)).includes('phoenix_echo'), 10000, 'back by itself');
    assert.match(gw.errorLog(), /reconnecting phoenix \(auto_reconnect\)/);
  } finally {
    await gw.stop();
  }
});

test('a long tool list is paginated with nextCursor and every tool comes back once', async () => {
  const gw = await startGateway({
    directives: 'MCPGatewayToolsPageSize 3',
    config: { mcp: { client_configs: [
      { name: 'many', connection_type: 'stdio', stdio_config: { command: nodeBin, args: [faultJs, 'stdio', '--generated', '10'] },
        tools_to_execute: ['*'] }] } },
  });
  try {
    const { sessionId } = await initialize(gw.url);
    const collect = async () => {
      const names = [];
      let cursor;
      let pages = 0;
      do {
        const r = await rpc(gw.url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: cursor ? { cursor } : {} },
                            { 'Mcp-Session-Id': sessionId });
        names.push(...r.json.result.tools.map((t) => t.name));
        cursor = r.json.result.nextCursor;
        pages++;
      } while (cursor);
      return { names, pages };
    };
    await waitFor(async () => (await collect()).names.length === 10, 10000, 'tools up');
    const { names, pages } = await collect();
    assert.equal(pages, 4);
    assert.deepEqual(names, Array.from({ length: 10 }, (_, i) => `many_t${i}`));
  } finally {
    await gw.stop();
  }
});
