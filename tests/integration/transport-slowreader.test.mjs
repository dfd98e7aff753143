// Guards issue 4 (worker transport): the per-connection output queue limit.
// A raw WebSocket client that stops reading while it floods the gateway
// with events (each answered with an `error` event and an ack it never
// reads) is cut off once output_queue_limit bytes are queued for it; the
// worker's memory stays bounded over several rounds and a normal client on
// the same worker keeps its acks throughout.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { client, deadline, getJSON, sleep, startGateway, token, until } from "./lib.mjs";

const ROUNDS = 3;		// measured rounds, after one to warm up
const FLOOD = 20000;		// events per round at most
// Each event is answered with an ack and an `error` event that both name
// it: a long name makes the answers outgrow the kernel's socket buffers
// (several MB on loopback) long before FLOOD events.
const NAME = `flood-${"n".repeat(1000)}`;
const PAD = "x".repeat(256);

let gw;
before(async () => {
  // The flood is far past event_rate's default (issue 11.9): lifted, so
  // that what cuts the flooder off is its queue.
  gw = await startGateway({ workers: 1, conf: "max_payload 32kb\noutput_queue_limit 64kb\n" +
    "event_rate 1000000\nevent_burst 1000000" });
});
after(async () => { await gw?.shutdown(); });

// Engine.IO OPEN and Socket.IO CONNECT by hand; resolves with the socket
// once the CONNECT is answered.
function rawConnect(url, user) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
  const got = [];
  ws.on("message", (d) => got.push(String(d)));
  const closed = new Promise((r) => ws.on("close", (code) => r(code)));
  ws.on("error", () => {});
  return until(() => {
    if (ws.readyState === WebSocket.CLOSED) throw new Error("closed during the handshake");
    if (got.length === 1 && got[0][0] === "0") {
      const open = JSON.parse(got[0].slice(1));
      assert.equal(typeof open.sid, "string");
      ws.send(`40${JSON.stringify({ token: token(user) })}`);
      got.push("(CONNECT sent)");
    }
    return got.some((m) => m.startsWith("40{")) ? { ws, got, closed } : null;
  }, 15000, "the raw handshake");
}

// The worker's figures from /metrics (JSON: {totals, workers[]}) once they
// show the cut-off of round `round` done: slow_readers counts every round
// so far, and the flooder's session is gone (only the normal client's is
// left).  Gateway-wide figures are up to a second or two old: polled.
async function afterCutOff(url, round) {
  let m;
  await until(async () => {
    m = await getJSON(url, "/metrics");
    assert.ok(Array.isArray(m.workers), JSON.stringify(m));
    assert.equal(m.workers.length, 1, "one worker");
    assert.equal(typeof m.totals?.slow_readers, "number", JSON.stringify(m));
    return m.totals.slow_readers >= round + 1 && m.workers[0].connections === 1;
  }, 15000, `slow_readers ${round + 1} and the flooder's session gone`).catch((e) =>
    assert.fail(`${e.message}; the last answer: ${JSON.stringify(m)}`));
  // One cut-off per round, each counted once.
  assert.equal(m.totals.slow_readers, round + 1, `round ${round}: slow_readers`);
  return m;
}

test("a client that does not read is cut off; others are not", async (t) => {
  const normal = client(gw.url, { auth: { token: token("normal") }, transports: ["websocket"] });
  await normal.wait("connected", { ms: 15000 });
  // The normal client asks for an ack every 100 ms throughout.
  let asked = 0, answered = 0, stop = false;
  const failures = [];
  const pinger = (async () => {
    while (!stop && asked < 2000) {
      asked++;
      try {
        const ack = await normal.socket.timeout(30000).emitWithAck("still_there", asked);
        if (ack?.error?.code === "unknown_event") answered++;
        else failures.push(JSON.stringify(ack));
      } catch (e) {
        failures.push(e.message);
      }
      await sleep(100);
    }
  })();

  const rssAfter = [];
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const cutBefore = gw.logged("does not read").length;
      const { ws, got, closed } = await rawConnect(gw.url, `flooder-${round}`);
      ws._socket.pause();			// read nothing more
      const frame = `420["${NAME}",{"x":"${PAD}"}]`;
      let sent = 0;
      while (sent < FLOOD && ws.readyState === WebSocket.OPEN &&
          gw.logged("does not read").length === cutBefore) {
        for (let i = 0; i < 100 && sent < FLOOD; i++, sent++) ws.send(frame);
        // Let the kernel take it, and the gateway's log come in.
        await new Promise(setImmediate);
        await until(() => ws.bufferedAmount < 1 << 20 || ws.readyState !== WebSocket.OPEN,
          30000, "the flood to be written");
      }
      await until(() => gw.logged("does not read").length > cutBefore, 30000,
        `the gateway to log "does not read" (round ${round}, ${sent} events sent)`);
      // Read again: what the kernel holds, then the end of the connection.
      const readBefore = got.length;
      ws._socket.resume();
      const code = await Promise.race([closed, deadline(30000).then(() => "open")]);
      assert.notEqual(code, "open", `round ${round}: the connection was closed`);
      const replies = got.length - readBefore;
      assert.ok(replies < 2 * sent,
        `round ${round}: ${replies} replies read for ${sent} events: some were dropped`);
      rssAfter.push((await afterCutOff(gw.url, round)).workers[0].rss);
      t.diagnostic(`round ${round || "0 (warm-up)"}: cut off after ${sent} events, ${replies} replies ` +
        `read, worker RSS ${rssAfter.at(-1)}`);
      assert.equal(normal.all("disconnect").length, 0, "the normal client is still connected");
    }
  } finally {
    stop = true;
    await pinger;
    normal.close();
  }
  t.diagnostic(`normal client: ${answered} of ${asked} acks`);
  assert.deepEqual(failures, [], "every ack of the normal client arrived");
  assert.equal(answered, asked);
  assert.ok(asked > 0);
  // Every cut-off counted once, and the normal client never.
  const m = await getJSON(gw.url, "/metrics");
  assert.equal(m.totals.slow_readers, ROUNDS + 1, `slow_readers counts the ${ROUNDS + 1} cut-offs`);
  assert.ok(rssAfter[ROUNDS] <= 2 * rssAfter[1],
    `worker RSS after round 1: ${rssAfter[1]}, after round ${ROUNDS}: ${rssAfter[ROUNDS]}`);
});
