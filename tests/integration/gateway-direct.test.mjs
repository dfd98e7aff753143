// Guards issue 16 (direct messages at 2x the floor): a send_message to a
// user is validated from the client's own JSON text and its
// receive_message, message_sent and ack are written by splicing that text
// (src/gateway/msgsplice.c, counted in messages_spliced), never a tree;
// the worker of its recipient is woken by a doorbell (src/cluster/
// doorbell.c: doorbell_rung, doorbell_heard), not through nng.
// What a client sees must be what the tree path gives: the same fields,
// the same escaping, whatever the content holds (quotes, controls, NUL,
// astral characters, U+2028, long text); a message the splice leaves to
// the tree path (an integer id, an extra number) arrives the same; bad
// input gets the same errors; event_rate still counts these events.
// Two workers: alice and bob on different ones, so messages cross.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  closeAll, getJSON, placed, rejected, sleep, startGateway, uid, until,
} from "./gwlib.mjs";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let gw, alice, bob, carol;

before(async () => {
  gw = await startGateway({ workers: 2 });
  [alice] = await placed(gw.url, "alice", 1);
  [bob] = await placed(gw.url, "bob", 1, { avoid: new Set([alice.slot]) });
  [carol] = await placed(gw.url, "12345", 1);
});

after(async () => {
  await closeAll([alice, bob, carol]);
  await gw?.shutdown();
});

// The gateway's messages_spliced once both workers report at least min.
async function spliced(min) {
  const got = await until(async () => {
    const m = await getJSON(gw.url, "/metrics");
    const v = m.workers?.length === 2 ? m.totals?.messages_spliced : undefined;
    return typeof v === "number" && v >= min ? { v } : null;
  }, 15000, `messages_spliced >= ${min}`);
  return got.v;
}

// alice sends args to `to`; the ack, message_sent and receive_message all
// carry the message the contract describes.
async function roundTrip(args, to = bob) {
  const mark = to.mark(), amark = alice.mark();
  const ack = await alice.ack("send_message", args);
  assert.equal(ack.ok, true, JSON.stringify(ack));
  const m = ack.message;
  assert.match(m.created_at, ISO);
  assert.equal(typeof m.id, "string");
  const want = {
    id: m.id, sender_id: "alice", receiver_id: String(args.receiver_id),
    content: args.content, message_type: args.message_type ?? "text",
    created_at: m.created_at,
    ...(args.client_msg_id !== undefined ? { client_msg_id: args.client_msg_id } : {}),
    status: "sent",
  };
  assert.deepEqual(m, want);
  // The keys in the order the tree path writes them.
  assert.deepEqual(Object.keys(m), Object.keys(want));
  const [got] = await to.next(mark, "receive_message", { pred: (x) => x.id === m.id });
  const { status, ...plain } = want;
  assert.deepEqual(got, plain);
  assert.deepEqual(Object.keys(got), Object.keys(plain));
  const [sent] = await alice.next(amark, "message_sent", { pred: (x) => x.id === m.id });
  assert.deepEqual(sent, want);
  return m;
}

const CONTENTS = [
  "hello",
  "quote \" backslash \\ slash / done",
  "controls \n\r\t\b\f \u0001\u001f \u007f end",
  "nul \u0000 inside",
  "é ü 中文 😀 \u2028 \u2029 \ufeff",
  "x".repeat(20000),
];

test("escaping: what arrives is what was sent, spliced", { timeout: 120000 }, async () => {
  const before = await spliced(0);
  for (const [i, content] of CONTENTS.entries())
    await roundTrip({
      receiver_id: "bob", content,
      ...(i % 2 ? { message_type: "file", client_msg_id: uid("c") } : {}),
    });
  // Fields the contract ignores change nothing; sender_id is the token's.
  await roundTrip({ receiver_id: "bob", content: "x", sender_id: "mallory", extra: { a: [true, null] } });
  await roundTrip({ receiver_id: "bob", content: "x", group_id: null, message_type: null, client_msg_id: undefined });
  assert.ok(await spliced(before + CONTENTS.length + 2) >= before + CONTENTS.length + 2,
    "every one of them spliced");
  // bob is on the other worker: it was woken by its doorbell, not the bus.
  const t = await until(async () => {
    const m = await getJSON(gw.url, "/metrics");
    return m.totals?.doorbell_heard >= 1 ? m.totals : null;
  }, 15000, "doorbell_heard >= 1");
  assert.ok(t.doorbell_rung >= 1, JSON.stringify(t));
});

test("left to the tree path: an integer id, a number anywhere; the same message", { timeout: 60000 }, async () => {
  const before = await spliced(0);
  await roundTrip({ receiver_id: 12345, content: "to an integer id" }, carol);
  await roundTrip({ receiver_id: "bob", content: "with a number", n: 1.5 });
  await roundTrip({ receiver_id: "bob", content: "quote \" \n 😀", n: 7 });
  await sleep(1500);	// a report later: nothing more was spliced
  const now = (await getJSON(gw.url, "/metrics")).totals.messages_spliced;
  assert.equal(now, before, "none of them spliced");
});

test("bad input: the same errors as ever", { timeout: 60000 }, async () => {
  await rejected(alice, "missing_field", "send_message", { receiver_id: "bob" });
  await rejected(alice, "invalid_field", "send_message", { receiver_id: "bob", content: "" });
  await rejected(alice, "invalid_field", "send_message", { receiver_id: "a:b", content: "x" });
  await rejected(alice, "invalid_field", "send_message", { receiver_id: "", content: "x" });
  await rejected(alice, "conflicting_fields", "send_message", { receiver_id: "bob", group_id: "g", content: "x" });
  await rejected(alice, "invalid_message_type", "send_message", { receiver_id: "bob", content: "x", message_type: "TEXT" });
  await rejected(alice, "field_too_long", "send_message", { receiver_id: "b".repeat(129), content: "x" });
  await rejected(alice, "invalid_field", "send_message", { receiver_id: "bob", content: "x", client_msg_id: "a\u0000b" });
  const err = await rejected(alice, "invalid_field", "send_message", { receiver_id: "bob", content: 7 });
  assert.match(err.error.message, /^content: required string of 1\.\.\d+ bytes, got an integer$/);
});

test("event_rate counts spliced messages", { timeout: 60000 }, async () => {
  const g2 = await startGateway({ workers: 2, conf: "event_rate 5\nevent_burst 5\n" });
  try {
    const [x] = await placed(g2.url, "xavier", 1);
    const [y] = await placed(g2.url, "yvonne", 1);
    for (let i = 0; i < 20; i++)
      x.socket.emit("send_message", { receiver_id: "yvonne", content: `m${i}` });
    const [e] = await x.wait("error", { ms: 10000 });
    assert.equal(e.code, "rate_limited");
    await sleep(500);
    const got = y.all("receive_message").length;
    assert.ok(got >= 1 && got < 20, `yvonne got ${got} of 20`);
    await closeAll([x, y]);
  } finally {
    await g2.shutdown();
  }
});

test("without connection_recovery: spliced, across workers by the bus", { timeout: 60000 }, async () => {
  const g2 = await startGateway({ workers: 2, conf: "connection_recovery no\n" });
  try {
    const [a] = await placed(g2.url, "anna", 1);
    const [b] = await placed(g2.url, "bert", 1, { avoid: new Set([a.slot]) });
    const content = "no log: \" \\ \n \u0000 😀";
    const ack = await a.ack("send_message", { receiver_id: "bert", content, client_msg_id: "c1" });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    const { status, ...plain } = ack.message;
    assert.equal(status, "sent");
    assert.deepEqual(plain, {
      id: plain.id, sender_id: "anna", receiver_id: "bert", content,
      message_type: "text", created_at: plain.created_at, client_msg_id: "c1",
    });
    const [got, ...rest] = await b.wait("receive_message", { pred: (m) => m.id === plain.id });
    assert.deepEqual(got, plain);
    assert.deepEqual(rest, [], "no offset without the log");
    await until(async () => {
      const m = await getJSON(g2.url, "/metrics");
      return m.workers?.length === 2 && m.totals?.messages_spliced >= 1;
    }, 15000, "messages_spliced >= 1");
    await closeAll([a, b]);
  } finally {
    await g2.shutdown();
  }
});
