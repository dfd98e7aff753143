// Guards issue 5 (master process): SIGTERM drains and exits 0.  Real
// processes, real signals, the real socket.io-client (WebSocket, no
// reconnection), 127.0.0.1 only.
//   - 150 connected clients, drain_batch 50, drain_interval 4s: every
//     client is disconnected, in batches of exactly 50, one batch at a time
//     (told apart by order: when the 50th client hears its disconnect, the
//     51st has not, the next batch being drain_interval away; no timing is
//     asserted), /health answers 503 "draining" on a connection opened
//     before the signal, and the master exits 0.  One worker, so that its
//     150 sessions take 3 batches (drain_batch counts per worker).
//   - a drain that reaches shutdown_timeout closes the rest and exits 0
//     (the worker says how many sessions were left: fewer than it had).
//   - a second SIGTERM during a long drain kills the workers at once and
//     the master exits non-zero.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "node:http";
import { children, json, probe, sleep, startGateway, until } from "./lib.mjs";
import { alive, connectMany, histogram } from "./masterlib.mjs";

const CLIENTS = 150;
const BATCH = 50;
const WS = { transports: ["websocket"] };

// Resolves the exit, or null after ms.
function exitWithin(gw, ms) {
  return Promise.race([gw.exited, sleep(ms).then(() => null)]);
}

// The clients that heard their disconnect.
function disconnected(cs) {
  return cs.filter((c) => c.all("disconnect").length > 0).length;
}

test(`SIGTERM with ${CLIENTS} clients: batches of ${BATCH}, one at a time, /health 503, exit 0`, async () => {
  const timeout = 30000;
  // presence_mode scoped: with `all`, each batch of closes would also send
  // every remaining client a user_disconnected per closed user, enough to
  // delay what this one process of clients sees.
  const gw = await startGateway({ ready: "master", workers: 1, args: ["-l", "debug"],
    conf: `drain_batch ${BATCH}\ndrain_interval 4s\nshutdown_timeout ${timeout}ms\npresence_mode scoped` });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let cs = [];
  try {
    cs = await connectMany(gw.url, CLIENTS, { prefix: "drain-", batch: 50, opts: WS });
    await until(async () => (await json(gw.url, "/health")).connections === CLIENTS, 10000,
      "/health counting every client");
    // A kept-alive connection to the worker, opened before the signal.
    const before = await probe(gw.url, "/health", { agent });
    assert.equal(before.status, 200);
    gw.signal("SIGTERM");
    await gw.waitLog("draining: SIGTERM");
    const during = await probe(gw.url, "/health", { agent, ms: 5000 });
    // A new connection: refused, reset or unanswered (the test at the end
    // asks for a refusal), but not served as healthy.
    const fresh = probe(gw.url, "/health", { ms: 1500 });
    // Batch by batch: once k batches are heard, exactly k * BATCH clients
    // are disconnected (the next batch is drain_interval later).
    const seen = [];
    for (let k = 1; k * BATCH <= CLIENTS; k++) {
      await until(() => disconnected(cs) >= k * BATCH, 20000, `batch ${k} (${disconnected(cs)} disconnected)`);
      seen.push(disconnected(cs));
    }
    console.log(`disconnected clients as each batch was heard: ${seen.join(", ")}`);
    assert.deepEqual(seen, [50, 100, 150], "each batch closes drain_batch sessions, one batch at a time");
    const r = await exitWithin(gw, 20000);
    const freshR = await fresh;
    assert.ok(r, `the master exits after the drain:\n${gw.tail()}`);
    assert.equal(r.code, 0, `exit status 0:\n${gw.tail()}`);
    assert.equal(during.status, 503, `/health while draining: ${JSON.stringify(during)}`);
    assert.equal(JSON.parse(during.body).status, "draining");
    assert.notEqual(freshR.status, 200, "a new connection is not served as healthy while draining");
    // The worker closed every session, for the drain.
    assert.equal(gw.logged(/^session \S+ closed: server shutting down$/).length, CLIENTS);
    assert.equal(gw.logged("shutdown_timeout reached").length, 0, "the batches, not the timeout, closed them");
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
  const gw = await startGateway({ ready: "master", workers: 1,
    conf: "drain_batch 1\ndrain_interval 1s\nshutdown_timeout 2s" });
  let cs = [];
  try {
    cs = await connectMany(gw.url, 10, { prefix: "slow-drain-", opts: WS });
    const t0 = Date.now();
    gw.signal("SIGTERM");
    const r = await exitWithin(gw, 2000 + 3000);
    assert.ok(r, `exits within shutdown_timeout + 3 s:\n${gw.tail()}`);
    assert.equal(r.code, 0, gw.tail());
    console.log(`exit 0 after ${gw.exitedAt - t0} ms`);
    const left = gw.logged(/drain: shutdown_timeout reached with \d+ sessions; closing them/);
    assert.equal(left.length, 1, gw.tail());
    // A few went in batches (one a batch, a batch a second: at most 3 by
    // the 2 s timeout, at least the first two); the rest were closed at
    // the timeout.
    const n = Number(/with (\d+) sessions/.exec(left[0].msg)[1]);
    assert.ok(n >= 7 && n <= 8, `${n} sessions left at the timeout`);
    await until(() => cs.every((c) => c.all("disconnect").length > 0), 5000, "every client disconnected");
  } finally {
    for (const c of cs) c.close();
    await gw.shutdown();
  }
});

test("a second SIGTERM during a long drain kills the workers at once, exit non-zero", async () => {
  const gw = await startGateway({ ready: "master", workers: 2,
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
  const gw = await startGateway({ ready: "master", workers: 1,
    conf: "drain_batch 1\ndrain_interval 2500ms\nshutdown_timeout 2600ms" });
  let cs = [];
  try {
    cs = await connectMany(gw.url, 5, { prefix: "late-", opts: WS });
    const t0 = Date.now();
    gw.signal("SIGTERM");
    const r = await exitWithin(gw, 2600 + 3000);
    console.log(`exit ${r?.code} after ${r ? gw.exitedAt - t0 : "-"} ms`);
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
  const gw = await startGateway({ ready: "master", workers: 1,
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
  const gw = await startGateway({ ready: "master", workers: 2,
    conf: "drain_batch 1\ndrain_interval 2s\nshutdown_timeout 30s" });
  let cs = [];
  try {
    cs = await connectMany(gw.url, 4, { prefix: "ctrl-c-", opts: WS });
    const t0 = Date.now();
    for (const p of children(gw.pid)) process.kill(p, "SIGINT");
    await until(() => gw.logged("draining: SIGINT").length === 2, 5000, "both workers draining");
    gw.signal("SIGINT");
    // One session per worker per batch, the next batch 2 s later: when
    // the first batch is heard, the others are still connected.
    await until(() => disconnected(cs) > 0, 10000, "the first batch");
    assert.ok(disconnected(cs) <= 2, `${disconnected(cs)} of 4 disconnected by the first batch`);
    const r = await exitWithin(gw, 30000 + 3000);
    assert.ok(r, "exits");
    assert.equal(r.code, 0, gw.tail());
    console.log(`exit 0 after ${gw.exitedAt - t0} ms; worker exits: ` +
      gw.logged(/^worker \d+ pid \d+ exited/).map((l) => l.msg).join("; "));
    assert.deepEqual(gw.logged("exited on signal").map((l) => l.msg), [], "no worker killed");
    assert.equal(gw.logged("exited after draining").length, 2);
    await until(() => cs.every((c) => c.all("disconnect").length > 0), 5000, "every client disconnected");
  } finally {
    for (const c of cs) c.close();
    await gw.shutdown();
  }
});
