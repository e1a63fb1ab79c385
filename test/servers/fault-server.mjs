#!/usr/bin/env node
// A small MCP server for the faults the reference servers never produce. Speaks raw
// JSON-RPC so it can misbehave on purpose.
//
//   node fault-server.mjs stdio [--garbage] [--record FILE]
//   node fault-server.mjs http PORT [--forget-session-after N] [--get-stream] [--record FILE]
//
// Tools:
//   echo {text}            answers "echo:<text>"
//   crash                  exits the process mid-call
//   hang                   never answers
//   slow {ms, text}        answers after ms (calls finish out of order)
//   add_tool {name}        adds a tool and sends notifications/tools/list_changed
//   fail                   answers a JSON-RPC error
//   big {bytes}            answers a text of that many bytes
//   rich                   answers every content type plus structuredContent
// --garbage prints non-JSON lines and invalid JSON-RPC around every answer.
// --get-stream (http) offers the GET event stream and sends list_changed over it.
// --generated N serves only N generated tools t0..t(N-1) (each echoes), for scale tests.
// --record appends every notification it receives (e.g. notifications/cancelled) to FILE.
import fs from 'node:fs';
import http from 'node:http';
import readline from 'node:readline';

const [mode, ...rest] = process.argv.slice(2);
const flag = (name) => rest.includes(name);
const option = (name) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : undefined; };
const record = option('--record');
const garbage = flag('--garbage');

const tools = [
  { name: 'echo', description: 'Echoes text', inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
    annotations: { readOnlyHint: true }, _meta: { 'example.com/kind': 'test' }, title: 'Echo' },
  { name: 'crash', description: 'Exits mid-call', inputSchema: { type: 'object' } },
  { name: 'hang', description: 'Never answers', inputSchema: { type: 'object' } },
  { name: 'slow', description: 'Answers after ms', inputSchema: { type: 'object' } },
  { name: 'add_tool', description: 'Adds a tool', inputSchema: { type: 'object' } },
  { name: 'fail', description: 'Answers an error', inputSchema: { type: 'object' } },
  { name: 'big', description: 'Answers a text of the given size', inputSchema: { type: 'object' } },
  { name: 'rich', description: 'Every content type', inputSchema: { type: 'object' },
    outputSchema: { type: 'object', properties: { n: { type: 'number' } } } },
];

const generated = Number(option('--generated') || 0);
if (generated) {
  tools.length = 0;
  for (let i = 0; i < generated; i++)
    tools.push({ name: `t${i}`, description: `generated tool number ${i}, echoes its text argument`,
                 inputSchema: { type: 'object', properties: { text: { type: 'string', description: 'what to echo' } },
                                required: ['text'] } });
}

function handle(msg, send) {
  if (msg.method && msg.id === undefined) {
    if (record) fs.appendFileSync(record, JSON.stringify(msg) + '\n');
    return;
  }
  if (!msg.method) return; // a response to something we never asked
  const reply = (result) => send({ jsonrpc: '2.0', id: msg.id, result });
  const error = (code, message) => send({ jsonrpc: '2.0', id: msg.id, error: { code, message } });
  switch (msg.method) {
    case 'initialize':
      return reply({ protocolVersion: msg.params.protocolVersion, capabilities: { tools: { listChanged: true } },
                     serverInfo: { name: 'fault-server', version: '1' } });
    case 'ping':
      return reply({});
    case 'tools/list': {
      // Two pages, so the gateway must follow nextCursor.
      const half = Math.ceil(tools.length / 2);
      if (!msg.params?.cursor) return reply({ tools: tools.slice(0, half), nextCursor: 'page2' });
      return reply({ tools: tools.slice(half) });
    }
    case 'tools/call': {
      const a = msg.params.arguments || {};
      switch (msg.params.name) {
        case 'echo': return reply({ content: [{ type: 'text', text: `echo:${a.text}` }] });
        case 'crash': process.exit(3);
        case 'hang': return;
        case 'slow': return setTimeout(() => reply({ content: [{ type: 'text', text: `slow:${a.text}` }] }), a.ms || 100);
        case 'fail': return error(-32000, 'deliberate failure');
        case 'big': return reply({ content: [{ type: 'text', text: 'x'.repeat(a.bytes || 1) }] });
        case 'add_tool':
          tools.push({ name: a.name, description: 'added at runtime', inputSchema: { type: 'object' } });
          reply({ content: [{ type: 'text', text: 'added' }] });
          return send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
        case 'rich':
          return reply({
            content: [
              { type: 'text', text: 't' },
              { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
              { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
              { type: 'resource', resource: { uri: 'test://r', text: 'r', mimeType: 'text/plain' } },
              { type: 'resource_link', uri: 'test://l', name: 'l' },
            ],
            structuredContent: { n: 42 },
            isError: false,
          });
        default:
          if (generated && /^t\d+$/.test(msg.params.name)) return reply({ content: [{ type: 'text', text: `echo:${a.text}` }] });
          return error(-32602, `Unknown tool: ${msg.params.name}`);
      }
    }
    default:
      return error(-32601, 'Method not found');
  }
}

if (mode === 'stdio') {
  const send = (m) => {
    if (garbage) process.stdout.write('this is not json\n{"jsonrpc":"2.0","bogus":true}\n\n');
    process.stdout.write(JSON.stringify(m) + '\n');
  };
  process.stderr.write('fault-server: ready on stdio\n');
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => { try { handle(JSON.parse(line), send); } catch {} });
  rl.on('close', () => process.exit(0));
} else if (mode === 'http') {
  const port = Number(rest[0]);
  const forgetAfter = Number(option('--forget-session-after') || 0);
  let session = null;
  let calls = 0;
  let forgotten = false;
  const offerStream = flag('--get-stream');
  const streams = new Set();
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && offerStream) {
      // The server-to-client stream: notifications that answer no request go here.
      if (req.headers['mcp-session-id'] !== session) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(': open\n\n');
      streams.add(res);
      if (record) fs.appendFileSync(record, JSON.stringify({ getStream: true }) + '\n');
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method !== 'POST') { res.writeHead(405).end(); return; }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const msg = JSON.parse(body);
      if (msg.method === 'initialize') {
        session = `s${Date.now()}${Math.random()}`;
        if (record) fs.appendFileSync(record, JSON.stringify({ initialize: true }) + '\n');
      } else if (req.headers['mcp-session-id'] !== session) {
        res.writeHead(404).end();
        return;
      }
      // Forget the session once, as a restarted server would.
      if (msg.method === 'tools/call' && forgetAfter && !forgotten && ++calls > forgetAfter) {
        forgotten = true;
        session = null;
        res.writeHead(404).end();
        return;
      }
      let answered = false;
      handle(msg, (m) => {
        if (answered) {
          // A notification after the answer (tools/list_changed): over the GET stream.
          for (const st of streams) st.write(`data: ${JSON.stringify(m)}\n\n`);
          return;
        }
        answered = true;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': session });
        res.end(JSON.stringify(m));
      });
      if (!answered && msg.id === undefined) { res.writeHead(202).end(); }
    });
  });
  server.listen(port, '127.0.0.1');
}
