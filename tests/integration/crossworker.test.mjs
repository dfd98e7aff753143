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
// relayed to it, or their connection handed off to it.  /metrics is either
// per worker ({transport: {relayed}}) or gateway-wide ({totals, workers}).
function acrossWorkers(m) {
  if (m.totals) return (m.totals.relayed ?? 0) + (m.totals.handed_off ?? 0);
  return (m.transport?.relayed ?? 0) + (m.transport?.handed_off ?? 0);
}

test("GET /metrics shows polling requests that crossed workers", async () => {
  // Each request is a new connection, so it lands on any worker; with
  // per-worker figures one of them at least has some.  Gateway-wide
  // figures may be up to a second old: poll for a while.
  const seen = [];
  await until(async () => {
    const m = await getJSON(gw.url, "/metrics");
    seen.push(m);
    return acrossWorkers(m) > 0;
  }, 15000, "relayed or handed_off > 0 in GET /metrics").catch((e) => {
    assert.fail(`${e.message}; the last answer: ${JSON.stringify(seen.at(-1))}`);
  });
});
