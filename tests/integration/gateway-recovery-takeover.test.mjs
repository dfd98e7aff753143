// Guards issue 15 (connection state recovery), its silent cut: a client
// whose network went away sent no FIN, so the gateway still serves its old
// socket when the client comes back with {pid, offset}; the CONNECT that
// carries the pid (a secret only that client got), with a token of the
// same user, takes the live session over: the old socket is closed where
// it is served (here on the other worker) as a recoverable close, and the
// new one gets what the old one was sent after the offset, in order, once,
// with socket.recovered true and the same id.  Also guarded: another
// user's token with the pid is refused the takeover (recovery_failed_user)
// and the live socket keeps its messages; two CONNECTs with one pid at
// once leave one socket with the id, never two; a presence watcher hears no
// user_disconnected then user_connected of a user taken over, and hears
// the user go offline when the new socket leaves (no ghost left behind).
// The real socket.io-client against a gateway of 2 workers; the old
// socket's client goes through the test's TCP proxy, whose silent cut
// leaves the gateway's side open and unread.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Manager } from "socket.io-client";
import { record, workerOfSid } from "./lib.mjs";
import {
  PRESENCE, closeAll, getJSON, online, placed, sleep, startGateway, tcpProxy, token, uid,
  until,
} from "./gwlib.mjs";

const T = { timeout: 120000 };

// The numbered messages of tag d received, as their numbers.
function got(d, tag) {
  return d.args("receive_message", (m) => typeof m?.content === "string" &&
    m.content.startsWith(`${tag}#`)).map((m) => Number(m.content.slice(tag.length + 1)));
}

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

// Messages a..b-1 of tag from s to receiver user, each acked ok.
async function send(s, user, tag, a, b) {
  for (let i = a; i < b; i++) {
    const ack = await s.ack("send_message",
      { receiver_id: user, content: `${tag}#${i}`, message_type: "text" });
    assert.equal(ack?.ok, true, `#${i}: ${JSON.stringify(ack)}`);
  }
}

// A socket of user whose Engine.IO session is on worker slot `slot` (any
// when undefined), that will CONNECT with the pid and last offset of
// `from` as socket.io-client itself does when it reconnects: recorded,
// not yet connected.  Bounded: at most `tries` sessions opened.
async function opened(gw, user, from, slot, tries = 40) {
  const pid = from.socket._pid, offset = from.socket._lastOffset;
  assert.ok(pid && offset, `the first socket has a pid and an offset: ${pid} ${offset}`);
  for (let i = 0; i < tries; i++) {
    const m = new Manager(gw.url, { autoConnect: false, reconnection: false,
      transports: ["websocket"] });
    await new Promise((res, rej) => m.open((e) => (e ? rej(e) : res())));
    if (slot !== undefined && workerOfSid(m.engine.id).slot !== slot) {
      m.engine.close();
      continue;
    }
    const socket = m.socket("/", { auth: { token: token(user) } });
    socket._pid = pid;
    socket._lastOffset = offset;
    const d = record(socket, user);
    d.sid = m.engine.id;
    return d;
  }
  throw new Error(`no session on worker ${slot} in ${tries} tries`);
}

// The same, connected.
async function resumer(gw, user, from, slot) {
  const d = await opened(gw, user, from, slot);
  d.socket.connect();
  await d.wait("connect", { ms: 15000 });
  return d;
}

// The gateway's totals once pred(now) holds (the workers report each second).
async function totalsWhen(gw, pred, what) {
  let t;
  await until(async () => {
    t = (await getJSON(gw.url, "/metrics")).totals ?? {};
    return pred(t);
  }, 15000, what).catch(() => assert.fail(`${what}: ${JSON.stringify(t)}`));
  return t;
}

const figures = ["recovery_takeovers", "recovery_takeovers_ok", "recovery_takeovers_failed",
  "recovery_failed_user", "recovery_failed_live", "recovery_ok"];
async function snapshot(gw) {
  const t = (await getJSON(gw.url, "/metrics")).totals ?? {};
  return Object.fromEntries(figures.map((k) => [k, t[k] ?? 0]));
}

// Against the sanitizer build, a report (a worker aborts, or leaks at its
// exit) fails the case, or the suite.
function sanitized(gw) {
  const lines = gw.logs.filter((l) => /AddressSanitizer|runtime error|LeakSanitizer/.test(l.raw ?? ""));
  assert.deepEqual(lines.map((l) => l.raw).slice(0, 4), [], "the sanitizer reported");
}

describe("a live session taken over, 2 workers", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 2 }); });
  afterEach(() => sanitized(gw));
  after(async () => {
    await gw?.shutdown();
    if (gw) sanitized(gw);
  });

  test("silent cut, then a CONNECT with its pid on the other worker: the old socket there is " +
    "closed, the new one recovered with its id and what it missed, in order, once", T,
  async () => {
    const proxy = await tcpProxy(gw.port);
    const ds = [];
    try {
      const user = uid("rcv");
      const r = await online(proxy.url, user);
      ds.push(r);
      const [s] = await placed(gw.url, uid("snd"), 1, { avoid: new Set([r.slot]) });
      ds.push(s);
      const id = r.socket.id;
      const before = await snapshot(gw);
      const tag = uid("tk");
      await send(s, user, tag, 0, 20);
      await r.wait("receive_message", { pred: (m) => m?.content === `${tag}#19` });
      proxy.cut({ silent: true });
      await r.wait("disconnect", { ms: 15000 });
      // Sent to the old socket, which the gateway still serves.
      await send(s, user, tag, 20, 40);
      const n = await resumer(gw, user, r, s.slot);
      ds.push(n);
      assert.notEqual(n.slot, r.slot, "the new session is on the other worker");
      assert.equal(n.socket.recovered, true, "socket.recovered");
      assert.equal(n.socket.id, id, "the socket id is kept");
      await send(s, user, tag, 40, 50);
      await n.wait("receive_message", { pred: (m) => m?.content === `${tag}#49` });
      assert.deepEqual(got(r, tag), range(0, 20), "the old socket had 0-19");
      assert.deepEqual(got(n, tag), range(20, 50), "the new one 20-49, in order, once");
      await totalsWhen(gw, (t) => t.recovery_takeovers >= before.recovery_takeovers + 1 &&
        t.recovery_takeovers_ok >= before.recovery_takeovers_ok + 1,
      "recovery_takeovers and recovery_takeovers_ok count it");
    } finally {
      await closeAll(ds);
      await proxy.close();
    }
  });

  test("another user's token with a live session's pid: not taken over " +
    "(recovery_failed_user), a new socket; the live socket keeps its messages", T, async () => {
    const ds = [];
    try {
      const user = uid("rcv");
      const r = await online(gw.url, user);
      ds.push(r);
      const [s] = await placed(gw.url, uid("snd"), 1, { avoid: new Set([r.slot]) });
      ds.push(s);
      const tag = uid("th");
      await send(s, user, tag, 0, 5);
      await r.wait("receive_message", { pred: (m) => m?.content === `${tag}#4` });
      const before = await snapshot(gw);
      const thief = await resumer(gw, uid("thief"), r, r.slot);
      ds.push(thief);
      assert.equal(thief.socket.recovered, false, "the thief's socket.recovered");
      assert.notEqual(thief.socket.id, r.socket.id, "the thief gets a new id");
      await send(s, user, tag, 5, 10);
      await r.wait("receive_message", { pred: (m) => m?.content === `${tag}#9` });
      assert.deepEqual(got(r, tag), range(0, 10), "the live socket has all, in order, once");
      assert.deepEqual(got(thief, tag), [], "the thief has none");
      assert.equal(r.all("disconnect").length, 0, "the live socket was not closed");
      assert.equal(r.socket.connected, true);
      await totalsWhen(gw, (t) => t.recovery_failed_user >= before.recovery_failed_user + 1,
        "recovery_failed_user counts it");
    } finally {
      await closeAll(ds);
    }
  });

  test("two CONNECTs with one live session's pid at once, one on each worker: one socket ends " +
    "with its id and what it missed, in order, once; never two", T, async () => {
    const proxy = await tcpProxy(gw.port);
    const ds = [];
    try {
      const user = uid("rcv");
      const r = await online(proxy.url, user);
      ds.push(r);
      const id = r.socket.id;
      const [s] = await placed(gw.url, uid("snd"), 1, { avoid: new Set([r.slot]) });
      ds.push(s);
      const tag = uid("two");
      await send(s, user, tag, 0, 10);
      await r.wait("receive_message", { pred: (m) => m?.content === `${tag}#9` });
      proxy.cut({ silent: true });
      await r.wait("disconnect", { ms: 15000 });
      await send(s, user, tag, 10, 20);
      const pair = [await opened(gw, user, r, 0), await opened(gw, user, r, 1)];
      ds.push(...pair);
      for (const d of pair) d.socket.connect();
      for (const d of pair) await d.wait("connect", { ms: 15000 });
      // The loser got a new socket (recovered false), or was taken over
      // in its turn (then closed): either way one holds the id.
      const holders = () => pair.filter((d) => d.socket.connected && d.socket.id === id);
      const state = () => JSON.stringify(pair.map((d) => ({ connected: d.socket.connected,
        id: d.socket.id, recovered: d.socket.recovered,
        life: d.events.filter((e) => ["connect", "disconnect"].includes(e.name)).map((e) => e.name) })));
      await until(() => holders().length === 1, 15000, "one socket holds the id")
        .catch(() => assert.fail(`one socket holds the id: ${state()}`));
      await send(s, user, tag, 20, 30);
      const [h] = holders();
      await h.wait("receive_message", { pred: (m) => m?.content === `${tag}#29` });
      assert.equal(holders().length, 1, `still one: ${state()}`);
      assert.equal(h.socket.recovered, true, "the holder recovered");
      assert.deepEqual(got(h, tag), range(10, 30), "the holder: 10-29, in order, once");
      for (const d of pair)
        if (d !== h && d.socket.connected)
          assert.equal(d.socket.recovered, false, `the other, connected, is a new socket: ${state()}`);
    } finally {
      await closeAll(ds);
      await proxy.close();
    }
  });

  test("a watcher hears no presence flap of a user taken over, and hears it go offline " +
    "when its new socket leaves", T, async () => {
    const proxy = await tcpProxy(gw.port);
    const watcher = await online(gw.url, uid("watch"));
    const ds = [watcher];
    try {
      const user = uid("rcv");
      const isR = (a) => a?.user_id === user;
      const r = await online(proxy.url, user);
      ds.push(r);
      await watcher.wait("user_connected", { pred: isR, ms: 15000 });
      const mark = watcher.mark();
      proxy.cut({ silent: true });
      await r.wait("disconnect", { ms: 15000 });
      const n = await resumer(gw, user, r, r.slot === 0 ? 1 : 0);
      ds.push(n);
      assert.equal(n.socket.recovered, true, "socket.recovered");
      // A message from the user to the watcher, and a moment: presence of
      // the takeover would have come by now.
      const bar = uid("wbar");
      assert.equal((await n.ack("send_message", { receiver_id: watcher.user, content: bar })).ok,
        true);
      await watcher.wait("receive_message", { pred: (m) => m?.content === bar });
      await sleep(500);
      const flap = watcher.events.slice(mark)
        .filter((e) => PRESENCE.includes(e.name) && isR(e.args[0])).map((e) => e.name);
      assert.deepEqual(flap, [], "the watcher heard the user's presence change");
      // The old socket's ghost went with the takeover: when the new socket
      // leaves, the user is offline (not kept online for
      // max_disconnection_duration).
      const gone = watcher.mark();
      n.close();
      await watcher.next(gone, "user_disconnected", { pred: isR, ms: 20000 });
    } finally {
      await closeAll(ds);
      await proxy.close();
    }
  });
});
