// Guards issue 15 (connection state recovery: no message lost across a
// reconnect, a reload, a worker crash or a host change), across hosts: two
// gateway instances (2 workers each) share a real redis-server; a client
// whose session lives on A comes back to B (recremote.c asks over Redis,
// A answers with what it missed before the ask, B adds what came after).
//   - 100 group messages from a sender on B, the receiver cut from A and
//     let back to B while they flow: all, in order, each once, recovered,
//     its socket id kept;
//   - kill -9 of A's worker that served the receiver, then the receiver
//     back on B during 100 direct messages from B: a worker of A that lived
//     on answers, its copies filling the dead one's gap (recanswer.c);
//   - a pid and an offset no host knows: nobody answers, the client gets a
//     new socket (recovered false, a new id) once recovery_remote_timeout
//     is past, and /metrics counts it (recovery_failed_remote);
//   - a pid of A's log that A does not have: A says so at once
//     (recovery_failed_nosession on B, recovery_remote_answered on A);
//   - no presence flap: a watcher on A hears neither user_disconnected
//     nor user_connected of the client that moved, also once its ghost on
//     A is due (max_disconnection_duration 4s here): A's instance and B's
//     both count the user meanwhile, so the cluster's count never drops
//     to 0;
// and no sanitizer report in either gateway's log (an ASan build).
// The receiver goes through the test's TCP proxy (gwlib.mjs tcpProxy),
// which holds its reconnection until the gap's messages are acked.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  closeAll, device, getJSON, online, sleep, startGateway, tcpProxy, token, uid, until,
} from "./gwlib.mjs";
import { startRedis } from "./redislib.mjs";

const T = { timeout: 120000 };
const N = 100, CUT = 50, BACK = 80, PACE = 10;
const RETRY = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 };

// The receiver leaves A while N numbered messages are sent: 0..CUT-1 with
// it there, then the proxy is held and pointed at B and trigger() cuts
// it; CUT..BACK-1 are sent and acked while it is away, BACK..N-1 while it
// comes back to B.  Every message acked ok, and it is back.
async function moveToB({ r, connects, proxy, b, send, pending, trigger }) {
  for (let i = 0; i < CUT; i++) {
    send(i);
    await sleep(PACE);
  }
  proxy.held = true;
  proxy.target = b.port;
  trigger();
  await until(() => r.all("disconnect").length > 0, 30000, "the receiver's disconnection");
  for (let i = CUT; i < BACK; i++) {
    send(i);
    await sleep(PACE);
  }
  await Promise.all(pending.slice(0, BACK));
  proxy.held = false;
  for (let i = BACK; i < N; i++) {
    send(i);
    await sleep(PACE);
  }
  for (const a of await Promise.all(pending)) assert.equal(a?.ok, true, JSON.stringify(a));
  await until(() => r.socket.connected && connects.length >= 2, 30000, "the reconnection to B");
}

async function totals(gw) {
  return (await getJSON(gw.url, "/metrics")).totals ?? {};
}

// Every Redis connection of gw up, and its subscriptions made.
async function redisUp(gw) {
  await until(async () => {
    const t = await totals(gw).catch(() => ({}));
    return t.redis_configured === 2 && t.redis_down === 0 && t.redis_subscriptions >= 4;
  }, 30000, `${gw.url}: every Redis connection up`);
}

// The numbers of tag's messages r received, in order of arrival.
function numbers(r, tag) {
  return r.all("receive_message", (m) => typeof m?.content === "string" &&
    m.content.startsWith(`${tag}#`)).map((e) => Number(e.args[0].content.slice(tag.length + 1)));
}

// What a failure needs: the recovery figures of both (once reported).
async function figures(gws) {
  await sleep(2500);
  const out = [];
  for (const gw of gws) {
    const t = await totals(gw).catch(() => ({}));
    out.push(Object.fromEntries(Object.entries(t).filter(([k, v]) => /recover/.test(k) && v)));
  }
  return `\n  /metrics: ${JSON.stringify(out)}`;
}

// Wait until the totals of gw satisfy pred (the workers report each second).
async function counted(gw, pred, what) {
  let now;
  await until(async () => pred(now = await totals(gw)), 15000, what)
    .catch(() => assert.fail(`${what}: ${JSON.stringify(now)}`));
}

describe("two gateway instances sharing Redis: recovery across hosts", () => {
  let redis, a, b;
  before(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all(["gw-a", "gw-b"].map((name) => startGateway({ workers: 2,
      conf: `redis_url ${redis.url}\nnode_id ${name}\nrecovery_remote_timeout 1s\n` +
        "max_disconnection_duration 4s\n" })));
    await Promise.all([redisUp(a), redisUp(b)]);
  });
  after(async () => {
    await Promise.all([a?.shutdown(), b?.shutdown()]);
    await redis?.stop();
    for (const gw of [a, b])
      assert.deepEqual(gw?.logged(/Sanitizer|runtime error:/).map((l) => l.raw ?? l.msg) ?? [], [],
        "sanitizer reports");
  });

  test("100 group messages from B, the receiver cut from A and back on B: all, in order, once, " +
    "recovered, its id kept", T, async () => {
    const proxy = await tcpProxy(a.port);
    const r = device(proxy.url, uid("rcv"), RETRY);
    const connects = [];
    r.socket.on("connect", () => connects.push(r.socket.recovered));
    let s;
    try {
      await r.ready();
      const id = r.socket.id;
      s = await online(b.url, uid("snd"), RETRY);
      const g = uid("g");
      for (const d of [r, s])
        assert.equal((await d.ack("join_room", { group_id: g })).ok, true);
      const tag = uid("hg");
      const pending = [];
      const send = (i) => pending.push(s.socket.timeout(20000).emitWithAck("send_group_message",
        { group_id: g, content: `${tag}#${i}`, message_type: "text" }));
      await moveToB({ r, connects, proxy, b, send, pending, trigger: () => proxy.cut() });
      const bar = uid("barrier");
      assert.equal((await s.ack("send_group_message", { group_id: g, content: bar })).ok, true);
      await r.wait("receive_message", { pred: (m) => m?.content === bar, ms: 20000 });
      const want = Array.from({ length: N }, (_, i) => i);
      const fine = JSON.stringify(numbers(r, tag)) === JSON.stringify(want) &&
        connects.slice(1).every((c) => c === true);
      const why = fine ? "" : await figures([a, b]);
      assert.deepEqual(numbers(r, tag), want,
        `all ${N}, in order, once; connects ${JSON.stringify(connects)}${why}`);
      assert.deepEqual(connects.slice(1), connects.slice(1).map(() => true), `recovered${why}`);
      assert.equal(r.socket.id, id, "the socket id is kept");
      assert.ok(proxy.accepted >= 2, "the client came back through the proxy, to B");
    } finally {
      await closeAll([r, s]);
      await proxy.close();
    }
  });

  test("a pid and an offset no host knows: a new socket once recovery_remote_timeout is past, " +
    "counted in recovery_failed_remote", T, async () => {
    const was = await totals(b);
    const pid = "0badc0de" + "AAAAAAAAAAAAAAAA";
    const d = device(b.url, uid("u"), { auth: { token: token(uid("u")), pid,
      offset: "0badc0de" + "0000000000000001" } });
    try {
      await d.ready();
      assert.equal(d.socket.recovered, false, "not recovered");
      assert.match(d.socket.id, /^[A-Za-z0-9_-]{20}$/, "a new socket id");
      await counted(b, (t) => (t.recovery_failed_remote ?? 0) > (was.recovery_failed_remote ?? 0) &&
        (t.recovery_remote_asked ?? 0) > (was.recovery_remote_asked ?? 0),
      "recovery_failed_remote and recovery_remote_asked count it");
    } finally {
      await closeAll([d]);
    }
  });

  test("a pid of A's log that A does not hold: A answers no such session, the client gets a " +
    "new socket", T, async () => {
    // A's epoch: the first 8 characters of a pid A gave.
    const r = await online(a.url, uid("rcv"));
    const apid = r.socket._pid;
    await closeAll([r]);
    assert.match(String(apid), /^[0-9a-f]{8}[A-Za-z0-9_-]{16}$/, "A gives pids");
    const wasA = await totals(a), wasB = await totals(b);
    const d = device(b.url, uid("u"), { auth: { token: token(uid("u")),
      pid: apid.slice(0, 8) + "BBBBBBBBBBBBBBBB", offset: apid.slice(0, 8) + "0000000000000001" } });
    try {
      await d.ready();
      assert.equal(d.socket.recovered, false, "not recovered");
      await counted(b, (t) => (t.recovery_failed_nosession ?? 0) > (wasB.recovery_failed_nosession ?? 0),
        "B counts recovery_failed_nosession");
      await counted(a, (t) => (t.recovery_remote_answered ?? 0) > (wasA.recovery_remote_answered ?? 0),
        "A counts recovery_remote_answered");
    } finally {
      await closeAll([d]);
    }
  });

  test("the move from A to B makes no presence flap, also past A's ghost's due time",
    T, async () => {
      const proxy = await tcpProxy(a.port);
      const r = device(proxy.url, uid("rcv"), RETRY);
      const connects = [];
      r.socket.on("connect", () => connects.push(r.socket.recovered));
      let wa, s;
      try {
        wa = await online(a.url, uid("wa"));
        await r.ready();
        const isR = (x) => x?.user_id === r.user;
        await wa.wait("user_connected", { pred: isR, ms: 15000 });
        const mark = wa.mark();
        s = await online(b.url, uid("snd"));
        const say = async (content) => {
          assert.equal((await s.ack("send_message", { receiver_id: r.user, content })).ok, true);
        };
        const first = uid("m1");
        await say(first);
        await r.wait("receive_message", { pred: (m) => m?.content === first });
        proxy.held = true;
        proxy.target = b.port;
        proxy.cut();
        await until(() => r.all("disconnect").length > 0, 30000, "the receiver's disconnection");
        const gap = uid("m2");
        await say(gap);
        proxy.held = false;
        await until(() => r.socket.connected && connects.length >= 2, 30000, "the reconnection to B");
        assert.equal(connects[1], true, "recovered");
        await r.wait("receive_message", { pred: (m) => m?.content === gap, ms: 20000 });
        // A's ghost is due 4 s + 2 s after the cut; then a moment.
        await sleep(7500);
        const last = uid("m3");
        await say(last);
        await r.wait("receive_message", { pred: (m) => m?.content === last, ms: 20000 });
        const flap = wa.events.slice(mark)
          .filter((e) => ["user_connected", "user_disconnected"].includes(e.name) && isR(e.args[0]));
        assert.deepEqual(flap.map((e) => e.name), [], "no presence event of the receiver");
      } finally {
        await closeAll([r, s, wa]);
        await proxy.close();
      }
    });

  test("kill -9 of A's worker that served the receiver, then the receiver back on B during 100 " +
    "direct messages from B: all, in order, once, recovered", T, async () => {
    const proxy = await tcpProxy(a.port);
    const r = device(proxy.url, uid("rcv"), RETRY);
    const connects = [];
    r.socket.on("connect", () => connects.push(r.socket.recovered));
    let s;
    try {
      await r.ready();
      const id = r.socket.id;
      const m = await getJSON(a.url, "/metrics");
      const victim = m.workers.find((w) => w.worker === r.slot);
      assert.ok(victim, `the receiver's worker ${r.slot} in ${JSON.stringify(m.workers)}`);
      s = await online(b.url, uid("snd"), RETRY);
      const tag = uid("hk");
      const pending = [];
      const send = (i) => pending.push(s.socket.timeout(20000).emitWithAck("send_message",
        { receiver_id: r.user, content: `${tag}#${i}`, message_type: "text" }));
      await moveToB({ r, connects, proxy, b, send, pending,
        trigger: () => process.kill(victim.pid, "SIGKILL") });
      const bar = uid("barrier");
      assert.equal((await s.ack("send_message", { receiver_id: r.user, content: bar })).ok, true);
      await r.wait("receive_message", { pred: (x) => x?.content === bar, ms: 20000 });
      const want = Array.from({ length: N }, (_, i) => i);
      const fine = JSON.stringify(numbers(r, tag)) === JSON.stringify(want) &&
        connects.slice(1).every((c) => c === true);
      const why = fine ? "" : await figures([a, b]);
      assert.deepEqual(numbers(r, tag), want,
        `all ${N}, in order, once; connects ${JSON.stringify(connects)}${why}`);
      assert.deepEqual(connects.slice(1), connects.slice(1).map(() => true), `recovered${why}`);
      assert.equal(r.socket.id, id, "the socket id is kept");
    } finally {
      await closeAll([r, s]);
      await proxy.close();
    }
  });
});
