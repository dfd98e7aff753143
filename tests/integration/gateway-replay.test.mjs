// Guards issue 13 (downstream services): the spool's replay sends a window
// of records at once (spool_replay_window), not one per round trip, while
// each sender's order holds: a sender's next record goes only once its
// previous one was answered, and a receipt waits for everything spooled
// before it.  The chat service (a Node stub, stubs.mjs) is down while 20
// senders each send 3 messages, then answers each call after 200 ms; the
// test reads from the stub's own record of its calls how many replayed
// calls it held at once, and in which order each sender's calls came.
// REPLAY_WINDOW=1 in the environment sets spool_replay_window 1 (the replay
// of one record per round trip): the test then fails.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeAll, getJSON, online, startGateway, until } from "./gwlib.mjs";
import { startStub } from "./stubs.mjs";

const WORKERS = 2, SENDERS = 20, EACH = 3;

// Stores each message once by its Idempotency-Key (409 on a repeat);
// every call is stamped when it is answered (route runs then, after the
// stub's delay), and the most calls held at once is kept.
function chatService(stub) {
  const stored = new Map();
  let most = 0;
  const svc = { stored, from: 0, most: () => most };   // calls before `from`: cut (down)
  const route = (call) => {
    const held = stub.calls.slice(svc.from).filter((c) => c.answered === undefined).length;
    most = Math.max(most, held);
    call.answered = Date.now();
    const key = call.headers["idempotency-key"];
    if (call.method === "POST" && call.path === "/api/messages") {
      if (stored.has(key)) return { status: 409, body: { error: "exists" } };
      stored.set(key, call.body);
      return { status: 201, body: { id: call.body.id } };
    }
    return { status: 200, body: { ok: true } };
  };
  svc.route = route;
  return svc;
}

describe("the spool's replay window", () => {
  let stub, svc, gw, devices = [], sink;

  before(async () => {
    stub = await startStub({ mode: "down", delay: 200 });
    svc = chatService(stub);
    stub.route = svc.route;
    gw = await startGateway({
      workers: WORKERS,
      conf: `chat_service_url "${stub.url}"\nbreaker_cooldown 1s\n` +
        "breaker_max_cooldown 2s\nservice_timeout 5s\n" + (process.env.REPLAY_WINDOW ? `spool_replay_window ${process.env.REPLAY_WINDOW}\n` : ""),
    });
  });

  after(async () => {
    await closeAll([...devices, sink]);
    await gw?.shutdown();
    await stub?.close();
  });

  test("several replayed calls at once; each sender's in order; a receipt behind its sender's messages",
    { timeout: 120000 }, async () => {
      const users = Array.from({ length: SENDERS }, (_, i) => `rs${i}`);
      sink = await online(gw.url, "rsink");
      devices = await Promise.all(users.map((u) => online(gw.url, u)));
      const sent = new Map();      // user -> ids in send order
      await Promise.all(devices.map(async (d, k) => {
        const acks = [];
        for (let i = 0; i < EACH; i++)
          acks.push(d.ack("send_message", { receiver_id: "rsink", content: `${users[k]}#${i}` }));
        const got = await Promise.all(acks);
        for (const a of got) {
          assert.equal(a.ok, true, JSON.stringify(a));
          assert.equal(a.message.status, "queued");
        }
        sent.set(users[k], got.map((a) => a.message.id));
      }));
      // A receipt from rs0 behind its own spooled messages.
      assert.equal((await devices[0].ack("message_read", { message_id: "rr-1", sender_id: "rsink" })).ok, true);
      await until(async () => {
        const m = await getJSON(gw.url, "/metrics");
        const s = m.workers?.length === WORKERS ? m.services?.chat : null;
        return s && s.spool_depth === SENDERS * EACH + 1 ? s : null;
      }, 15000, "everything spooled");
      assert.equal(svc.stored.size, 0);

      svc.from = stub.calls.length;
      stub.mode = "slow";
      await until(() => svc.stored.size === SENDERS * EACH &&
        stub.calls.some((c) => c.path === "/api/messages/rr-1/status" && c.answered !== undefined),
      90000, "all stored, the receipt too");

      // The window: more calls held at once than the two workers' one
      // each of a replay one record at a time.
      assert.ok(svc.most() >= 5, `at most ${svc.most()} calls held at once`);

      // Per sender: a call for its next message came only once every
      // earlier call for an earlier message had been answered.
      const answered = stub.calls.slice(svc.from).filter((c) => c.answered !== undefined);
      for (const u of users) {
        const ids = sent.get(u);
        const calls = answered.filter((c) => c.path === "/api/messages" && c.body?.sender_id === u)
          .sort((a, b) => a.at - b.at);
        for (const [i, c] of calls.entries())
          for (const e of calls.slice(0, i))
            if (e.body.id !== c.body.id)
              assert.ok(ids.indexOf(e.body.id) < ids.indexOf(c.body.id) && e.answered <= c.at,
                `${u}: ${c.body.id} sent before ${e.body.id} was answered`);
        const firsts = [...new Set(calls.filter((c) => c.answered !== undefined).map((c) => c.body.id))];
        assert.deepEqual(firsts, ids, `${u}'s order`);
      }
      // The receipt came after rs0's messages were answered.
      const receipt = stub.calls.find((c) => c.path === "/api/messages/rr-1/status");
      const rs0 = answered.filter((c) => c.path === "/api/messages" && c.body?.sender_id === "rs0");
      for (const c of rs0.filter((x) => x.at < receipt.at))
        assert.ok(c.answered <= receipt.at, "the receipt overtook rs0's message");
      for (const id of sent.get("rs0"))
        assert.ok(rs0.some((c) => c.body.id === id && c.answered <= receipt.at),
          `the receipt came before rs0's ${id} was stored`);
    });
});
