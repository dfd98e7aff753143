// Guards issue 5 (master process): SIGTERM drains and exits 0.  Real
// processes, real signals, the real socket.io-client (WebSocket, no
// reconnection), 127.0.0.1 only.
//   - 200 connected clients, drain_batch 50, drain_interval 200ms: every
//     client is disconnected, in batches (the worker's closes, from its
//     debug log, come in groups of at most 50; the clients' disconnects
//     spread over at least 3 windows of 200 ms; both are logged), /health
//     answers 503 "draining" on a connection opened before the signal, and
//     the master exits 0 within shutdown_timeout (plus a margin).  One
//     worker, so that its 200 sessions take 4 batches (drain_batch counts
//     per worker).
//   - a drain that reaches shutdown_timeout closes the rest and exits 0.
//   - a second SIGTERM during a long drain kills the workers at once and
//     the master exits non-zero.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "node:http";
import { alive, children, connectMany, histogram, json, probe, sleep, startMaster, until }
  from "./masterlib.mjs";

const CLIENTS = 200;
const WS = { transports: ["websocket"] };

// Resolves the exit, or null after ms.
function exitWithin(gw, ms) {
  return Promise.race([gw.exited, sleep(ms).then(() => null)]);
}

// Batches, from the closes the worker logs at debug level: groups of close
// times more than 100 ms apart.
function batches(gw) {
  const t = gw.logged(/^session \S+ closed: server shutting down$/).map((l) => Date.parse(l.time))
    .sort((a, b) => a - b);
  const groups = [];
  for (const x of t) {
    if (groups.length && x - groups.at(-1).last <= 100) {
      groups.at(-1).n++;
      groups.at(-1).last = x;
    } else groups.push({ first: x, last: x, n: 1 });
  }
  return groups;
}

test(`SIGTERM with ${CLIENTS} clients: batches of 50 every 200 ms, /health 503, exit 0`, async () => {
  const timeout = 10000;
  // presence_mode scoped: with `all`, each batch of closes would also send
  // every remaining client a user_disconnected per closed user (15000
  // events here), enough to delay what this one process of clients sees.
  const gw = await startMaster({ workers: 1, args: ["-l", "debug"],
    conf: `drain_batch 50\ndrain_interval 200ms\nshutdown_timeout ${timeout}ms\npresence_mode scoped` });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let cs = [];
  try {
    cs = await connectMany(gw.url, CLIENTS, { prefix: "drain-", batch: 50, opts: WS });
    await until(async () => (await json(gw.url, "/health")).connections === CLIENTS, 3000,
      "/health counting every client");
    // A kept-alive connection to the worker, opened before the signal.
    const before = await probe(gw.url, "/health", { agent });
    assert.equal(before.status, 200);
    const t0 = Date.now();
    gw.signal("SIGTERM");
    await gw.waitLog("draining: SIGTERM");
    const during = await probe(gw.url, "/health", { agent, ms: 2000 });
    // A new connection: refused, reset or unanswered (the test at the end
    // asks for a refusal), but not served as healthy.
    const fresh = probe(gw.url, "/health", { ms: 1500 });
    const r = await exitWithin(gw, timeout + 3000);
    const freshR = await fresh;
    assert.ok(r, `the master exits within shutdown_timeout + 3 s:\n${gw.tail()}`);
    assert.equal(r.code, 0, `exit status 0:\n${gw.tail()}`);
    console.log(`exit 0 after ${r.at - t0} ms; /health on the kept-alive connection during the drain: ` +
      `${during.status ?? during.error} ${during.body ?? ""}; on a new connection: ` +
      `${freshR.status ?? freshR.error}`);
    assert.equal(during.status, 503, `/health while draining: ${JSON.stringify(during)}`);
    assert.equal(JSON.parse(during.body).status, "draining");
    assert.notEqual(freshR.status, 200, "a new connection is not served as healthy while draining");

    // The worker closed the sessions in batches of 50, 200 ms apart.
    const b = batches(gw);
    const start = Date.parse(gw.logged("draining: SIGTERM")[0].time);
    console.log(`sessions closed by the worker, in batches: ${b.map((g) =>
      `${g.n} at ${g.first - start} ms`).join(", ")}`);
    assert.equal(b.reduce((s, g) => s + g.n, 0), CLIENTS, "every session closed in a batch");
    assert.ok(b.length >= 3, "at least 3 batches");
    for (const g of b) assert.ok(g.n <= 50, `a batch of ${g.n} > drain_batch`);

    await until(() => cs.every((c) => c.all("disconnect").length > 0), 5000,
      "a disconnect on every client");
    const at = cs.map((c) => c.all("disconnect")[0].at - t0);
    const windows = histogram(at, (ms) => Math.floor(ms / 200));
    console.log(`disconnects seen by the clients per 200 ms window after SIGTERM: ` +
      `${[...windows].map(([w, n]) => `${w * 200}-${w * 200 + 199} ms: ${n}`).join(", ")}`);
    assert.ok(windows.size >= 3, "the clients' disconnects spread over >= 3 windows of 200 ms");
    assert.ok(Math.max(...windows.values()) <= 100, "no more than two batches in one window");
    console.log(`disconnect reasons: ${JSON.stringify(Object.fromEntries(
      histogram(cs, (c) => c.all("disconnect")[0].args[0])))}`);
    assert.equal(gw.logged("exited after draining").length, 1);
    assert.equal(gw.logged("all workers exited; master exiting").length, 1);
    for (const c of cs) assert.equal(c.all("connect_error").length, 0);
  } finally {
    agent.destroy();
    for (const c of cs) c.close();
    await gw.shutdown();
  }
});

test("a drain that reaches shutdown_timeout closes the rest and exits 0", async () => {
  const gw = await startMaster({ workers: 1,
    conf: "drain_batch 1\ndrain_interval 1s\nshutdown_timeout 2s" });
  let cs = [];
  try {
    cs = await connectMany(gw.url, 10, { prefix: "slow-drain-", opts: WS });
    await sleep(1100);	// the master's figures include them
    const t0 = Date.now();
    gw.signal("SIGTERM");
    const r = await exitWithin(gw, 2000 + 3000);
    assert.ok(r, `exits within shutdown_timeout + 3 s:\n${gw.tail()}`);
    assert.equal(r.code, 0, gw.tail());
    console.log(`exit 0 after ${r.at - t0} ms`);
    assert.equal(gw.logged(/drain: shutdown_timeout reached with \d+ sessions; closing them/).length, 1,
      gw.tail());
    await until(() => cs.every((c) => c.all("disconnect").length > 0), 5000, "every client disconnected");
    // A few went in batches; the rest were closed at the timeout.
    assert.ok(cs.filter((c) => c.all("disconnect")[0].at - t0 < 1500).length >= 1);
  } finally {
    for (const c of cs) c.close();
    await gw.shutdown();
  }
});

test("a second SIGTERM during a long drain kills the workers at once, exit non-zero", async () => {
  const gw = await startMaster({ workers: 2,
    conf: "drain_batch 1\ndrain_interval 10s\nshutdown_timeout 60s" });
  let cs = [];
  try {
    cs = await connectMany(gw.url, 10, { prefix: "stuck-", opts: WS });
    const workers = children(gw.pid);
    assert.equal(workers.length, 2);
    gw.signal("SIGTERM");
    await until(() => gw.logged("draining: SIGTERM").length === 2, 5000, "both workers draining");
    await sleep(300);
    assert.equal(gw.proc.exitCode, null, "still draining");
    const t0 = Date.now();
    gw.signal("SIGTERM");
    const r = await exitWithin(gw, 3000);
    assert.ok(r, `the master exits within 3 s of the second signal:\n${gw.tail()}`);
    console.log(`exit ${r.code} ${Date.now() - t0} ms after the second SIGTERM`);
    assert.notEqual(r.code, 0);
    assert.equal(gw.logged(/signal 15 received again; killing workers now/).length, 1, gw.tail());
    await until(() => workers.every((p) => !alive(p)), 3000, "the workers to be gone");
    await until(() => cs.every((c) => c.all("disconnect").length > 0), 5000, "every client disconnected");
  } finally {
    for (const c of cs) c.close();
    await gw.shutdown();
  }
});

// shutdown_timeout bounds the drain, whatever drain_interval is (the check
// allows any drain_interval up to shutdown_timeout).
test("shutdown_timeout bounds the drain even when drain_interval does not divide it", {
}, async () => {
  const gw = await startMaster({ workers: 1,
    conf: "drain_batch 1\ndrain_interval 2500ms\nshutdown_timeout 2600ms" });
  let cs = [];
  try {
    cs = await connectMany(gw.url, 5, { prefix: "late-", opts: WS });
    const t0 = Date.now();
    gw.signal("SIGTERM");
    const r = await exitWithin(gw, 2600 + 3000);
    console.log(`exit ${r?.code} after ${r ? r.at - t0 : "-"} ms`);
    assert.ok(r, "exits");
    assert.equal(r.code, 0, gw.tail());
    assert.equal(gw.logged("workers still running after shutdown_timeout").length, 0);
  } finally {
    for (const c of cs) c.close();
    await gw.shutdown();
  }
});

// As nginx does: once draining, the master closes its listening sockets
// too, so that a new connection is refused at once instead of waiting in
// the backlog of a socket nobody accepts on until the master exits.
test("during the SIGTERM drain a new connection is refused at once", {
}, async () => {
  const gw = await startMaster({ workers: 1,
    conf: "drain_batch 1\ndrain_interval 2s\nshutdown_timeout 10s" });
  let cs = [];
  try {
    cs = await connectMany(gw.url, 3, { prefix: "refused-", opts: WS });
    gw.signal("SIGTERM");
    await gw.waitLog("draining: SIGTERM");
    const r = await probe(gw.url, "/health", { ms: 2000 });
    console.log(`a new connection during the drain: ${r.status ?? r.error}`);
    assert.ok(r.status === 503 || r.error === "ECONNREFUSED", JSON.stringify(r));
  } finally {
    for (const c of cs) c.close();
    await gw.shutdown();
  }
});

// ^C in a terminal sends SIGINT to the master and to every worker at once;
// the master then sends each worker SIGTERM, which may well arrive after
// the worker has handled the SIGINT (that order is made certain here).  A
// worker must go on draining in batches, not die of the second signal.
test("^C in a terminal (SIGINT to every process, then the master's SIGTERM): no worker is killed", {
}, async () => {
  const gw = await startMaster({ workers: 2,
    conf: "drain_batch 1\ndrain_interval 500ms\nshutdown_timeout 10s" });
  let cs = [];
  try {
    cs = await connectMany(gw.url, 8, { prefix: "ctrl-c-", opts: WS });
    const t0 = Date.now();
    for (const p of children(gw.pid)) process.kill(p, "SIGINT");
    await until(() => gw.logged("draining: SIGINT").length === 2, 5000, "both workers draining");
    gw.signal("SIGINT");
    const r = await exitWithin(gw, 10000 + 3000);
    assert.ok(r, "exits");
    assert.equal(r.code, 0, gw.tail());
    console.log(`exit 0 after ${r.at - t0} ms; worker exits: ` +
      gw.logged(/^worker \d+ pid \d+ exited/).map((l) => l.msg).join("; "));
    assert.deepEqual(gw.logged("exited on signal").map((l) => l.msg), [], "no worker killed");
    assert.equal(gw.logged("exited after draining").length, 2);
    await until(() => cs.every((c) => c.all("disconnect").length > 0), 5000, "every client disconnected");
    // One per 500 ms per worker: not all at once.
    const at = cs.map((c) => c.all("disconnect")[0].at - t0);
    assert.ok(at.filter((ms) => ms >= 400).length >= 2, `disconnect times: ${at.sort((a, b) => a - b)}`);
  } finally {
    for (const c of cs) c.close();
    await gw.shutdown();
  }
});
