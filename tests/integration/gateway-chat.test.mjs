// Guards issue 13 (downstream services): the chat service's persistence.
// Each message is POSTed once to chat_messages_path with its id as the
// Idempotency-Key, while it is already delivered; its sender's
// message_sent says `persisted`, `queued` (spooled, on disk) or `sent` (no
// chat service); a refusal for good is an `error` naming the message; a
// full spool is a clear error, counted, the message still delivered;
// receipts and deletions reach the service once each.  And the issue's
// test: a chat service down for 20 s while 1,000 messages are sent, with a
// gateway restart in the middle, has afterwards stored every message
// exactly once, in per-sender order.
//
// The chat service is a Node stub (stubs.mjs): real HTTP on loopback,
// storing by Idempotency-Key as a real service with idempotency would.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeAll, online, serviceFigures, sleep, startGateway, uid, until } from "./gwlib.mjs";
import { probe } from "./lib.mjs";
import { startStub } from "./stubs.mjs";

const WORKERS = 2;

// A chat service: stores each message once by its Idempotency-Key (a
// repeat answers 409, as the API allows), remembers the order of first
// stores; answers status updates and deletions, also once per key; and
// says everyone is a member of every group (group_membership service, the
// default with a chat service, is gateway-membership.test.mjs's subject).
function chatService(refuse = () => false) {
  const stored = new Map();     // key -> body
  const order = [];             // keys, in the order of their first store
  const updates = new Map();    // key -> {method, path, body}
  const route = (call) => {
    const key = call.headers["idempotency-key"];
    if (call.method === "GET" && /^\/api\/groups\/[^/]+\/members\/[^/]+$/.test(call.path))
      return { status: 200, body: { member: true } };
    if (call.method === "POST" && call.path === "/api/messages") {
      if (refuse(call.body)) return { status: 422, body: { error: "refused" } };
      if (stored.has(key)) return { status: 409, body: { error: "exists" } };
      stored.set(key, call.body);
      order.push(key);
      return { status: 201, body: { id: call.body.id } };
    }
    if (!updates.has(key)) updates.set(key, { method: call.method, path: call.path, body: call.body });
    return { status: 200, body: { ok: true } };
  };
  return { stored, order, updates, route };
}

// A message delivered but not stored: the ack {ok:false, error:{code,
// message, message_id}} and an `error` event {code, message, event,
// message_id} before it.  Returns the ack.
async function notStored(d, code, event, arg) {
  const before = d.all("error").length;
  const ack = await d.ack(event, arg);
  assert.equal(ack?.ok, false, JSON.stringify(ack));
  assert.equal(ack.error.code, code, JSON.stringify(ack));
  assert.match(ack.error.message_id, /\S/);
  const errs = d.args("error").slice(before);
  assert.equal(errs.length, 1, `${errs.length} error events`);
  assert.deepEqual(errs[0], { code, message: ack.error.message, event, message_id: ack.error.message_id });
  return ack;
}

// The chat service's figures in /metrics once pred holds of them.
function chatFigures(url, pred = () => true, what = "", ms = 15000, workers = WORKERS) {
  return serviceFigures(url, workers, "chat", pred, what, ms);
}

describe("persistence", () => {
  let gw, stub, svc, alice, bob;

  before(async () => {
    svc = chatService((b) => b?.content === "refuse me");
    stub = await startStub({ route: svc.route });
    gw = await startGateway({
      workers: WORKERS,
      conf: `chat_service_url "${stub.url}"\nservice_token "chat-token"\n`,
    });
    alice = await online(gw.url, "alice");
    bob = await online(gw.url, "bob");
  });

  after(async () => {
    await closeAll([alice, bob]);
    await gw?.shutdown();
    await stub?.close();
  });

  test("a message is POSTed once with its id as the key; message_sent says persisted", async () => {
    const content = uid("hello");
    const mark = alice.mark();
    const ack = await alice.ack("send_message", { receiver_id: "bob", content, client_msg_id: "c-1" });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal(ack.message.status, "persisted");
    const [got] = await bob.wait("receive_message", { pred: (m) => m.content === content });
    assert.equal(got.id, ack.message.id);
    assert.equal(got.status, undefined);
    const [sent] = await alice.next(mark, "message_sent");
    assert.equal(sent.id, got.id);
    assert.equal(sent.status, "persisted");
    const calls = stub.on("/api/messages").filter((c) => c.body?.content === content);
    assert.equal(calls.length, 1, "one POST");
    const c = calls[0];
    assert.equal(c.method, "POST");
    assert.equal(c.path, "/api/messages");
    assert.equal(c.headers["idempotency-key"], got.id);
    assert.equal(c.headers.authorization, "Bearer chat-token");
    assert.deepEqual(c.body, {
      id: got.id, sender_id: "alice", receiver_id: "bob", content, message_type: "text",
      created_at: got.created_at, client_msg_id: "c-1",
    });
  });

  test("a group message is persisted with its group_id", async () => {
    for (const d of [alice, bob])
      assert.equal((await d.ack("join_room", { group_id: "g-chat" })).ok, true);
    const content = uid("group");
    const ack = await alice.ack("send_group_message", { group_id: "g-chat", content });
    assert.equal(ack.message.status, "persisted");
    await bob.wait("receive_message", { pred: (m) => m.content === content });
    const c = stub.on("/api/messages").find((x) => x.body?.content === content);
    assert.equal(c.body.group_id, "g-chat");
    assert.equal(c.body.receiver_id, undefined);
    assert.equal(c.headers["idempotency-key"], ack.message.id);
  });

  test("a refusal for good (422) is an error naming the message, which was delivered", async () => {
    const ack = await notStored(alice, "not_stored", "send_message", { receiver_id: "bob", content: "refuse me" });
    const [got] = await bob.wait("receive_message", { pred: (m) => m.content === "refuse me" });
    assert.equal(ack.error.message_id, got.id);
    const e = alice.args("error").at(-1);
    assert.equal(e.message_id, got.id);
    assert.equal(alice.args("message_sent", (m) => m.id === got.id).length, 0);
    // Refused once: not retried, not spooled.
    await sleep(300);
    assert.equal(stub.on("/api/messages").filter((x) => x.body?.content === "refuse me").length, 1);
    await chatFigures(gw.url, (s) => s.refused >= 1 && s.spooled === 0, "refused 1, nothing spooled");
  });

  test("receipts and deletions reach the service once each, by key", async () => {
    const id = "m 1/ü";                  // escaped in the path
    const esc = "m%201%2F%C3%BC";
    assert.equal((await bob.ack("message_delivered", { message_id: id, sender_id: "alice" })).ok, true);
    assert.equal((await bob.ack("message_read", { message_id: id, sender_id: "alice" })).ok, true);
    assert.equal((await bob.ack("message_read_status", { message_id: id, sender_id: "alice", status: "read" })).ok, true);
    assert.equal((await alice.ack("delete_message", { message_id: id, receiver_id: "bob" })).ok, true);
    const keys = ["m_1/ü-delivered-bob", "m_1/ü-read-bob", "m_1/ü-deleted-alice"]
      .map((k) => Buffer.from(k).toString("latin1").replace(/[^\x21-\x7e]/g, "_"));
    await until(() => keys.every((k) => svc.updates.has(k)), 10000, `updates ${keys}`);
    const d = svc.updates.get(keys[0]);
    assert.equal(d.method, "POST");
    assert.equal(d.path, `/api/messages/${esc}/status`);
    assert.equal(d.body.message_id, id);
    assert.equal(d.body.status, "delivered");
    assert.equal(d.body.user_id, "bob");
    assert.match(d.body.at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(svc.updates.get(keys[1]).body.status, "read");
    const del = svc.updates.get(keys[2]);
    assert.equal(del.method, "DELETE");
    assert.equal(del.path, `/api/messages/${esc}`);
    assert.equal(del.body.user_id, "alice");
    // Once each: message_read and message_read_status(read) share a key,
    // and nothing was repeated.
    await sleep(300);
    const posts = stub.calls.filter((c) => c.path.startsWith(`/api/messages/${esc}`));
    const perKey = {};
    for (const c of posts) perKey[c.headers["idempotency-key"]] = (perKey[c.headers["idempotency-key"]] ?? 0) + 1;
    assert.deepEqual(perKey, { [keys[0]]: 1, [keys[1]]: 2, [keys[2]]: 1 });
  });
});

describe("without a chat service", () => {
  let gw, alice, bob;
  before(async () => {
    gw = await startGateway({ workers: WORKERS });
    alice = await online(gw.url, "alice");
    bob = await online(gw.url, "bob");
  });
  after(async () => {
    await closeAll([alice, bob]);
    await gw?.shutdown();
  });

  test("message_sent says sent", async () => {
    const ack = await alice.ack("send_message", { receiver_id: "bob", content: "plain" });
    assert.equal(ack.message.status, "sent");
    await bob.wait("receive_message", { pred: (m) => m.content === "plain" });
    assert.equal(alice.args("message_sent").at(-1).status, "sent");
  });
});

describe("the spool", () => {
  test("a full spool is a clear error, counted; the message is still delivered", async () => {
    const stub = await startStub({ mode: "down" });
    const gw = await startGateway({
      workers: WORKERS,
      conf: `chat_service_url "${stub.url}"\nspool_max_bytes 65536\n` +
        "breaker_cooldown 60s\nservice_timeout 2s\n",
    });
    const alice = await online(gw.url, "alice");
    const bob = await online(gw.url, "bob");
    try {
      const big = "x".repeat(12000);
      let full = null;
      for (let i = 0; i < 20 && !full; i++) {
        const content = `${i}:${big}`;
        const ack = await alice.ack("send_message", { receiver_id: "bob", content });
        await bob.wait("receive_message", { pred: (m) => m.content === content });
        if (ack.ok) assert.equal(ack.message.status, "queued");
        else full = ack;
      }
      assert.ok(full, "the spool never filled");
      assert.equal(full.error.code, "spool_full");
      assert.match(full.error.message, /spool is full/);
      const e = alice.args("error").at(-1);
      assert.equal(e.code, "spool_full");
      assert.equal(e.message_id, full.error.message_id);
      const s = await chatFigures(gw.url, (x) => x.spool_refused >= 1, "spool_refused >= 1");
      assert.ok(s.spool_depth >= 1);
      const p = await probe(gw.url, "/metrics", { headers: { accept: "text/plain" } });
      assert.match(p.body, /^socketgw_service_spool_refused_total\{service="chat"\} [1-9]\d*$/m);
      assert.match(p.body, /^socketgw_service_spool_depth\{service="chat"\} [1-9]\d*$/m);
    } finally {
      await closeAll([alice, bob]);
      await gw.shutdown();
      await stub.close();
    }
  });

  test("a hung service: the sender hears queued within service_timeout; stored once when it answers", async () => {
    const svc = chatService();
    const stub = await startStub({ mode: "hang", route: svc.route });
    const gw = await startGateway({
      workers: WORKERS,
      conf: `chat_service_url "${stub.url}"\nservice_timeout 1s\nbreaker_cooldown 1s\n`,
    });
    const alice = await online(gw.url, "alice");
    const bob = await online(gw.url, "bob");
    try {
      const acks = ["h1", "h2", "h3"].map((content) =>
        alice.ack("send_message", { receiver_id: "bob", content }));
      await bob.wait("receive_message", { n: 3 });
      const got = await Promise.all(acks);
      assert.deepEqual(got.map((a) => a.message.status), ["queued", "queued", "queued"]);
      assert.equal(svc.stored.size, 0);
      stub.mode = "ok";
      await until(() => svc.stored.size === 3, 30000, "the three stored");
      assert.deepEqual(svc.order, got.map((a) => a.message.id));
      await chatFigures(gw.url, (x) => x.spool_depth === 0 && x.replayed >= 3, "spool drained");
    } finally {
      await closeAll([alice, bob]);
      await gw.shutdown();
      await stub.close();
    }
  });

  test("without a spool: /health degraded with a reason, senders told, counted", async () => {
    const stub = await startStub({ mode: "down" });
    const dir = mkdtempSync(join(tmpdir(), "sgw-test-"));
    writeFileSync(join(dir, "spool"), "not a directory\n");
    const gw = await startGateway({
      workers: WORKERS, dir,
      conf: `chat_service_url "${stub.url}"\nbreaker_cooldown 60s\n`,
    });
    const alice = await online(gw.url, "alice");
    const bob = await online(gw.url, "bob");
    try {
      const h = await until(async () => {
        const r = await probe(gw.url, "/health");
        const b = JSON.parse(r.body);
        return r.status === 200 && b.status === "degraded" ? b : null;
      }, 15000, "/health degraded");
      assert.match(h.reason, /spool/);
      const ack = await notStored(alice, "not_stored", "send_message", { receiver_id: "bob", content: "lost" });
      await bob.wait("receive_message", { pred: (m) => m.content === "lost" });
      assert.match(ack.error.message_id, /\S/);
      await chatFigures(gw.url, (x) => x.spool_failed >= 1 && x.spool_down === WORKERS, "spool_failed >= 1");
    } finally {
      await closeAll([alice, bob]);
      await gw.shutdown();
      await stub.close();
    }
  });
});

// A device of user on worker slot, or null after `tries` connections.
async function onSlot(url, user, slot, tries = 40) {
  for (let i = 0; i < tries; i++) {
    const d = await online(url, user);
    if (d.slot === slot) return d;
    d.close();
  }
  return null;
}

describe("one sender's failed call", () => {
  // One worker, so that both senders share its spool.  The breaker is
  // kept shut: carol's failures alone must not stop dave.
  test("spools that sender's messages only; the others are still persisted", async () => {
    const svc = chatService();
    let failing = true;
    const route = (call) => (failing && call.method === "POST" && call.body?.sender_id === "carol")
      ? { status: 500, body: { error: "down for carol" } } : svc.route(call);
    const stub = await startStub({ route });
    const gw = await startGateway({
      workers: 1,
      conf: `chat_service_url "${stub.url}"\nservice_retries 0\n` +
        "breaker_threshold 1000\nbreaker_min_calls 1000000\n",
    });
    const [carol, dave, erin] = await Promise.all(["carol", "dave", "erin"].map((u) => online(gw.url, u)));
    try {
      const c1 = await carol.ack("send_message", { receiver_id: "erin", content: uid("c1") });
      assert.equal(c1.message.status, "queued", "carol's failed call is spooled");
      const d1 = await dave.ack("send_message", { receiver_id: "erin", content: uid("d1") });
      assert.equal(d1.message.status, "persisted", "dave does not wait behind carol's record");
      const c2 = await carol.ack("send_message", { receiver_id: "erin", content: uid("c2") });
      assert.equal(c2.message.status, "queued", "carol's next message goes behind her record");
      assert.ok(!svc.stored.has(c1.message.id));
      failing = false;
      await until(() => svc.stored.has(c2.message.id), 20000, "carol's records replayed");
      const order = svc.order.filter((k) => k === c1.message.id || k === c2.message.id);
      assert.deepEqual(order, [c1.message.id, c2.message.id], "carol's order kept");
      // The stub stores c2 before it answers: the spool is drained once the
      // gateway has that answer, not when the stub has the message.
      await chatFigures(gw.url, (x) => x.spool_depth === 0, "carol's spool drained", 15000, 1);
      const c3 = await carol.ack("send_message", { receiver_id: "erin", content: uid("c3") });
      assert.equal(c3.message.status, "persisted", "carol's spool drained: straight to the service again");
    } finally {
      await closeAll([carol, dave, erin]);
      await gw.shutdown();
      await stub.close();
    }
  });
});

describe("a burst past chat_service_max_inflight", () => {
  // One call at a time, each answered after 300 ms: the other senders'
  // messages wait in memory for a free call, they are not shed to the
  // spool (a burst is not a failure).
  test("waits for a free call: every message persisted, none shed or spooled", async () => {
    const svc = chatService();
    const stub = await startStub({ mode: "slow", delay: 300, route: svc.route });
    const gw = await startGateway({
      workers: 1,
      conf: `chat_service_url "${stub.url}"\nchat_service_max_inflight 1\n`,
    });
    const users = ["hana", "ivan", "jude", "kemal"];
    const ds = await Promise.all(users.map((u) => online(gw.url, u)));
    try {
      const acks = await Promise.all(ds.map((d, i) =>
        d.ack("send_message", { receiver_id: users[(i + 1) % users.length], content: uid("burst") })));
      for (const a of acks) assert.equal(a.message?.status, "persisted", JSON.stringify(a));
      const m = await chatFigures(gw.url, () => true, "", 15000, 1);
      assert.equal(m.shed, 0, "nothing shed");
      assert.equal(m.spooled, 0, "nothing spooled");
      assert.equal(svc.stored.size, users.length);
    } finally {
      await closeAll(ds);
      await gw.shutdown();
      await stub.close();
    }
  });
});

describe("a stop while calls run", () => {
  // The service answers after 30 s: at the stop one call per sender runs
  // and the senders' next messages wait behind it in memory.  The stop
  // spools them all; the next gateway stores them, each once, in order.
  test("spools what is in memory; the next process stores it in order", async () => {
    const svc = chatService();
    const stub = await startStub({ mode: "slow", delay: 30000, route: svc.route });
    const conf = (url) => `chat_service_url "${url}"\nservice_timeout 60s\n`;
    let gw = await startGateway({ workers: 1, conf: conf(stub.url) });
    let frank = await online(gw.url, "frank");
    const gina = await online(gw.url, "gina");
    const ids = [];
    try {
      for (let i = 0; i < 5; i++) {
        const content = uid(`f${i}`);
        frank.socket.emit("send_message", { receiver_id: "gina", content });
        const [m] = await gina.wait("receive_message", { pred: (x) => x.content === content });
        ids.push(m.id);
      }
      await chatFigures(gw.url, (x) => x.queued === 4, "four behind the running call", 15000, 1);
      await closeAll([frank, gina]);
      const r = await gw.stop();
      assert.equal(r.code, 0, "the gateway stopped cleanly");
      stub.mode = "ok";
      gw = await startGateway({ workers: 1, conf: conf(stub.url), dir: gw.dir });
      frank = await online(gw.url, "frank");
      await until(() => ids.every((id) => svc.stored.has(id)), 30000, "the five stored");
      assert.deepEqual(svc.order.filter((k) => ids.includes(k)), ids, "in order, each once");
    } finally {
      await closeAll([frank]);
      await gw.shutdown();
      await stub.close();
    }
  });
});

describe("a chat service down for 20 s, 1,000 messages, a restart in the middle", () => {
  const SENDERS = 10, EACH = 100, DOWN_MS = 20000;
  const conf = (url) => `chat_service_url "${url}"\nbreaker_cooldown 1s\nbreaker_max_cooldown 2s\n` +
    "service_timeout 2s\n";
  let stub, svc, gw, devices = [], sink;

  after(async () => {
    await closeAll([...devices, sink]);
    await gw?.shutdown();
    await stub?.close();
  });

  test("the service stores every message exactly once, in per-sender order", { timeout: 240000 }, async () => {
    svc = chatService();
    stub = await startStub({ mode: "down", route: svc.route });
    const downSince = Date.now();
    gw = await startGateway({ workers: WORKERS, conf: conf(stub.url) });
    const users = Array.from({ length: SENDERS }, (_, i) => `sender${i}`);
    sink = await online(gw.url, "sink");
    devices = await Promise.all(users.map((u) => online(gw.url, u)));
    const slots = devices.map((d) => d.slot);
    const sent = new Map(users.map((u) => [u, []]));   // user -> ids, in send order
    const statuses = [];

    // Each sender sends its messages in a row without waiting (so that
    // they wait behind each other in the gateway), then takes the acks.
    async function burst(from, to) {
      await Promise.all(devices.map(async (d, k) => {
        const acks = [];
        for (let i = from; i < to; i++)
          acks.push(d.ack("send_message", { receiver_id: "sink", content: `${users[k]}#${i}` }));
        for (const [j, ack] of (await Promise.all(acks)).entries()) {
          assert.equal(ack.ok, true, JSON.stringify(ack));
          assert.equal(ack.message.content, `${users[k]}#${from + j}`);
          statuses.push(ack.message.status);
          sent.get(users[k]).push(ack.message.id);
        }
      }));
    }
    await burst(0, EACH / 2);
    // Delivered at once, though nothing could be stored.
    await until(() => sink.all("receive_message").length >= SENDERS * EACH / 2, 30000, "first half delivered");
    assert.equal(svc.stored.size, 0);
    await chatFigures(gw.url, (s) => s.spool_depth === SENDERS * EACH / 2, "first half spooled");

    // Restart with the same spool_dir; the senders come back on their slots.
    await closeAll([...devices, sink]);
    const r = await gw.stop();
    assert.equal(r.code, 0, "the gateway stopped cleanly");
    gw = await startGateway({ workers: WORKERS, conf: conf(stub.url), dir: gw.dir });
    sink = await online(gw.url, "sink");
    devices = [];
    for (let k = 0; k < SENDERS; k++) {
      const d = await onSlot(gw.url, users[k], slots[k]);
      assert.ok(d, `${users[k]} back on slot ${slots[k]}`);
      devices.push(d);
    }
    await burst(EACH / 2, EACH);
    await until(() => sink.all("receive_message").length >= SENDERS * EACH / 2, 30000, "second half delivered");
    assert.equal(svc.stored.size, 0);

    // Every sender heard `queued` for every message: nothing was stored.
    assert.equal(statuses.length, SENDERS * EACH);
    assert.deepEqual([...new Set(statuses)], ["queued"]);
    for (const d of devices)
      assert.equal(d.args("message_sent").filter((m) => m.status === "queued").length, EACH / 2);

    // The service comes back after 20 s down; the spools drain.
    await sleep(Math.max(0, downSince + DOWN_MS - Date.now()));
    stub.mode = "ok";
    await until(() => svc.stored.size >= SENDERS * EACH, 120000, "all 1,000 stored");
    await chatFigures(gw.url, (s) => s.spool_depth === 0 && s.replayed >= SENDERS * EACH / 2,
      "spools drained", 60000);
    await sleep(500);

    // Exactly once: the 1,000 ids, nothing else.
    const all = [...sent.values()].flat();
    assert.equal(new Set(all).size, SENDERS * EACH);
    assert.equal(svc.stored.size, SENDERS * EACH);
    assert.deepEqual(new Set(svc.stored.keys()), new Set(all));
    for (const [key, body] of svc.stored) assert.equal(body.id, key);
    // In per-sender order: the order of first stores is the order of sends.
    for (const u of users) {
      const stored = svc.order.filter((k) => svc.stored.get(k).sender_id === u);
      assert.deepEqual(stored, sent.get(u), `${u}'s order`);
    }
  });
});
