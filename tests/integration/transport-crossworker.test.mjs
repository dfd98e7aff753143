// Guards issue 4 (worker transport): long-polling with several workers and
// no sticky load balancer.  50 polling-only clients (each its own
// connection) against 4 workers exchange acked events for 10 s: each poll
// or POST lands on any worker, which must relay it to the session's owner;
// no ack may be lost and no client may see an error or a disconnect.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { client, getJSON, sleep, startGateway, token, until } from "./lib.mjs";

const CLIENTS = 50;
const ROUNDS = 100;		// events per client, one each INTERVAL ms
const INTERVAL = 100;

let gw;
before(async () => { gw = await startGateway({ workers: 4 }); });
after(async () => { await gw?.shutdown(); });

test(`${CLIENTS} polling clients, ${ROUNDS} acked events each, across 4 workers`, async () => {
  const cs = [];
  try {
    for (let i = 0; i < CLIENTS; i++)
      cs.push(client(gw.url, { auth: { token: token(`poller-${i}`) }, transports: ["polling"] }));
    for (const [i, c] of cs.entries()) {
      const [hello] = await c.wait("connected", { ms: 30000 });
      assert.equal(hello.user_id, `poller-${i}`);
    }
    let sent = 0, acked = 0;
    const bad = [];
    const run = async (c, i) => {
      for (let n = 0; n < ROUNDS && c.socket.connected; n++) {
        sent++;
        c.socket.timeout(60000).emit("ping_across", { client: i, n }, (err, ack) => {
          if (err) bad.push(`client ${i} event ${n}: ${err.message}`);
          else if (ack?.ok !== false || ack.error?.code !== "unknown_event")
            bad.push(`client ${i} event ${n}: ack ${JSON.stringify(ack)}`);
          else acked++;
        });
        await sleep(INTERVAL);
      }
    };
    await Promise.all(cs.map(run));
    await until(() => acked + bad.length >= sent, 60000, `acks (${acked} of ${sent})`);
    assert.deepEqual(bad.slice(0, 10), []);
    assert.equal(sent, CLIENTS * ROUNDS, "every client sent all its events");
    assert.equal(acked, sent);
    await until(() => cs.every((c) => c.all("error").length >= ROUNDS), 30000,
      "an error event for each unknown event");
    for (const [i, c] of cs.entries()) {
      for (const what of ["connect_error", "disconnect", "manager_error"])
        assert.equal(c.all(what).length, 0, `client ${i}: ${what}: ` +
          JSON.stringify(c.all(what).map((e) => String(e.args[0]))));
      assert.equal(c.all("error").length, ROUNDS, `client ${i}: one error event per event`);
      assert.equal(c.socket.io.engine.transport.name, "polling");
    }
    const errors = gw.logs.filter((l) => l.level === "error");
    assert.deepEqual(errors, [], "no error in the gateway's log");
  } finally {
    for (const c of cs) c.close();
  }
});

// Polling requests that reached the session's owner from another worker:
// relayed to it, or their connection handed off to it, gateway-wide
// (/metrics: {totals, workers[]}).
function acrossWorkers(m) {
  assert.equal(typeof m.totals?.relayed, "number", JSON.stringify(m));
  assert.equal(typeof m.totals.handed_off, "number", JSON.stringify(m));
  return m.totals.relayed + m.totals.handed_off;
}

// On a gateway of its own, so that what it counts is its own traffic: a
// polling client whose every request is a new connection (agent: false),
// which lands on any of the 4 workers.
test("GET /metrics shows polling requests that crossed workers", async () => {
  const own = await startGateway({ workers: 4 });
  let c;
  try {
    // Nothing has crossed yet, once all 4 workers have reported.
    const m0 = await until(async () => {
      const m = await getJSON(own.url, "/metrics");
      return Array.isArray(m.workers) && m.workers.length === 4 ? m : null;
    }, 15000, "/metrics listing 4 workers");
    assert.equal(acrossWorkers(m0), 0, JSON.stringify(m0.totals));
    c = client(own.url, { auth: { token: token("crosser") }, transports: ["polling"], agent: false });
    await c.wait("connected", { ms: 15000 });
    // 20 events, each a POST and the poll that brings its ack: with every
    // request on a new connection, some reach another worker than the
    // owner (all 40 on the owner: 1 in 4^40).
    for (let n = 0; n < 20; n++) {
      const ack = await c.socket.timeout(15000).emitWithAck("ping_across", { n });
      assert.equal(ack?.error?.code, "unknown_event", JSON.stringify(ack));
    }
    // Gateway-wide figures may be up to a second or two old.
    let m;
    await until(async () => {
      m = await getJSON(own.url, "/metrics");
      return acrossWorkers(m) > 0;
    }, 15000, "relayed or handed_off > 0 in GET /metrics").catch((e) =>
      assert.fail(`${e.message}; the last answer: ${JSON.stringify(m)}`));
    // The totals are the workers' sums.
    for (const k of ["relayed", "handed_off"])
      assert.equal(m.totals[k], m.workers.reduce((s, w) => s + w[k], 0), k);
    assert.equal(c.all("connect_error").length + c.all("disconnect").length, 0);
  } finally {
    c?.close();
    await own.shutdown();
  }
});
