'use strict';
/*
 * bench/redis-bytes.js META RESULTS.jsonl > REDIS-BYTES.md
 *
 * What bench/redis-bytes.sh measured (key=value lines about the run, one
 * JSON line per run) as markdown: first the README's table (bytes per node
 * per message, classic against sharded, gateway and anchor side by side),
 * then every run.
 */
const fs = require('node:fs');

const [metaFile, resultsFile] = process.argv.slice(2);
const meta = {};
for (const line of fs.readFileSync(metaFile, 'utf8').split('\n')) {
  const i = line.indexOf('=');
  if (i > 0)
    meta[line.slice(0, i)] = line.slice(i + 1);
}
const runs = fs.readFileSync(resultsFile, 'utf8').split('\n')
    .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const out = [];
const p = (s = '') => out.push(s);
const f = (v) => v === null || v === undefined || Number.isNaN(v) ? 'n/a' :
  Math.round(v).toLocaleString('en-US');
const perMsg = (r) => r && r.sent > 0 ? r.bytes_mean / r.sent : null;
const what = (r) => r.scenario === 'dm' ? 'direct (`user:<id>`)' :
  `${r.rooms} rooms of ${r.users} users`;

/* A table; its first `left` columns are text, the others figures. */
function table(head, rows, left = 1) {
  p('| ' + head.join(' | ') + ' |');
  p('|' + head.map((h, i) => i < left ? '---' : '---:').join('|') + '|');
  for (const r of rows)
    p('| ' + r.join(' | ') + ' |');
  p();
}

p('# Bytes each node receives from Redis');
p();
p(`Written by \`bench/redis-bytes.sh\` on ${meta.date} (${meta.nproc} ` +
  `CPUs; redis-server ${meta.redis}; the anchor's ` +
  `@socket.io/redis-adapter ${meta.adapter}). Do not edit: run it again.`);
p();
p(`Each run: a fresh redis-server and that many nodes (gateway: ` +
  '`socket-gatewayd -w 1` each; anchor: bench/anchor-node, socket.io ' +
  'with the Redis adapter), then socket-gateway-bench: ' +
  `${meta.msgs} group messages of ${meta.size} content bytes at ` +
  `${meta.rate}/s, the rooms taking turns, member *k* of room *g* on ` +
  'node (*g* + *k*) mod *nodes* (a room spans min(users, nodes) nodes, ' +
  'as a load balancer spreads users); the direct rows: ' +
  `${meta.msgs} direct messages among ${meta.dm_conns} users in pairs, ` +
  'the partners on different nodes, each to the receiver\'s ' +
  '`user:<id>` room. The bytes are what each node\'s sockets to Redis ' +
  'received (tcp_info `bytes_received`, framing included) between the ' +
  'end of the joins and the drain; for the gateway its own ' +
  '`redis_bytes_in` (/metrics) is the cross-check.');
p();
p('## Per node, per message sent');
p();
p('Bytes a node receives from Redis per message sent anywhere in the ' +
  'cluster (the mean over the nodes; in parentheses the busiest node, ' +
  'where it is 5% above the mean).');
p();
const key = (r) => `${r.nodes}|${r.scenario || 'fanout'}|${r.rooms}|` +
  `${r.users}`;
const cells = new Map();
for (const r of runs) {
  if (!cells.has(key(r)))
    cells.set(key(r), { r, v: {} });
  cells.get(key(r)).v[`${r.server} ${r.adapter}`] = r;
}
const cols = ['gateway classic', 'gateway sharded', 'anchor classic',
  'anchor sharded'].filter((c) => runs.some((r) =>
  `${r.server} ${r.adapter}` === c));
table(['messages to', 'nodes', ...cols],
    [...cells.values()].map(({ r, v }) => [what(r), r.nodes,
      ...cols.map((c) => {
        const x = v[c];
        if (!x)
          return 'n/a';
        const m = perMsg(x);
        const busy = x.sent > 0 ? x.bytes_max / x.sent : null;
        return f(m) + (busy !== null && m > 0 && busy > m * 1.05 ?
          ` (${f(busy)})` : '');
      })]));
p('## Every run');
p();
table(['server', 'adapter', 'messages to', 'nodes', 'messages',
  'bytes per node (mean)', 'busiest node', 'all nodes',
  'redis_bytes_in per node', 'lost'],
runs.map((r) => [r.server, r.adapter, what(r), r.nodes, f(r.sent),
  f(r.bytes_mean), f(r.bytes_max), f(r.bytes_all), f(r.metrics_mean),
  f(r.lost)]), 3);
process.stdout.write(out.join('\n'));
