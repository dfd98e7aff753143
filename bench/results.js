'use strict';
/*
 * bench/results.js MACHINE COMMANDS RESULTS.jsonl > RESULTS.md
 *
 * Turns what bench/run.sh collected (key=value lines about the machine,
 * the exact commands, one socket-gateway-bench JSON line per run) into
 * bench/RESULTS.md: the machine, one table per scenario, the ratios of the
 * gateway to the anchor and to the floor, and the commands.
 */
const fs = require('node:fs');

const [machineFile, commandsFile, resultsFile] = process.argv.slice(2);
const machine = {};
for (const line of fs.readFileSync(machineFile, 'utf8').split('\n')) {
  const i = line.indexOf('=');
  if (i > 0)
    machine[line.slice(0, i)] = line.slice(i + 1);
}
const commands = fs.readFileSync(commandsFile, 'utf8').trim();
const runs = fs.readFileSync(resultsFile, 'utf8').split('\n')
    .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
/* A latency with no sample (nothing arrived in the window) is n/a, not 0. */
for (const r of runs)
  for (const k of ['lat_ms', 'ack_ms'])
    if (r[k] && r[k].n === 0)
      for (const q of ['p50', 'p99', 'p999', 'max', 'mean'])
        r[k][q] = null;

const SERVERS = ['gateway-1w', 'gateway-all', 'anchor', 'floor'];
const out = [];
const p = (s = '') => out.push(s);

function fmt(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v))
    return 'n/a';
  if (typeof v !== 'number')
    return String(v);
  return v.toLocaleString('en-US', { minimumFractionDigits: digits,
    maximumFractionDigits: digits });
}
const ms = (v) => fmt(v, v !== null && v < 10 ? 2 : 1);
const kb = (v) => v === null ? 'n/a' : fmt(v / 1024, 1) + ' KB';
const mb = (v) => v === null ? 'n/a' : fmt(v / 1048576, 1) + ' MB';
const loadBusy = (r) => r.client_cpus_busy_pct === null ||
  r.client_cpus_busy_pct === undefined ? 'n/a' :
  fmt(r.client_cpus_busy_pct) + '%';
const mode = (r) => r.rate > 0 ? `${fmt(r.rate)}/s` : 'flat out';

/* The run of server for scenario, at a rate (0: flat out), with conns. */
function find(server, scenario, flat, conns) {
  return runs.find((r) => r.label === server && r.scenario === scenario &&
      (flat === undefined || (r.rate === 0) === flat) &&
      (conns === undefined || r.conns === conns));
}

/* The run of server for scenario at exactly this rate (0: flat out). */
function findRate(server, scenario, rate) {
  return runs.find((r) => r.label === server && r.scenario === scenario &&
      r.rate === rate);
}

/* dm-persist's fixed rates, lowest first. */
const persistRates = [...new Set(runs.filter((r) =>
  r.scenario === 'dm-persist' && r.rate > 0).map((r) => r.rate))]
    .sort((a, b) => a - b);

function table(head, rows) {
  p('| ' + head.join(' | ') + ' |');
  p('|' + head.map((h, i) => i === 0 ? '---' : '---:').join('|') + '|');
  for (const r of rows)
    p('| ' + r.join(' | ') + ' |');
  p();
}

function ratio(a, b, digits = 2) {
  if (a === null || b === null || a === undefined || b === undefined ||
      !b)
    return 'n/a';
  return fmt(a / b, digits) + 'x';
}

function note(r) {
  const bad = [];
  if (!r.ok)
    bad.push('run incomplete');
  if (r.failed)
    bad.push(`${r.failed} failed`);
  if (r.dropped)
    bad.push(`${r.dropped} dropped`);
  if (r.lost)
    bad.push(`${r.lost} lost`);
  if (r.errors)
    bad.push(`${r.errors} errors`);
  if (r.note && (!r.ok || r.note.startsWith('RSS')))
    bad.push(r.note);
  return bad.join('; ');
}

p('# socket-gateway benchmark results');
p();
p(`Written by \`bench/run.sh\` (\`make bench\`) on ${machine.date}, in ` +
  `${machine.seconds} s. Do not edit: run it again.`);
p();
p('## The machine');
p();
table(['', ''], [
  ['CPUs (nproc)', machine.nproc],
  ['CPU model', machine.cpu],
  ['kernel', machine.kernel],
  ['memory', machine.mem],
  ['open files (hard limit per process)', machine.nofile],
  ['load average before / after the run', `${machine.load_before} / ` +
    `${machine.load_after}`],
  ['gateway', `${machine.gateway}, commit ${machine.commit}`],
  ['anchor', `Node.js ${machine.node}, socket.io ${machine.socketio} (ws)` +
    (machine.axios ? `; persistence: axios ${machine.axios}, opossum ` +
      `${machine.opossum}` : '')],
].concat(machine.redis_adapter ? [['Redis (fanout-redis)',
  `redis-server ${machine.redis || 'n/a'}; the anchor's adapter ` +
  `@socket.io/redis-adapter ${machine.redis_adapter} (notepack.io ` +
  `${machine.notepack}), client redis ${machine.redis_client}`]] : []));
if (machine.merged !== undefined)
  p(`MERGE=1: ${machine.merged} runs of scenarios other than ` +
    `\`${machine.scenarios}\` are kept from the previous RESULTS.jsonl ` +
    '(their machine and commands are under "The kept runs", at the end).');
if (machine.merged !== undefined)
  p();
p('The servers under test: **gateway-1w** is `socket-gatewayd -w 1` ' +
  'pinned to CPU 1; **gateway-all** is `socket-gatewayd -w 0` (one worker ' +
  'per CPU, here 2) and not pinned, so it shares CPU 0 with the load ' +
  'generator; **anchor** is `bench/anchor-node` (socket.io 4.8 on its ' +
  'default ws engine, the system the gateway replaces, same event ' +
  'contract) on CPU 1; **floor** is `bench/floor/floor-server` (raw ' +
  'epoll, one send per recipient, no auth, no JSON) on CPU 1. The load ' +
  `generator runs on CPU 0 (\`${machine.pin}\`). All four run with ` +
  'presence scoped (the gateway: `presence_mode scoped`; the anchor: ' +
  '`PRESENCE_MODE=scoped`; the floor only has scoped), so connecting ' +
  'N clients costs O(N), not O(N²) `user_connected` frames.');
p();
p('**Server CPU** is utime + stime of the server process and all its ' +
  'descendants (the gateway\'s master and workers) from /proc, over the ' +
  'measured window (for `conns`: over the connect phase), divided by what ' +
  'was delivered or set up in it. On loopback a large part of the TCP ' +
  'work runs in softirq, which this kernel charges to no process: the ' +
  '**busy** columns are the whole pinned server CPU (/proc/stat, user + ' +
  'system + irq + softirq), which also counts anything else that ran on ' +
  'that CPU meanwhile (see the load average above); they are given only ' +
  'for pinned servers, and only where the server kept its CPU busy ' +
  '(connect phases, flat out): at a fixed low rate the idle CPU\'s share ' +
  'of other work would swamp them.');
p();

/* The headline figures, from the tables below. */
function summary() {
  const g = (srv, scen, flat, key, n) => get(find(srv, scen, flat, n), key);
  const C0 = runs.find((r) => r.scenario === 'conns');
  const n = C0 ? C0.conns : undefined;
  const line = (what, key, scen, flat, unit, digits, better) => {
    const a = g('gateway-1w', scen, flat, key, scen === 'conns' ? n :
      undefined);
    const b = g('anchor', scen, flat, key, scen === 'conns' ? n : undefined);
    const c = g('floor', scen, flat, key, scen === 'conns' ? n : undefined);
    if (a === null)
      return;
    let t = `- ${what}: gateway ${fmt(a, digits)}${unit}`;
    if (b !== null)
      t += `, anchor ${fmt(b, digits)}${unit} (${better(a, b)})`;
    if (c !== null)
      t += `, floor ${fmt(c, digits)}${unit} (gateway ${fmt(a / c, 1)}x ` +
        'the floor)';
    p(t + '.');
  };
  const less = (a, b) => a <= b ? `${fmt(b / a, 1)}x less` :
    `${fmt(a / b, 1)}x more`;
  const more = (a, b) => a >= b ? `${fmt(a / b, 1)}x more` :
    `${fmt(b / a, 1)}x less`;
  p('## Summary (gateway with 1 worker)');
  p();
  line('server CPU to set up a connection', 'cpu_us_per_conn', 'conns',
      undefined, ' us', 0, less);
  line('memory per idle connection', 'rss_per_conn_bytes', 'conns',
      undefined, ' bytes', 0, less);
  line('server CPU per delivered direct message, flat out',
      'cpu_us_per_delivery', 'dm', true, ' us', 1, less);
  line('direct messages delivered per second, flat out', 'delivered_per_s',
      'dm', true, '', 0, more);
  line('server CPU per group delivery, flat out', 'cpu_us_per_delivery',
      'fanout', true, ' us', 1, less);
  line('group deliveries per second, flat out', 'delivered_per_s',
      'fanout', true, '', 0, more);
  line(`p99 latency of group deliveries at ${rateOf('fanout')}/s`,
      'lat_ms.p99', 'fanout', false, ' ms', 1, less);
  line('server CPU per connect + disconnect, flat out', 'cpu_us_per_cycle',
      'churn', true, ' us', 0, less);
  const persisted = (rate, what, key, unit, digits) => {
    const a = get(findRate('gateway-1w', 'dm-persist', rate), key);
    const b = get(findRate('anchor', 'dm-persist', rate), key);
    if (a === null)
      return;
    let t = `- ${what} ${rate > 0 ? `at ${fmt(rate)}/s` : 'flat out'}: ` +
      `gateway ${fmt(a, digits)}${unit}`;
    if (b !== null)
      t += `, anchor ${fmt(b, digits)}${unit} (${key === 'delivered_per_s' ?
        more(a, b) : less(a, b)})`;
    const g = findRate('gateway-1w', 'dm-persist', rate);
    const an = findRate('anchor', 'dm-persist', rate);
    if (b !== null && rate > 0 && an.delivered_per_s < rate * 0.95)
      t += ` (the anchor fell behind: ${fmt(an.delivered_per_s)} of ` +
        `${fmt(rate)} messages/s)`;
    if (g && !(g.persisted_per_delivery >= 0.99))
      t += ' (**the gateway did not persist**: ' +
        `${fmt(g.persisted_per_delivery, 2)} persisted per delivery)`;
    p(t + '.');
  };
  for (const rate of persistRates.slice(0, 1)) {
    persisted(rate, 'server CPU per persisted direct message',
        'cpu_us_per_delivery', ' us', 1);
    persisted(rate, 'p99 latency of delivery with persistence',
        'lat_ms.p99', ' ms', 1);
    persisted(rate, 'p99 latency of message_sent (persisted)',
        'ack_ms.p99', ' ms', 1);
  }
  persisted(0, 'persisted direct messages per second', 'delivered_per_s', '',
      0);
  persisted(0, 'server CPU per persisted direct message',
      'cpu_us_per_delivery', ' us', 1);
  p();
}
const rateOf = (scen) => {
  const r = runs.find((x) => x.scenario === scen && x.rate > 0);
  if (r === undefined)
    return 'n/a';
  return scen === 'fanout' ? fmt(r.rate * (r.conns / r.groups - 1)) +
    ' deliveries' : fmt(r.rate);
};
const get = (r, k) => r === undefined ? null :
  k.split('.').reduce((o, x) => o === null || o === undefined ? null : o[x],
      r);
summary();

/* conns */
p('## conns: idle authenticated connections');
p();
const conns = runs.filter((r) => r.scenario === 'conns');
table(['server', 'connections', 'ready', 'connect/s', 'connect p50 / p99 ms',
  'server CPU per connection', 'busy per connection', 'RSS per connection',
  'RSS with all open', 'notes'],
conns.map((r) => {
  /*
   * A second conns run on the same server starts from the RSS the first
   * left behind (freed memory is not always returned): count from the
   * fresh server's RSS instead.
   */
  const first = conns.find((x) => x.label === r.label);
  if (first !== r && first.server_idle_rss_bytes !== null &&
      r.server_rss_bytes !== null && r.open > 0) {
    r = Object.assign({}, r, { rss_per_conn_bytes: (r.server_rss_bytes -
      first.server_idle_rss_bytes) / r.open });
    r.note = 'RSS per connection counted from the fresh server';
  }
  return r;
}).map((r) => [r.label, fmt(r.conns), fmt(r.ready),
  fmt(r.connect_per_s), `${ms(r.connect_p50_ms)} / ${ms(r.connect_p99_ms)}`,
  fmt(r.cpu_us_per_conn) + ' us', r.busy_us_per_conn === null ? 'n/a' :
    fmt(r.busy_us_per_conn) + ' us', kb(r.rss_per_conn_bytes),
  mb(r.server_rss_bytes), note(r)]));

for (const scen of ['dm', 'fanout']) {
  const rows = runs.filter((r) => r.scenario === scen);
  if (rows.length === 0)
    continue;
  p(scen === 'dm' ?
    `## dm: direct messages (${fmt(rows[0].conns)} clients in pairs, ` +
    `${rows[0].size}-byte content)` :
    `## fanout: group messages (${fmt(rows[0].conns)} clients in ` +
    `${fmt(rows[0].groups)} groups, ${rows[0].size}-byte content)`);
  p();
  p(scen === 'dm' ?
    'Each client sends `send_message {receiver_id, content}` to its ' +
    'partner; a delivery is a `receive_message` (the sender also gets ' +
    '`message_sent`: two frames out per message). Latency: from the send ' +
    'time written in the content to the arrival of `receive_message`.' :
    'Members take turns sending `send_group_message {group_id, content}`; ' +
    'a delivery is one `receive_message` at one member (every member but ' +
    'the sender gets one).');
  p();
  table(['server', 'load', 'delivered/s', 'latency p50', 'p99', 'p99.9',
    'max (ms)', 'server CPU', 'CPU per delivery', 'busy per delivery',
    'load CPU busy', 'notes'],
  rows.map((r) => [r.label, mode(r), fmt(r.delivered_per_s),
    ms(r.lat_ms.p50), ms(r.lat_ms.p99), ms(r.lat_ms.p999),
    ms(r.lat_ms.max), fmt(r.server_cpu_pct) + '%',
    fmt(r.cpu_us_per_delivery, 1) + ' us',
    r.busy_us_per_delivery === null || r.rate > 0 ? 'n/a' :
      fmt(r.busy_us_per_delivery, 1) + ' us',
    loadBusy(r), note(r)]));
}

/* dm-persist */
const dmp = runs.filter((r) => r.scenario === 'dm-persist');
if (dmp.length > 0) {
  p(`## dm-persist: direct messages persisted to a stub chat service ` +
    `(${fmt(dmp[0].conns)} clients in pairs, ${dmp[0].size}-byte content)`);
  p();
  p('As `dm`, with a chat service configured: the server POSTs every ' +
    'message to `/api/messages` on **bench/stub/chat-stub** (raw epoll, ' +
    'HTTP/1.1 keep-alive, 200 `{"ok":true}`; it counts what it took), ' +
    'with `Idempotency-Key: <message id>`, and the sender\'s ' +
    '`message_sent` says `status: "persisted"` once the stub answered. ' +
    'The stub runs on CPU 0 beside the load generator; its CPU is its ' +
    'own column, never in the server CPU ("load + stub CPU busy" is CPU ' +
    '0: where it nears 100% flat out, the load generator and the stub, ' +
    'not the server, set the rate). A message is in flight until both ' +
    'its `receive_message` and its `message_sent` came.');
  p();
  p('- **gateway**: `chat_service_url` set; it delivers `receive_message` ' +
    'at once and sends `message_sent` when the chat service answered ' +
    '(delivery does not wait for persistence), through its libcurl ' +
    'client, circuit breaker and retry budget.');
  p('- **anchor**: `CHAT_SERVICE_URL` set; as the seed: an axios instance ' +
    '(keep-alive agent, 5 s timeout) behind an opossum circuit breaker ' +
    '(bench/anchor-node/persist.js). **Delivery after persistence**: the ' +
    'handler awaits the chat service, then emits `receive_message` and ' +
    '`message_sent`, as the seed\'s message handler awaits its message ' +
    'service before it emits (issue 13\'s description of the seed; the ' +
    'seed\'s source is not in this repository, its README names axios ' +
    'and a circuit breaker). So the anchor\'s delivery latency includes ' +
    'the chat service\'s round trip, and the gateway\'s does not; its ' +
    '`message_sent` latency compares like for like. ' +
    '(`PERSIST_ORDER=before` makes the anchor deliver first.)');
  p();
  p('"+ over dm" is the CPU per message minus that of the plain `dm` run ' +
    'of the same server at the same rate (or flat out): what persistence ' +
    'costs. "persisted per delivery" counts the `message_sent` with status ' +
    '`persisted`; "stub took" the messages the stub received, per ' +
    'delivered message (both 1.00 when every message was persisted once).');
  p();
  const plain = (r) => r.rate > 0 ? findRate(r.label, 'dm', r.rate) :
    find(r.label, 'dm', true);
  const persistNote = (r) => {
    const bad = [];
    if (r.rate > 0 && r.delivered_per_s < r.rate * 0.95)
      bad.push(`fell behind: ${fmt(r.delivered_per_s)}/s of ` +
        `${fmt(r.rate)}/s`);
    if (!(r.persisted_per_delivery >= 0.99))
      bad.push('not persisted');
    const n = note(r);
    if (n)
      bad.push(n);
    return bad.join('; ');
  };
  table(['server', 'load', 'delivered/s', 'delivery p50', 'p99',
    'message_sent p50', 'p99 (ms)', 'server CPU', 'CPU per message',
    '+ over dm', 'stub CPU per message', 'load + stub CPU busy',
    'persisted per delivery', 'stub took', 'notes'],
  dmp.map((r) => {
    const d = plain(r);
    const extra = d && d.cpu_us_per_delivery !== null &&
      r.cpu_us_per_delivery !== null ?
      fmt(r.cpu_us_per_delivery - d.cpu_us_per_delivery, 1) + ' us' : 'n/a';
    return [r.label, mode(r), fmt(r.delivered_per_s), ms(r.lat_ms.p50),
      ms(r.lat_ms.p99), ms(get(r, 'ack_ms.p50')), ms(get(r, 'ack_ms.p99')),
      fmt(r.server_cpu_pct) + '%',
      fmt(r.cpu_us_per_delivery, 1) + ' us', extra,
      r.stub_cpu_us_per_delivery === null ||
      r.stub_cpu_us_per_delivery === undefined ? 'n/a' :
        fmt(r.stub_cpu_us_per_delivery, 1) + ' us', loadBusy(r),
      fmt(r.persisted_per_delivery, 2), fmt(r.stub_messages_per_delivery, 2),
      persistNote(r)];
  }));
}

p('## churn: connect and disconnect, with presence events');
p();
const churn0 = runs.find((r) => r.scenario === 'churn');
p(`${churn0 ? fmt(churn0.conns) : 'N'} users connect, wait for ` +
  '`online_users`, disconnect, again and again (each takes turns among ' +
  `${churn0 ? churn0.churn_users : 'K'} user ids, so that a user's ` +
  'connect does not overlap its previous disconnect); ' +
  `${churn0 ? churn0.observers : 'M'} observers subscribed to their ` +
  '`presence:<user>` rooms count `user_connected` and ' +
  '`user_disconnected` (2 per cycle expected; the run waits, up to 3 s ' +
  'of silence, until they have all come before it closes).');
p();
table(['server', 'load', 'cycles/s', 'presence events/s',
  'events missing (whole run)', 'connect p50 / p99 ms', 'server CPU',
  'CPU per cycle', 'busy per cycle', 'notes'],
runs.filter((r) => r.scenario === 'churn').map((r) => [r.label, mode(r),
  fmt(r.cycles_per_s), fmt(r.presence_per_s),
  `${fmt(r.presence_missing)} of ${fmt(2 * r.cycles_total)}`,
  `${ms(r.connect_p50_ms)} / ${ms(r.connect_p99_ms)}`,
  fmt(r.server_cpu_pct) + '%', fmt(r.cpu_us_per_cycle) + ' us',
  r.busy_us_per_cycle === null || r.rate > 0 ? 'n/a' :
    fmt(r.busy_us_per_cycle) + ' us',
  note(r)]));

/* fanout-redis */
const fr = runs.filter((r) => r.scenario === 'fanout-redis');
if (fr.length > 0) {
  p(`## fanout-redis: group messages across two instances through Redis ` +
    `(${fmt(fr[0].conns)} clients in ${fmt(fr[0].groups)} groups, ` +
    `${fr[0].size}-byte content)`);
  p();
  p('As `fanout`, but over two instances of the server joined through ' +
    'one Redis, and each group\'s members alternate between them (member ' +
    '*k* of group *g* on instance (*g* + *k*) mod 2), senders on both: ' +
    'every ' +
    'message reaches half its recipients on the sender\'s instance and ' +
    'the other half through Redis. **gateway-1w x2** is two ' +
    '`socket-gatewayd -w 1` with `redis_url`, distinct `node_id` and ' +
    '`redis_adapter`; **anchor x2** is two anchors with `REDIS_URL` and ' +
    '`REDIS_ADAPTER` (`@socket.io/redis-adapter`: classic is ' +
    '`createAdapter`, sharded is `createShardedAdapter` with ' +
    '`subscriptionMode: "dynamic"`). Both instances are on CPU 1: the ' +
    'server CPU is the two summed. A fresh `redis-server` for each pair ' +
    'runs on CPU 0 beside the load generator; its CPU is its own column, ' +
    'never in the server CPU. The window opens after a warm-up of ' +
    `${machine.fanr_warmup || 'n/a'} s (\`FANR_WARMUP\`): after 10,000 ` +
    'connects two instances, anchors or gateways, are seconds behind for ' +
    'a few seconds. "+ over fanout" is the CPU per delivery ' +
    'minus that of the same server alone (`fanout`, gateway-1w or anchor, ' +
    'at the same rate): what crossing Redis costs.');
  p();
  const alone = (r) => runs.find((x) => x.scenario === 'fanout' &&
    x.label === r.label.replace(/ x2$/, '') && x.rate === r.rate);
  table(['servers', 'adapter', 'load', 'delivered/s', 'latency p50', 'p99',
    'p99.9', 'max (ms)', 'server CPU (both)', 'CPU per delivery',
    '+ over fanout', 'Redis CPU', 'Redis CPU per delivery', 'notes'],
  fr.map((r) => {
    const a = alone(r);
    const bad = [];
    if (r.rate > 0 && r.delivered_per_s <
        r.rate * (r.conns / r.groups - 1) * 0.95)
      bad.push('fell behind');
    const n = note(r);
    if (n)
      bad.push(n);
    return [r.label, r.adapter, mode(r), fmt(r.delivered_per_s),
      ms(r.lat_ms.p50), ms(r.lat_ms.p99), ms(r.lat_ms.p999),
      ms(r.lat_ms.max), fmt(r.server_cpu_pct) + '%',
      fmt(r.cpu_us_per_delivery, 1) + ' us',
      a && a.cpu_us_per_delivery !== null && r.cpu_us_per_delivery !== null ?
        fmt(r.cpu_us_per_delivery - a.cpu_us_per_delivery, 1) + ' us' :
        'n/a',
      get(r, 'redis_cpu_pct') === null ? 'n/a' :
        fmt(r.redis_cpu_pct) + '%',
      get(r, 'redis_cpu_us_per_delivery') === null ? 'n/a' :
        fmt(r.redis_cpu_us_per_delivery, 2) + ' us', bad.join('; ')];
  }));
  const pick = (label, adapter, key) => get(fr.find((r) =>
    r.label === label && r.adapter === adapter && r.rate > 0), key);
  for (const ad of ['classic', 'sharded']) {
    const g = pick('gateway-1w x2', ad, 'cpu_us_per_delivery');
    const a = pick('anchor x2', ad, 'cpu_us_per_delivery');
    const gl = pick('gateway-1w x2', ad, 'lat_ms.p99');
    const al = pick('anchor x2', ad, 'lat_ms.p99');
    if (g !== null || a !== null)
      p(`- ${ad}: server CPU per delivery gateway ${fmt(g, 1)} us, anchor ` +
        `${fmt(a, 1)} us (gateway / anchor ${ratio(g, a)}); p99 gateway ` +
        `${ms(gl)} ms, anchor ${ms(al)} ms (${ratio(gl, al)}).`);
  }
  p();
}

/* storm */
const st = runs.filter((r) => r.scenario === 'storm');
if (st.length > 0) {
  p(`## storm: ${fmt(st[0].conns)} users connect at once, presence mode all`);
  p();
  p('The seed\'s own presence semantics: every user\'s first connect is ' +
    'a `user_connected` to every client. Distinct users connect as fast ' +
    'as the server takes them; one load process (on CPU 0) reads every ' +
    'client and keeps, per client, the set of users it has heard are ' +
    'online (`online_users`, `user_connected`, `user_disconnected`). ' +
    '**Settled** is the time from the last connect until every client ' +
    'knows every user (waited for at most `STORM_LIMIT` seconds). ' +
    '**Cut** counts the clients ' +
    'the server disconnected (a missed ping deadline, a full queue). ' +
    '**Read** is every byte the clients read, against the least they ' +
    'could: each client the final roster once. The server\'s RSS and PSS ' +
    'are sampled each second; the peak is the highest sample.');
  p();
  table(['server', 'users', 'connected', 'connect/s', 'cut', 'settled',
    'read', 'at least', 'read / least', 'RSS peak', 'PSS peak',
    'server CPU', 'notes'],
  st.map((r) => [r.label, fmt(r.conns), fmt(r.ready), fmt(r.connect_per_s),
    fmt(r.dropped), r.ready < r.conns ?
      `never: ${fmt(r.ready)} of ${fmt(r.conns)} connected in ` +
      `${fmt(r.connect_s)} s` : r.settle_s === null || r.settle_s < 0 ?
        `not in ${fmt(r.duration_s)} s: ${fmt(r.settled)} of ` +
        `${fmt(r.conns)}` : fmt(r.settle_s, 2) + ' s', mb(r.bytes_in), mb(r.min_bytes),
    r.bytes_in && r.min_bytes ? fmt(r.bytes_in / r.min_bytes, 2) + 'x' :
      'n/a', mb(r.rss_peak_bytes), mb(r.pss_peak_bytes),
    `${fmt(r.server_cpu_connect_s, 1)} + ${fmt(r.server_cpu_s, 1)} s`,
    note(r)]));
  p();
}

/* recovery: on (every other run) against off (the -norec runs) */
const norec = runs.filter((r) => r.scenario === 'recovery');
if (norec.length > 0) {
  p('## recovery: what connection state recovery costs');
  p();
  p('Every other run has connection state recovery on: the gateway\'s ' +
    'default (`connection_recovery yes`: every event without an ack ' +
    'appended to the host\'s shared-memory log, a session slot per ' +
    'socket), and the anchor\'s `connectionStateRecovery` (`RECOVERY=1`, ' +
    'socket.io\'s in-memory adapter: every such packet kept in a list ' +
    'for 2 minutes, the session saved on a disconnection). These runs ' +
    'are the same `conns` and `dm` at a fixed rate with it off ' +
    '(`<server>-norec`): the difference is what recovery costs. (Not ' +
    'through Redis: socket.io\'s pub/sub adapter has no recovery, so ' +
    'fanout-redis runs the anchor without it.)');
  p();
  const on = (label, of) => runs.find((r) => r.label === label &&
    r.scenario === of && (of === 'conns' ? r.conns === get(norec.find((x) =>
      x.of === 'conns'), 'conns') : r.rate === get(norec.find((x) =>
      x.of === 'dm'), 'rate')));
  const off = (label, of) => norec.find((r) => r.label === label + '-norec' &&
    r.of === of);
  const rows = [];
  for (const label of ['gateway-1w', 'anchor']) {
    const c1 = on(label, 'conns'), c0 = off(label, 'conns');
    const d1 = on(label, 'dm'), d0 = off(label, 'dm');
    const diff = (a, b, k, f) => get(a, k) === null || get(b, k) === null ?
      'n/a' : f(get(a, k) - get(b, k));
    rows.push([label, kb(get(c1, 'rss_per_conn_bytes')),
      kb(get(c0, 'rss_per_conn_bytes')),
      diff(c1, c0, 'rss_per_conn_bytes', (v) => fmt(v) + ' B'),
      get(d1, 'cpu_us_per_delivery') === null ? 'n/a' :
        fmt(d1.cpu_us_per_delivery, 1) + ' us',
      get(d0, 'cpu_us_per_delivery') === null ? 'n/a' :
        fmt(d0.cpu_us_per_delivery, 1) + ' us',
      diff(d1, d0, 'cpu_us_per_delivery', (v) => fmt(v, 1) + ' us'),
      `${ms(get(d1, 'lat_ms.p99'))} / ${ms(get(d0, 'lat_ms.p99'))}`]);
  }
  table(['server', 'memory per idle connection, on', 'off', 'recovery',
    'CPU per direct message, on', 'off', 'recovery',
    'dm p99 ms, on / off'], rows);
  p();
}

/* scale */
const sc = runs.filter((r) => r.scenario === 'scale');
if (sc.length > 0) {
  const r0 = sc[0];
  p(`## scale: ${fmt(r0.conns)} idle connections on one host, then ` +
    `${fmt(r0.rejoin)} leave and come back at once`);
  p();
  p('**gateway-scale** is `socket-gatewayd -w N` (`SCALE_WORKERS`, not ' +
    'pinned), every connection authenticated and recoverable ' +
    '(`recovery_sessions` above the count). The load generator spreads ' +
    'itself over processes (at most 19,000 connections each: the ' +
    'open-files limit) and over 127.0.0.x source addresses (one per ' +
    '10,000 connections), from the count alone. The connections are held ' +
    `${fmt(r0.duration_s)} s with the default ping interval (25 s): the ` +
    'server\'s CPU over the hold is what the pings cost. RSS is summed over ' +
    'the master and every worker, from the fresh server\'s: a page of the ' +
    'recovery log\'s shared memory counts once in every process that ' +
    'touched it. PSS (from smaps_rollup) counts a page shared by n ' +
    'processes 1/n in each, so its sum counts it once: the memory the ' +
    'connections really take.');
  p();
  table(['server', 'connections', 'ready', 'connect/s',
    'connect p50 / p99 ms', 'server CPU per connection',
    'RSS per connection', 'RSS with all open', 'PSS per connection',
    'PSS with all open', 'idle CPU per connection',
    'pings answered in the hold', 'rejoin: back / failed / dropped',
    'rejoin time', 'rejoin p50 / p99 ms', 'notes'],
  sc.map((r) => [r.label, fmt(r.conns), fmt(r.ready), fmt(r.connect_per_s),
    `${ms(r.connect_p50_ms)} / ${ms(r.connect_p99_ms)}`,
    fmt(r.cpu_us_per_conn) + ' us', kb(r.rss_per_conn_bytes) + ' (' +
      (r.rss_per_conn_bytes === null ? 'n/a' :
        fmt(r.rss_per_conn_bytes / 1024, 2) + ' KiB') + ')',
    mb(r.server_rss_bytes),
    get(r, 'pss_per_conn_bytes') === null ? 'n/a' :
      kb(r.pss_per_conn_bytes) + ' (' + fmt(r.pss_per_conn_bytes / 1024, 2) +
      ' KiB)', mb(get(r, 'server_pss_bytes')),
    get(r, 'idle_cpu_us_per_conn_s') === null ? 'n/a' :
      fmt(r.idle_cpu_us_per_conn_s, 2) + ' us/s',
    fmt(get(r, 'pings_held')),
    `${fmt(r.rejoin_back)} / ${fmt(r.rejoin_failed)} / ` +
      `${fmt(r.rejoin_dropped)}`, fmt(r.rejoin_s, 2) + ' s',
    `${ms(r.rejoin_p50_ms)} / ${ms(r.rejoin_p99_ms)}`, note(r)]));
  p();
}

/* dmcost: direct messages at one rate, the servers taking turns (issue 16) */
const dc = runs.filter((r) => r.scenario === 'dmcost');
if (dc.length > 0) {
  const rate = dc[0].rate;
  const median = (v) => {
    const a = v.filter((x) => x !== null && x !== undefined)
      .sort((x, y) => x - y);
    return a.length === 0 ? null : a.length % 2 ? a[(a.length - 1) / 2] :
      (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  };
  const labels = [...new Set(dc.map((r) => r.label))];
  const med = {};
  for (const l of labels)
    med[l] = median(dc.filter((r) => r.label === l && r.ok &&
      !r.lost).map((r) => r.cpu_us_per_delivery));
  p(`## dmcost: what a direct message costs at ${fmt(rate)}/s`);
  p();
  p(`\`dm\` (${fmt(dc[0].conns)} clients in pairs, 64-byte content) at ` +
    `${fmt(rate)} messages/s, in rounds: in each round every server runs ` +
    'once, a fresh one, in turn, so that a slow stretch of the machine ' +
    'falls on one run, not on one server. **gateway-2w** is ' +
    '`socket-gatewayd -w 2` with both workers pinned to CPU 1 (the CPU ' +
    'gateway-1w has alone): the kernel\'s SO_REUSEPORT hash puts each ' +
    'connection on either worker, so about half of the messages cross ' +
    'workers (the receiver\'s frame is appended to the host\'s recovery ' +
    'log by the sender\'s worker and the other worker, woken through its ' +
    'doorbell, delivers it). "CPU per message" is the server CPU per ' +
    'delivered `receive_message` (the sender\'s `message_sent` included); ' +
    '**gateway-1w-norec** is gateway-1w with connection state recovery off ' +
    '(on by default: each message appended to the host\'s log first); ' +
    'the figure compared is each server\'s median over its rounds (runs ' +
    'that lost messages or did not finish are left out of it).');
  p();
  /* perf stat over the messages sent (bench/perfwin.sh): per message. */
  const per = (r, k) => get(r, k) === null || !get(r, 'delivered_total') ?
    null : r[k] / r.delivered_total;
  table(['server', 'round', 'delivered/s', 'latency p50', 'p99 (ms)',
    'server CPU', 'CPU per message', 'task switches per message',
    'system calls per message', 'notes'],
  dc.map((r) => [r.label, fmt(r.round), fmt(r.delivered_per_s),
    ms(get(r, 'lat_ms.p50')), ms(get(r, 'lat_ms.p99')),
    fmt(r.server_cpu_pct) + '%', fmt(r.cpu_us_per_delivery, 1) + ' us',
    fmt(per(r, 'perf_ctx'), 2), fmt(per(r, 'perf_syscalls'), 2),
    [note(r), get(r, 'perf_note') || ''].filter((x) => x).join('; ')]));
  const medOf = (l, k) => median(dc.filter((r) => r.label === l && r.ok &&
    !r.lost).map((r) => per(r, k)));
  const us = (l) => med[l] === null || med[l] === undefined ? 'n/a' :
    fmt(med[l], 1) + ' us';
  const g1 = med['gateway-1w'], g2 = med['gateway-2w'];
  const fl = med.floor, an = med.anchor;
  p('Medians:');
  p();
  table(['server', 'CPU per message (median)', 'over the floor',
    'over gateway-1w', 'task switches per message', 'system calls per message'],
  labels.map((l) => [l, us(l), ratio(med[l], fl), ratio(med[l], g1),
    fmt(medOf(l, 'perf_ctx'), 2), fmt(medOf(l, 'perf_syscalls'), 2)]));
  if (g1 && g2) {
    const r = g2 / g1;
    p(`- gateway-1w against the floor: ${ratio(g1, fl)} ` +
      '(issue 16\'s target: at most 1.3x).');
    p(`- gateway-2w against gateway-1w: ${ratio(g2, g1)}. With a ` +
      'share *f* of the messages crossing workers, a crossing message ' +
      `costs 1 + (${fmt(r, 2)} - 1) / *f* of a local one: ` +
      `${fmt(1 + (r - 1) / 0.5, 2)}x at *f* = 1/2 (issue 16's target: ` +
      'at most 1.2x).');
    const c1 = medOf('gateway-1w', 'perf_ctx');
    const c2 = medOf('gateway-2w', 'perf_ctx');
    const y1 = medOf('gateway-1w', 'perf_syscalls');
    const y2 = medOf('gateway-2w', 'perf_syscalls');
    const yf = medOf('floor', 'perf_syscalls');
    if (c1 !== null && c2 !== null)
      p(`- what crossing adds, from perf stat: ${fmt(c2, 2)} task switches ` +
        `and ${fmt(y2, 2)} system calls per message on gateway-2w against ` +
        `${fmt(c1, 2)} and ${fmt(y1, 2)} on gateway-1w. A crossing is one ` +
        'sendto() to the peer\'s doorbell per loop iteration, rung as the ' +
        'sender is about to sleep, and one recv() in the peer; the rest is ' +
        'two processes taking turns on one CPU, each switch to the other ' +
        'a cold cache. That is the floor of this setup, not of the gateway: ' +
        'with a worker per CPU (`-w 0`, the default) the peer wakes on its ' +
        'own CPU.');
    if (y1 !== null && yf !== null)
      p(`- system calls per message: gateway-1w ${fmt(y1, 2)}, the floor ` +
        `${fmt(yf, 2)}.`);
    const gc = med['gateway-2w-collect'];
    if (gc) {
      const q = gc / g1;
      const p99 = (l) => median(dc.filter((r) => r.label === l && r.ok)
        .map((r) => get(r, 'lat_ms.p99')));
      p(`- the cheapest way past on a shared CPU: gateway-2w-collect ` +
        '(gateway-2w with `io_collect_interval`: a woken worker collects ' +
        'I/O that long first) makes ' +
        `${fmt(medOf('gateway-2w-collect', 'perf_ctx'), 2)} task switches ` +
        `per message and costs ${ratio(gc, g1)} gateway-1w's, a crossing ` +
        `message ${fmt(1 + (q - 1) / 0.5, 2)}x a local one, for a p99 of ` +
        `${ms(p99('gateway-2w-collect'))} ms against gateway-2w's ` +
        `${ms(p99('gateway-2w'))} ms (medians of the rounds).`);
    }
    const nr = med['gateway-1w-norec'];
    if (nr)
      p(`- gateway-1w-norec against the floor: ${ratio(nr, fl)}; recovery ` +
        `costs ${fmt(g1 - nr, 1)} us per message.`);
    if (an)
      p(`- the anchor: ${us('anchor')}, ${ratio(an, g1)} gateway-1w's.`);
    p();
  }
}

/* bytes: where the memory per idle connection goes (issue 16) */
const by = runs.filter((r) => r.scenario === 'bytes');
if (by.length > 0) {
  const pss = (l) => get(by.find((r) => r.label === l),
    'pss_per_conn_bytes');
  p(`## bytes: where the memory per idle connection goes ` +
    `(${fmt(by[0].conns)} connections)`);
  p();
  p('The same `conns` run against each layer in turn; PSS per connection ' +
    'over all the server\'s processes, from the fresh server\'s (what the ' +
    'connections add, shared memory counted once). **lwsmin** is ' +
    'bench/lwsmin: libwebsockets alone with the gateway\'s rx buffer, ' +
    'answering the Socket.IO CONNECT with fixed frames, on lws\'s own ' +
    'listener and poll loop; **lwsmin-e** the same as the gateway runs ' +
    'lws (on a libev loop of its own, each connection accepted by it and ' +
    'adopted, the gateway\'s header limit). **gateway-1w-norec** adds the ' +
    'gateway\'s own work: authentication, the Engine.IO and Socket.IO ' +
    'sessions, rooms, presence; **gateway-1w** adds connection state ' +
    'recovery (a session slot in the shared log, the log\'s entries); ' +
    '**gateway-14w** is the scale run\'s shape (14 workers: the ' +
    'open-files limit of 20,000 per process), where every worker keeps ' +
    'its own copy of every user\'s presence.');
  p();
  const order = ['lwsmin', 'lwsmin-e', 'gateway-1w-norec', 'gateway-1w',
    'gateway-14w'];
  const what = {
    'lwsmin': 'libwebsockets\' own minimum',
    'lwsmin-e': 'lws as the gateway runs it (libev, adopted sockets)',
    'gateway-1w-norec': 'the gateway\'s sessions, auth, rooms, presence',
    'gateway-1w': 'connection state recovery',
    'gateway-14w': 'presence copied into 14 workers'
  };
  let prev = null;
  const rows = [];
  for (const l of order) {
    const v = pss(l);
    if (v === null)
      continue;
    const r = by.find((x) => x.label === l);
    rows.push([l, kb(r.rss_per_conn_bytes), fmt(v) + ' B',
      prev === null ? 'n/a' : (v - prev >= 0 ? '+' : '') + fmt(v - prev) +
        ' B', what[l], note(r)]);
    prev = v;
  }
  table(['server', 'RSS per connection', 'PSS per connection',
    'over the row above', 'what the row adds', 'notes'], rows);
  const lws = pss('lwsmin-e'), own = pss('gateway-1w-norec');
  const rec = pss('gateway-1w'), w14 = pss('gateway-14w');
  if (lws !== null && own !== null && rec !== null && w14 !== null) {
    const target = 2560;
    p('What holds the scale run\'s memory per connection above issue 16\'s ' +
      `2.5 KiB (${fmt(target)} B), from these rows:`);
    p();
    p(`- libwebsockets, run as the gateway runs it, takes ${fmt(lws)} B ` +
      `by itself: ${fmt(100 * lws / target)}% of the target before the ` +
      'gateway holds a byte (a WebSocket `struct lws`, its rx buffer, the ' +
      'role\'s state).');
    p(`- the gateway's own state (the Engine.IO and Socket.IO sessions, the ` +
      `user, rooms, presence) adds ${fmt(own - lws)} B.`);
    p(`- connection state recovery (issue 15, on by default) adds ` +
      `${fmt(rec - own)} B here: a session slot in the shared log, and the ` +
      'log\'s entries, a fixed ring (`recovery_log_size`, 64 MB) that ' +
      'fewer connections fill less of, so this figure falls as the count ' +
      'grows (the `recovery` table prices the same for the anchor).');
    p(`- 14 workers instead of one add ${fmt(w14 - rec)} B at this count. ` +
      'Every worker keeps every user of the host in its own presence ' +
      'table: a 32-byte record with the id after it, in a malloc chunk, ' +
      'and a hash slot of 8 bytes at most half full, about 65 B for the ' +
      'benchmark\'s user ids, so some 850 B per connection over the 13 ' +
      'other workers. The rest is what each worker\'s own heap, arenas and ' +
      `tables take for its first ${fmt(by[0].conns / 14)} connections, ` +
      'which the scale run\'s 250,000 spread thin. The scale run needs 14 ' +
      'workers because a process may hold 20,000 descriptors here.');
    p();
    p('The cheapest way past, in order of bytes saved: one presence table ' +
      'per host in the shared memory the recovery log already lives in, ' +
      'each worker counting its own sockets in it (saves the copies, some ' +
      '850 B per connection at 14 workers, and the bus traffic that keeps ' +
      'them); a ' +
      '`recovery_log_size` fitted to two minutes of the host\'s traffic ' +
      '(the 64 MB default is a fixed cost: 268 B per connection at ' +
      '250,000); then the gateway\'s own state. Even with all of ' +
      `it gone, lws's ${fmt(lws)} B and the gateway's ${fmt(own - lws)} B ` +
      `come to ${fmt(own)} B: the target holds only without recovery and ` +
      'with presence shared.');
    p();
  }
}

/* Ratios */
p('## Ratios');
p();
p('Below 1 means the gateway needs less (CPU, memory, latency) than the ' +
  'other server; for rates, above 1 means it does more. Flat-out rates ' +
  'are what one load-generator CPU could drive: where its CPU is ~100% ' +
  'busy ("load CPU busy" above; the floor, usually) the rate is the load ' +
  'generator\'s limit, not the server\'s, and only the CPU per delivery ' +
  'compares.');
p();
const C = Number(conns.length ? conns[0].conns : 0);
const metrics = [
  ['server CPU per connection set up (conns, us)', 'conns', undefined, C,
    'cpu_us_per_conn'],
  ['memory per idle connection (conns)', 'conns', undefined, C,
    'rss_per_conn_bytes'],
  ['connect rate (conns)', 'conns', undefined, C, 'connect_per_s'],
  [`dm: server CPU per delivered message at ${rateOf('dm')}/s (us)`, 'dm',
    false, undefined, 'cpu_us_per_delivery'],
  [`dm: p99 latency at ${rateOf('dm')}/s (ms)`, 'dm', false, undefined,
    'lat_ms.p99'],
  ['dm: deliveries/s flat out', 'dm', true, undefined, 'delivered_per_s'],
  ['dm: server CPU per delivered message flat out (us)', 'dm', true,
    undefined,
    'cpu_us_per_delivery'],
  [`fanout: server CPU per delivery at ${rateOf('fanout')}/s (us)`,
    'fanout',
    false, undefined, 'cpu_us_per_delivery'],
  [`fanout: p99 latency at ${rateOf('fanout')}/s (ms)`, 'fanout', false,
    undefined, 'lat_ms.p99'],
  ['fanout: deliveries/s flat out', 'fanout', true, undefined,
    'delivered_per_s'],
  ['fanout: server CPU per delivery flat out (us)', 'fanout', true,
    undefined,
    'cpu_us_per_delivery'],
  [`churn: server CPU per connect+disconnect at ${rateOf('churn')}/s (us)`,
    'churn', false, undefined, 'cpu_us_per_cycle'],
  ['churn: cycles/s flat out', 'churn', true, undefined, 'cycles_per_s'],
];
for (const rate of persistRates) {
  metrics.push([`dm-persist: server CPU per message at ${fmt(rate)}/s (us)`,
    'dm-persist', undefined, undefined, 'cpu_us_per_delivery', rate]);
  metrics.push([`dm-persist: delivery p99 at ${fmt(rate)}/s (ms)`,
    'dm-persist', undefined, undefined, 'lat_ms.p99', rate]);
  metrics.push([`dm-persist: message_sent p99 at ${fmt(rate)}/s (ms)`,
    'dm-persist', undefined, undefined, 'ack_ms.p99', rate]);
}
if (runs.some((r) => r.scenario === 'dm-persist' && r.rate === 0)) {
  metrics.push(['dm-persist: deliveries/s flat out', 'dm-persist', undefined,
    undefined, 'delivered_per_s', 0]);
  metrics.push(['dm-persist: server CPU per message flat out (us)',
    'dm-persist', undefined, undefined, 'cpu_us_per_delivery', 0]);
}
table(['figure', ...SERVERS, 'gateway-1w / anchor', 'gateway-1w / floor',
  'gateway-all / anchor'],
metrics.map(([title, scen, flat, n, key, rate]) => {
  const v = SERVERS.map((s) => get(rate !== undefined ?
    findRate(s, scen, rate) : find(s, scen, flat, n), key));
  const digits = key.startsWith('lat') || key.startsWith('ack') ||
    key.startsWith('cpu_us') ? 1 : 0;
  return [title, ...v.map((x) => key === 'rss_per_conn_bytes' ?
    (x === null ? 'n/a' : kb(x)) : fmt(x, digits)),
  ratio(v[0], v[2]), ratio(v[0], v[3]), ratio(v[1], v[2])];
}));

p('## The exact commands');
p();
p('`$SECRET` is a random HS256 secret made for the run (also in ' +
  '`$TMP/secret`), `$TMP` the run\'s temporary directory, `$PID` the pid ' +
  'of the server just started (the gateway\'s master), `$STUB_PID` that ' +
  'of the stub chat service; in fanout-redis `$PID1,$PID2` are the two ' +
  'instances and `$REDIS_PID` the redis-server.' + (machine.scenarios ? ' Scenarios run: ' +
  `\`SCENARIOS="${machine.scenarios}"\`, dm-persist at ` +
  `\`PERSIST_RATES="${machine.persist_rates}"\`.` : ''));
p();
p('```');
p(commands);
p('```');
process.stdout.write(out.join('\n') + '\n');
