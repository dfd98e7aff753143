// Guards issue 5 (master process): /health and /metrics speak for the whole
// gateway, whichever worker answers.  Real processes (a master and 4
// workers), the real socket.io-client, 127.0.0.1 only.  Each worker reports
// its figures every second and the master sends the list back every second,
// so a change shows within 2 s (the issue's bound; a little margin is given
// for the requests themselves).  The Prometheus text is read with a real
// parser of the exposition format (parse-prometheus-text-format).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import { children, json, probe, startGateway, until, workerOf } from "./lib.mjs";
import { connectMany } from "./masterlib.mjs";

const WORKERS = 4;
const CLIENTS = 16;
const LAG = 2500;	// ms: "within 2 s", plus the time of the requests

let gw, cs = [];
before(async () => {
  gw = await startGateway({ ready: "master", workers: WORKERS });
  cs = await connectMany(gw.url, CLIENTS, { prefix: "metrics-user-" });
});
after(async () => {
  for (const c of cs) c.close();
  await gw?.shutdown();
});

// Clients per worker slot, from their session ids.
function perSlot() {
  const h = new Map();
  for (const c of cs) {
    const { slot } = workerOf(c);
    h.set(slot, (h.get(slot) ?? 0) + 1);
  }
  return h;
}

test("GET /metrics (JSON): connections.total, workers[] with pid, connections and rss", async () => {
  const t0 = Date.now();
  let m;
  // Whichever worker answers must know every worker's sessions.
  await until(async () => {
    m = await json(gw.url, "/metrics");
    return m.connections?.total === CLIENTS;
  }, LAG, `connections.total == ${CLIENTS}`).catch((e) =>
    assert.fail(`${e.message}; last answer: ${JSON.stringify(m)}`));
  console.log(`/metrics counted ${CLIENTS} clients ${Date.now() - t0} ms after they connected`);
  // Three more answers in a row, on new connections: all agree.
  for (let i = 0; i < 3; i++) {
    const again = await json(gw.url, "/metrics");
    assert.equal(again.connections.total, CLIENTS, `answer ${i} agrees`);
  }
  assert.equal(m.connections.online, CLIENTS, "one user per client");
  assert.equal(m.workers.length, WORKERS, "one entry per worker");
  const pids = children(gw.pid).sort();
  assert.deepEqual(m.workers.map((w) => w.pid).sort(), pids, "the pids are the master's children");
  assert.deepEqual(m.workers.map((w) => w.worker).sort(), [0, 1, 2, 3]);
  const want = perSlot();
  for (const w of m.workers) {
    assert.equal(typeof w.rss, "number");
    assert.ok(w.rss > 1 << 20, `worker ${w.worker}: rss ${w.rss} bytes`);
    assert.equal(w.draining, false);
    assert.equal(w.generation, 1);
    assert.equal(w.connections, want.get(w.worker) ?? 0,
      `worker ${w.worker}: its connections are the clients whose sid names it`);
  }
  assert.equal(m.workers.reduce((s, w) => s + w.connections, 0), CLIENTS);
  assert.ok(m.totals.sessions_total >= CLIENTS);
  assert.equal(m.memory.rss, m.workers.reduce((s, w) => s + w.rss, 0), "memory.rss sums the workers");
  assert.equal(typeof m.uptime, "number");
  console.log(`clients per worker: ${m.workers.map((w) => `${w.worker}: ${w.connections}`).join(", ")}`);
});

test("GET /metrics with Accept: text/plain;version=0.0.4 is Prometheus text a parser reads", async () => {
  const want = perSlot();
  let families, r;
  await until(async () => {
    r = await probe(gw.url, "/metrics", { headers: { accept: "text/plain;version=0.0.4" } });
    assert.equal(r.status, 200, r.error ?? r.body);
    families = parsePrometheus(r.body);
    const g = families.find((f) => f.name === "socketgw_connections");
    return g && g.metrics.reduce((s, x) => s + Number(x.value), 0) === CLIENTS;
  }, LAG, "socketgw_connections summing to the clients").catch((e) =>
    assert.fail(`${e.message}; last answer:\n${r?.body}`));
  assert.match(r.headers["content-type"], /^text\/plain; ?version=0\.0\.4/);
  const byName = new Map(families.map((f) => [f.name, f]));
  const conns = byName.get("socketgw_connections");
  assert.equal(conns.type, "GAUGE");
  assert.equal(conns.metrics.length, WORKERS, "one sample per worker");
  for (const s of conns.metrics)
    assert.equal(Number(s.value), want.get(Number(s.labels.worker)) ?? 0,
      `socketgw_connections{worker="${s.labels.worker}"}`);
  assert.equal(Number(byName.get("socketgw_online_users").metrics[0].value), CLIENTS);
  assert.equal(byName.get("socketgw_resident_memory_bytes").metrics.length, WORKERS);
  const counters = families.filter((f) => f.type === "COUNTER");
  assert.ok(counters.length >= 5, `counters: ${counters.map((f) => f.name)}`);
  for (const f of counters) {
    assert.match(f.name, /^socketgw_[a-z_]+_total$/, "a counter's name ends with _total");
    assert.equal(f.metrics.length, WORKERS, `${f.name}: one sample per worker`);
    for (const s of f.metrics) assert.ok(Number.isFinite(Number(s.value)) && Number(s.value) >= 0);
    assert.ok(f.help.length > 0, `${f.name} has HELP`);
  }
  const opened = byName.get("socketgw_sessions_total");
  assert.ok(opened, `socketgw_sessions_total in ${[...byName.keys()]}`);
  assert.equal(opened.type, "COUNTER");
  assert.ok(opened.metrics.reduce((s, x) => s + Number(x.value), 0) >= CLIENTS);
  for (const f of families) assert.match(f.name, /^socketgw_/);

  // OpenMetrics scrapers get the text format too; a browser's Accept, JSON.
  const om = await probe(gw.url, "/metrics", { headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" } });
  assert.equal(om.status, 200);
  assert.match(om.headers["content-type"], /^text\/plain/);
  assert.ok(parsePrometheus(om.body).some((f) => f.name === "socketgw_connections"));
  const js = await probe(gw.url, "/metrics", { headers: { accept: "application/json" } });
  assert.equal(js.status, 200, js.error ?? js.body);
  assert.match(js.headers["content-type"], /^application\/json/);
  const m = JSON.parse(js.body);
  assert.equal(typeof m.connections?.total, "number", js.body);
  assert.equal(typeof m.totals?.sessions_total, "number", js.body);
  assert.deepEqual(m.workers.map((w) => w.worker).sort(), [0, 1, 2, 3], js.body);
});

test("GET /health: status ok, connections, onlineUsers, workers", async () => {
  let h;
  await until(async () => {
    h = await json(gw.url, "/health");
    return h.connections === CLIENTS;
  }, LAG, "health counting the clients").catch((e) =>
    assert.fail(`${e.message}; last answer: ${JSON.stringify(h)}`));
  assert.equal(h.status, "ok");
  assert.equal(h.service, "socket-gateway");
  assert.equal(h.onlineUsers, CLIENTS);
  assert.equal(h.workers, WORKERS);
  assert.ok(!Number.isNaN(Date.parse(h.timestamp)));
});

test("the figures follow clients that leave", async () => {
  const gone = cs.splice(0, CLIENTS / 2);
  for (const c of gone) c.close();
  let m;
  await until(async () => {
    m = await json(gw.url, "/metrics");
    return m.connections.total === cs.length && m.connections.online === cs.length;
  }, LAG + 1000, `connections.total == ${cs.length} after ${gone.length} left`).catch((e) =>
    assert.fail(`${e.message}; last answer: ${JSON.stringify(m?.connections)}`));
  const h = await json(gw.url, "/health");
  assert.equal(h.connections, cs.length);
});

// The counter of sessions opened is sessions_total in the JSON; its
// Prometheus name must not get a second suffix.
test("the Prometheus name of the sessions-opened counter is socketgw_sessions_total", {
}, async () => {
  const r = await probe(gw.url, "/metrics", { headers: { accept: "text/plain" } });
  const names = parsePrometheus(r.body).map((f) => f.name);
  assert.ok(names.includes("socketgw_sessions_total"), names.join(" "));
  assert.deepEqual(names.filter((n) => n.endsWith("_total_total")), []);
});
