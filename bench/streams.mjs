// Opens N GET /mcp event streams at once, checks each received connection/opened, holds
// them for a while, then closes them. Prints how many succeeded.
//   node bench/streams.mjs URL N HOLD_MS
import http from 'node:http';

const [url, n = '1000', hold = '3000'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
let opened = 0;
const reqs = [];
await Promise.all(Array.from({ length: Number(n) }, () => new Promise((resolve) => {
  const req = http.get(url, { agent, headers: { Accept: 'text/event-stream' } }, (res) => {
    let buf = '';
    res.on('data', (d) => {
      buf += d;
      if (buf.includes('connection/opened') && !res.counted) { res.counted = true; opened++; resolve(); }
    });
    res.on('error', resolve);
  });
  req.on('error', resolve);
  req.setTimeout(20000, () => { req.destroy(); resolve(); });
  reqs.push(req);
})));
console.log(`STREAMS opened=${opened} of ${n}`);
await new Promise((r) => setTimeout(r, Number(hold)));
for (const r of reqs) r.destroy();
