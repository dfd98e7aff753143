// Guards issue 15 (connection state recovery): delivery through the host's
// recovery log.  Every event the gateway sends without an ack id carries
// an offset (8 hex of the log's epoch, 16 of its sequence number) as its
// last argument, socket.io's way, and every worker delivers from the log
// in its order: a socket receives its events by strictly increasing
// offset, whichever workers sent them, each once.  With
// connection_recovery no the events carry no offset and still cross the
// workers (the bus).  The log's figures are in /metrics; a log that
// cannot be mapped leaves the gateway serving without recovery and
// /health degraded, saying why.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { totalmem } from "node:os";
import {
  closeAll, getJSON, placed, startGateway, uid, until, withoutOffset,
} from "./gwlib.mjs";

const OFFSET = /^([0-9a-f]{8})([0-9a-f]{16})$/;
const GROUP = "g-reclog";

// The offset of an event's arguments: [epoch, seq], or null.
function offsetOf(args) {
  const m = typeof args.at(-1) === "string" ? OFFSET.exec(args.at(-1)) : null;
  return args.length > 1 && m ? [m[1], BigInt(`0x${m[2]}`)] : null;
}

describe("with the recovery log (the default)", () => {
  let gw, r, s1, s2;
  before(async () => {
    gw = await startGateway({ workers: 3 });
    [r] = await placed(gw.url, "rl-recv", 1);
    [s1] = await placed(gw.url, "rl-s1", 1, { avoid: new Set([r.slot]) });
    [s2] = await placed(gw.url, "rl-s2", 1, { avoid: new Set([r.slot, s1.slot]) });
    for (const d of [r, s1, s2])
      assert.equal((await d.ack("join_room", { group_id: GROUP })).ok, true);
  });
  after(async () => {
    await closeAll([r, s1, s2]);
    await gw?.shutdown();
  });

  test("two workers' group messages reach a third by increasing offset, each once", async () => {
    const mark = r.mark();
    const tag = uid("rl");
    const sends = [];
    // Interleaved, from two workers at once: 2 x 50.
    for (let i = 0; i < 50; i++)
      for (const [k, d] of [[1, s1], [2, s2]])
        sends.push(d.ack("send_message", { group_id: GROUP, content: `${tag}-${k}-${i}` }));
    for (const a of await Promise.all(sends)) assert.equal(a.ok, true, JSON.stringify(a));
    const mine = () => r.events.slice(mark).filter((e) => e.name === "receive_message" &&
      String(e.args[0]?.content).startsWith(tag));
    await until(() => mine().length >= 100 || null, 15000, "100 group messages");
    const got = mine();
    assert.equal(got.length, 100, "each message once");
    let prev = null, epoch = null;
    const last = { 1: -1, 2: -1 };
    for (const e of got) {
      const off = offsetOf(e.args);
      assert.ok(off, `an offset as the last argument: ${JSON.stringify(e.args)}`);
      epoch ??= off[0];
      assert.equal(off[0], epoch, "one log, one epoch");
      if (prev !== null) assert.ok(off[1] > prev, `offsets increase: ${prev} then ${off[1]}`);
      prev = off[1];
      // Each sender's own order is kept.
      const [, k, i] = e.args[0].content.slice(tag.length).split("-");
      assert.equal(Number(i), last[k] + 1, `sender ${k}'s order`);
      last[k] = Number(i);
      assert.deepEqual(withoutOffset(e.args).length, 1);
    }
  });

  test("a socket's own events (message_sent, a direct message) carry offsets of the same log", async () => {
    const mark = r.mark(), m1 = s1.mark();
    const content = uid("dm");
    assert.equal((await s1.ack("send_message", { receiver_id: "rl-recv", content })).ok, true);
    const [got] = await until(() => {
      const l = r.events.slice(mark).filter((e) => e.name === "receive_message" &&
        e.args[0]?.content === content);
      return l.length ? l : null;
    }, 10000, "the direct message");
    const sent = s1.events.slice(m1).find((e) => e.name === "message_sent");
    assert.ok(sent, "message_sent");
    const a = offsetOf(got.args), b = offsetOf(sent.args);
    assert.ok(a && b, `offsets: ${JSON.stringify(got.args)} ${JSON.stringify(sent.args)}`);
    assert.equal(a[0], b[0]);
    assert.notEqual(a[1], b[1], "two entries of the log");
  });

  test("/metrics has the log's figures, /health is ok", async () => {
    const m = await until(async () => {
      const x = await getJSON(gw.url, "/metrics");
      return x.workers?.length === 3 && x.recovery_log?.appended >= 100 ? x : null;
    }, 15000, "/metrics with the log's figures");
    assert.equal(m.recovery_log.bytes, 64 * 1024 * 1024);
    assert.equal(m.recovery_log.down, 0);
    assert.ok(m.recovery_log.entries > 0 && m.recovery_log.used > 0);
    assert.equal(m.totals.recovery_log_lost, 0);
    assert.equal((await getJSON(gw.url, "/health")).status, "ok");
  });
});

describe("with connection_recovery no", () => {
  let gw, r, s;
  before(async () => {
    gw = await startGateway({ workers: 2, conf: "connection_recovery no\n" });
    [r] = await placed(gw.url, "rl-off-r", 1);
    [s] = await placed(gw.url, "rl-off-s", 1, { avoid: new Set([r.slot]) });
  });
  after(async () => {
    await closeAll([r, s]);
    await gw?.shutdown();
  });

  test("events carry no offset and still cross the workers", async () => {
    const content = uid("off");
    assert.equal((await s.ack("send_message", { receiver_id: "rl-off-r", content })).ok, true);
    const args = await r.wait("receive_message", { pred: (m) => m?.content === content });
    assert.equal(args.length, 1, JSON.stringify(args));
    const m = await until(async () => {
      const x = await getJSON(gw.url, "/metrics");
      return x.workers?.length === 2 ? x : null;
    }, 15000, "/metrics");
    assert.equal(m.recovery_log.bytes, 0);
    assert.equal(m.recovery_log.down, 0);
  });
});

describe("a worker that falls behind the log", () => {
  let gw, r, s;
  before(async () => {
    gw = await startGateway({ workers: 2,
      conf: "recovery_log_size 1mb\nevent_rate 1000000\nevent_burst 1000000\n" });
    [r] = await placed(gw.url, "rl-slow-r", 1);
    [s] = await placed(gw.url, "rl-slow-s", 1, { avoid: new Set([r.slot]) });
    for (const d of [r, s])
      assert.equal((await d.ack("join_room", { group_id: "g-slow" })).ok, true);
  });
  after(async () => {
    await closeAll([r, s]);
    await gw?.shutdown();
  });

  test("loses what was evicted meanwhile: counted, /health degraded, then delivers again", async () => {
    const m0 = await until(async () => {
      const x = await getJSON(gw.url, "/metrics");
      return x.workers?.length === 2 ? x : null;
    }, 15000, "/metrics");
    const pid = m0.workers.find((w) => w.worker === r.slot).pid;
    const tag = uid("slow");
    // r's worker sleeps while 2 MB go through a 1 MB log.
    process.kill(pid, "SIGSTOP");
    try {
      for (let i = 0; i < 40; i++) {
        const batch = [];
        for (let j = 0; j < 20; j++)
          batch.push(s.ack("send_message", { group_id: "g-slow", content: `${tag}-${"x".repeat(2500)}` }));
        for (const a of await Promise.all(batch)) assert.equal(a.ok, true);
      }
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const m = await until(async () => {
      const x = await getJSON(gw.url, "/metrics");
      return x.totals?.recovery_log_lost > 0 ? x : null;
    }, 15000, "recovery_log_lost counted");
    assert.ok(m.recovery_log.evicted > 0);
    const h = await until(async () => {
      const x = await getJSON(gw.url, "/health");
      return x.status === "degraded" ? x : null;
    }, 15000, "/health degraded");
    assert.match(h.reason, /fell behind the recovery log/);
    // What was left in the log came, by increasing offset; then new ones.
    const got = r.all("receive_message", (x) => x?.content?.startsWith(tag));
    assert.ok(got.length < 800, `${got.length} of 800: some were lost`);
    const content = uid("after");
    assert.equal((await s.ack("send_message", { group_id: "g-slow", content })).ok, true);
    await r.wait("receive_message", { pred: (x) => x?.content === content });
  });
});

// 64 GiB of log and its index cannot be mapped here; on a machine with
// that much memory the mapping would succeed and there is nothing to see.
describe("a log that cannot be mapped", { skip: totalmem() >= 64 * 2 ** 30 }, () => {
  let gw, r, s;
  before(async () => {
    gw = await startGateway({ workers: 2, conf: "recovery_log_size 64gb\n" });
    [r] = await placed(gw.url, "rl-nomap-r", 1);
    [s] = await placed(gw.url, "rl-nomap-s", 1, { avoid: new Set([r.slot]) });
  });
  after(async () => {
    await closeAll([r, s]);
    await gw?.shutdown();
  });

  test("serves without recovery, logs an error, /health degraded with the reason", async () => {
    const content = uid("nomap");
    assert.equal((await s.ack("send_message", { receiver_id: "rl-nomap-r", content })).ok, true);
    const args = await r.wait("receive_message", { pred: (m) => m?.content === content });
    assert.equal(args.length, 1, "no offset without a log");
    assert.ok(gw.logged("the recovery log cannot be mapped").length > 0, "an error in the log");
    const h = await until(async () => {
      const x = await getJSON(gw.url, "/health");
      return x.status === "degraded" ? x : null;
    }, 15000, "/health degraded");
    assert.match(h.reason, /connection recovery is off/);
    const m = await getJSON(gw.url, "/metrics");
    assert.equal(m.recovery_log.down, 1);
  });
});
