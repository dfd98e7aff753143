// Guards issue 14 (several hosts over Redis): presence across hosts.
// Gateways with two workers each share one redis-server (redislib.mjs);
// real socket.io-clients: a user online on one gateway is user_connected
// once on the clients of every gateway and in the online_users of a
// client that connects later on another; a user with sockets on two
// gateways is announced once and goes offline only when its last socket
// anywhere closes; Redis's online_users hash (the seed's
// hgetall('online_users')) follows; the auth service hears one "online"
// and one "offline" per cluster-wide transition, not per gateway or
// worker; kill -9 of a whole gateway: its users go offline on the others
// within redis_node_ttl and a sweep; a drain (SIGTERM) takes its users
// out at once, not by the expiry; presence_mode scoped across hosts; a
// Redis restart: the presence is registered again, a new client's
// online_users lists every gateway's users, and what changed while Redis
// was away is told; Redis frozen: the failures are counted
// (redis_presence_errors) and the presence is right after; a user left in
// Redis that its gateway does not have is taken out (the resync).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { closeAll, getJSON, online, placed, sleep, startGateway, until } from "./gwlib.mjs";
import { killTree } from "./lib.mjs";
import { startRedis } from "./redislib.mjs";
import { startStub } from "./stubs.mjs";

const W = 2;
const TTL = 3000;	// redis_node_ttl, ms
let seq = 0;
const user = (p) => `${p}${process.pid}x${++seq}`;

function conf(r, node, auth, more = "") {
  return `redis_url "${r.url}"\nnode_id ${node}\nredis_node_ttl ${TTL / 1000}s\n` +
    `auth_mode local\nauth_service_url "${auth.url}"\n${more}`;
}

// fn(client) with a Redis client of our own.
async function withRedis(r, fn) {
  const c = createClient({ url: r.url });
  c.on("error", () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.quit();
  }
}

// Redis's online_users hash.
const onlineUsers = (r) => withRedis(r, (c) => c.hGetAll("online_users"));

// The presence events about u that device d heard since mark.
const about = (d, mark, u) => d.events.slice(mark)
  .filter((e) => ["user_connected", "user_disconnected"].includes(e.name) &&
    e.args[0]?.user_id === u).map((e) => e.name);

// The auth service's status calls for u: "online", "offline".
const statuses = (auth, u) => auth.on(`/api/users/${u}/status`).map((c) => c.body?.status);

async function stop(gw) {
  if (!gw) return;
  await gw.shutdown();
  assert.deepEqual(gw.logged(/Sanitizer|runtime error:/).map((l) => l.raw ?? l.msg), [],
    "sanitizer reports");
}

// Watchers: a device on each worker of each gateway, settled in Redis.
async function watchers(r, gws) {
  const ws = [];
  for (const [i, gw] of gws.entries())
    ws.push(...await placed(gw.url, user(`watch${i}-`), W));
  await until(async () => {
    const h = await onlineUsers(r);
    return ws.every((w) => h[w.user] === "1");
  }, 20000, "the watchers in online_users");
  await sleep(500);	// their own events are in
  return ws;
}

describe("presence across two gateways", () => {
  let r, a, b, auth, ws = [];

  before(async () => {
    r = await startRedis();
    auth = await startStub();
    a = await startGateway({ workers: W, conf: conf(r, "gw-a", auth) });
    b = await startGateway({ workers: W, conf: conf(r, "gw-b", auth) });
    ws = await watchers(r, [a, b]);
  });

  after(async () => {
    await closeAll(ws);
    await Promise.all([stop(a), stop(b)]);
    await auth?.close();
    await r?.stop();
  });

  test("a user on A: user_connected once on every client of A and B, in a later client's online_users on B, in Redis", { timeout: 60000 }, async () => {
    const u = user("solo");
    const marks = ws.map((w) => w.mark());
    const d = await online(a.url, u);
    for (const [i, w] of ws.entries())
      await w.next(marks[i], "user_connected", { pred: (x) => x?.user_id === u, ms: 15000 });
    const late = await online(b.url, user("late"));
    try {
      assert.ok(late.args("online_users")[0].includes(u),
        `online_users on B: ${JSON.stringify(late.args("online_users")[0])}`);
      assert.equal((await onlineUsers(r))[u], "1");
      // Each of B's workers mirrors the cluster's users (a gauge, summed).
      let m;
      await until(async () => {
        m = await getJSON(b.url, "/metrics");
        return m.workers?.length === W && m.totals?.redis_users_mirrored >= W * (new Set(ws.map((w) => w.user)).size + 2);
      }, 10000, "redis_users_mirrored on B").catch((e) => {
        throw new Error(`${e.message}: ${m?.totals?.redis_users_mirrored}`);
      });
      await sleep(1000);	// any second user_connected would be in by now
      for (const [i, w] of ws.entries())
        assert.deepEqual(about(w, marks[i], u), ["user_connected"], `watcher ${i}`);
      d.close();
      for (const [i, w] of ws.entries())
        await w.next(marks[i], "user_disconnected", { pred: (x) => x?.user_id === u, ms: 15000 });
      await sleep(1000);
      for (const [i, w] of ws.entries())
        assert.deepEqual(about(w, marks[i], u), ["user_connected", "user_disconnected"],
          `watcher ${i}`);
      assert.equal((await onlineUsers(r))[u], undefined);
      assert.deepEqual(statuses(auth, u), ["online", "offline"]);
    } finally {
      await closeAll([d, late]);
    }
  });

  test("the same user on A and B: one user_connected; user_disconnected only when the last socket anywhere closes", { timeout: 60000 }, async () => {
    const u = user("both");
    const marks = ws.map((w) => w.mark());
    const da = await online(a.url, u);
    const db = await online(b.url, u);
    try {
      await until(async () => (await onlineUsers(r))[u] === "2", 15000, `${u} counted on both`);
      for (const [i, w] of ws.entries())
        await w.next(marks[i], "user_connected", { pred: (x) => x?.user_id === u, ms: 15000 });
      da.close();
      await until(async () => (await onlineUsers(r))[u] === "1", 15000, `${u} on B only`);
      await sleep(1000);
      for (const [i, w] of ws.entries())
        assert.deepEqual(about(w, marks[i], u), ["user_connected"], `watcher ${i}, ${u} still on B`);
      const late = await online(a.url, user("late"));
      assert.ok(late.args("online_users")[0].includes(u), "A lists the user still on B");
      late.close();
      db.close();
      for (const [i, w] of ws.entries())
        await w.next(marks[i], "user_disconnected", { pred: (x) => x?.user_id === u, ms: 15000 });
      await sleep(1000);
      for (const [i, w] of ws.entries())
        assert.deepEqual(about(w, marks[i], u), ["user_connected", "user_disconnected"],
          `watcher ${i}`);
      assert.equal((await onlineUsers(r))[u], undefined);
      assert.deepEqual(statuses(auth, u), ["online", "offline"],
        "one call per cluster-wide transition, not per gateway or worker");
    } finally {
      await closeAll([da, db]);
    }
  });

  test("a user's devices on both workers of both gateways: one online, one offline call", { timeout: 90000 }, async () => {
    const u = user("quad");
    const ds = [...await placed(a.url, u, W), ...await placed(b.url, u, W)];
    try {
      await until(async () => (await onlineUsers(r))[u] === "2", 15000, `${u} on both`);
      await closeAll(ds);
      await until(async () => (await onlineUsers(r))[u] === undefined, 15000, `${u} gone`);
      await until(() => statuses(auth, u).length >= 2, 15000, "the status calls");
      await sleep(1000);
      assert.deepEqual(statuses(auth, u), ["online", "offline"]);
    } finally {
      await closeAll(ds);
    }
  });

  test("a user Redis holds for A that A does not have is taken out when A's connection comes back", { timeout: 60000 }, async () => {
    // What a script lost on its way (refused past redis_queue_max, or with
    // a connection) leaves behind: a user in A's hash and online_users.
    const ghost = user("ghost");
    const [key] = await withRedis(r, (c) => c.keys("socket.io-gw#users#gw-a.*"));
    assert.ok(key, "A's hash of users");
    await withRedis(r, async (c) => {
      await c.hSet(key, ghost, "1");
      await c.hIncrBy("online_users", ghost, 1);
      // A's command connections drop (CLIENT SETNAME sgw-<instance>.<wid>).
      const list = await c.sendCommand(["CLIENT", "LIST", "TYPE", "normal"]);
      const ids = list.split("\n").filter((l) => / name=sgw-gw-a\./.test(l))
        .map((l) => l.match(/^id=(\d+)/)[1]);
      assert.ok(ids.length >= W, list);
      for (const id of ids) await c.sendCommand(["CLIENT", "KILL", "ID", id]);
    });
    await until(async () => (await onlineUsers(r))[ghost] === undefined, 30000,
      "the ghost out of online_users");
    assert.equal(await withRedis(r, (c) => c.hExists(key, ghost)), false);
  });
});

describe("presence_mode scoped across two gateways", () => {
  let r, a, b, auth;

  before(async () => {
    r = await startRedis();
    auth = await startStub();
    a = await startGateway({ workers: W, conf: conf(r, "gw-a", auth) + "presence_mode scoped\n" });
    b = await startGateway({ workers: W, conf: conf(r, "gw-b", auth) + "presence_mode scoped\n" });
  });

  after(async () => {
    await Promise.all([stop(a), stop(b)]);
    await auth?.close();
    await r?.stop();
  });

  test("presence:<user> subscribers on B hear a user of A; its room peers hear it leave; strangers hear nothing", { timeout: 60000 }, async () => {
    const u = user("sc"), x = user("stranger"), group = user("g");
    const sub = await online(b.url, user("sub"));
    const peer = await online(a.url, user("peer"));
    const marks = [sub.mark(), peer.mark()];
    let du, dx;
    try {
      assert.deepEqual(await sub.ack("join_room", { room: `presence:${u}` }),
        { ok: true, room: `presence:${u}`, online: false });
      assert.equal((await peer.ack("join_room", { group_id: group })).ok, true);
      du = await online(a.url, u);
      dx = await online(a.url, x);
      await sub.next(marks[0], "user_connected", { pred: (e) => e?.user_id === u, ms: 15000 });
      // B knows u is online (its mirror), though u has no socket there.
      const sub2 = await online(b.url, user("sub2"));
      assert.deepEqual(await sub2.ack("join_room", { room: `presence:${u}` }),
        { ok: true, room: `presence:${u}`, online: true });
      sub2.close();
      assert.equal((await du.ack("join_room", { group_id: group })).ok, true);
      du.close();
      await sub.next(marks[0], "user_disconnected", { pred: (e) => e?.user_id === u, ms: 15000 });
      await peer.next(marks[1], "user_disconnected", { pred: (e) => e?.user_id === u, ms: 15000 });
      await sleep(1000);
      assert.deepEqual(about(sub, marks[0], u), ["user_connected", "user_disconnected"]);
      assert.deepEqual(about(sub, marks[0], x), [], "a stranger is not told");
      assert.deepEqual(about(peer, marks[1], x), [], "a stranger is not told");
      assert.deepEqual(statuses(auth, u), ["online", "offline"]);
    } finally {
      await closeAll([sub, peer, du, dx]);
    }
  });
});

describe("a gateway killed with SIGKILL", () => {
  let r, a, b, auth, ws = [];

  before(async () => {
    r = await startRedis();
    auth = await startStub();
    a = await startGateway({ workers: W, conf: conf(r, "gw-a", auth) });
    b = await startGateway({ workers: W, conf: conf(r, "gw-b", auth) });
    ws = await watchers(r, [b]);
  });

  after(async () => {
    await closeAll(ws);
    await Promise.all([stop(a), stop(b)]);
    await auth?.close();
    await r?.stop();
  });

  test("its users go offline on the others within redis_node_ttl and a sweep, and leave online_users", { timeout: 90000 }, async () => {
    const u = user("doomed"), v = user("stays");
    const du = await online(a.url, u);
    const dv = await online(b.url, v);
    try {
      await until(async () => {
        const h = await onlineUsers(r);
        return h[u] === "1" && h[v] === "1";
      }, 15000, "both users in Redis");
      for (const w of ws)
        await w.wait("user_connected", { pred: (x) => x?.user_id === u, ms: 15000 });
      const marks = ws.map((w) => w.mark());
      killTree(a.pid);
      // A hang guard only: the expiry is TTL, a sweep every TTL/3.
      for (const [i, w] of ws.entries())
        await w.next(marks[i], "user_disconnected", { pred: (x) => x?.user_id === u, ms: 6 * TTL });
      const h = await onlineUsers(r);
      assert.equal(h[u], undefined);
      assert.equal(h[v], "1", "B's user stays");
      for (const [i, w] of ws.entries())
        assert.deepEqual(about(w, marks[i], v), [], `watcher ${i} heard nothing of B's user`);
      const late = await online(b.url, user("late"));
      const list = late.args("online_users")[0];
      late.close();
      assert.ok(!list.includes(u), `online_users: ${JSON.stringify(list)}`);
      assert.ok(list.includes(v));
      await sleep(1000);
      assert.deepEqual(statuses(auth, u), ["online", "offline"], "the sweeper tells the service, once");
      const m = await until(async () => {
        const x = await getJSON(b.url, "/metrics");
        return x.workers?.length === W && x.totals?.redis_nodes_expired >= 1 ? x : null;
      }, 10000, "redis_nodes_expired");
      assert.equal(m.totals.redis_nodes_expired, 1);
    } finally {
      await closeAll([du, dv]);
    }
  });
});

describe("a gateway drained with SIGTERM", () => {
  let r, a, b, auth, ws = [];

  before(async () => {
    r = await startRedis();
    auth = await startStub();
    a = await startGateway({ workers: W, conf: conf(r, "gw-a", auth) });
    b = await startGateway({ workers: W, conf: conf(r, "gw-b", auth) });
    ws = await watchers(r, [b]);
  });

  after(async () => {
    await closeAll(ws);
    await Promise.all([stop(a), stop(b)]);
    await auth?.close();
    await r?.stop();
  });

  test("its users go offline at once where they are not elsewhere, not by the expiry", { timeout: 90000 }, async () => {
    const u = user("drained"), v = user("twice");
    const du = await online(a.url, u);
    const dva = await online(a.url, v);
    const dvb = await online(b.url, v);
    try {
      await until(async () => {
        const h = await onlineUsers(r);
        return h[u] === "1" && h[v] === "2";
      }, 15000, "the users in Redis");
      const marks = ws.map((w) => w.mark());
      await a.stop("SIGTERM");
      for (const [i, w] of ws.entries())
        await w.next(marks[i], "user_disconnected", { pred: (x) => x?.user_id === u, ms: 6 * TTL });
      const h = await onlineUsers(r);
      assert.equal(h[u], undefined);
      assert.equal(h[v], "1", "v still on B");
      // Taken out by the drain's scripts: no instance was swept.
      await sleep(2 * TTL);
      const m = await getJSON(b.url, "/metrics");
      assert.equal(m.totals.redis_nodes_expired, 0);
      for (const [i, w] of ws.entries())
        assert.deepEqual(about(w, marks[i], v), [], `watcher ${i}: v never left`);
    } finally {
      await closeAll([du, dva, dvb]);
    }
  });
});

describe("a Redis restart", () => {
  let r, a, b, auth;

  before(async () => {
    r = await startRedis();
    auth = await startStub();
    // A short redis_timeout: a frozen Redis fails the commands soon.
    a = await startGateway({ workers: W, conf: conf(r, "gw-a", auth, "redis_timeout 1s\n") });
    b = await startGateway({ workers: W, conf: conf(r, "gw-b", auth, "redis_timeout 1s\n") });
  });

  after(async () => {
    await Promise.all([stop(a), stop(b)]);
    await auth?.close();
    await r?.stop();
  });

  // A new client on gw whose online_users has every user of `yes` and none
  // of `no` (the mirrors are rebuilt a while after Redis is back).
  const lists = (gw, yes, no) => until(async () => {
    const d = await online(gw.url, user("late"));
    const list = d.args("online_users")[0];
    d.close();
    if (yes.every((u) => list.includes(u)) && !no.some((u) => list.includes(u))) return list;
    await sleep(500);
    return null;
  }, 30000, `a new client's online_users with ${yes} and without ${no}`);

  test("presence is rebuilt: online_users in Redis and a new client's online_users, what changed meanwhile told", { timeout: 120000 }, async () => {
    const ua = user("ra"), ub = user("rb"), gone = user("rgone"), uc = user("rcame");
    const [w] = await placed(b.url, user("rwatch"), 1);
    const das = await placed(a.url, ua, W);
    const dbs = await placed(b.url, ub, W);
    const dg = await online(a.url, gone);
    let dc;
    try {
      await until(async () => {
        const h = await onlineUsers(r);
        return h[ua] === "1" && h[ub] === "1" && h[gone] === "1";
      }, 15000, "the users in Redis");
      await w.wait("user_connected", { pred: (x) => x?.user_id === gone, ms: 15000 });
      const mark = w.mark();
      // Redis dies (SIGKILL, no persistence: it comes back empty); one
      // user leaves and one comes while it is away.
      await r.stop();
      dg.close();
      dc = await online(b.url, uc);
      await sleep(500);
      await r.start();
      await until(async () => {
        const h = await onlineUsers(r).catch(() => ({}));
        return h[ua] === "1" && h[ub] === "1" && h[uc] === "1" && h[gone] === undefined;
      }, 60000, "online_users rebuilt");
      await lists(a, [ua, ub, uc], [gone]);
      await lists(b, [ua, ub, uc], [gone]);
      // B's clients heard of the two changes (a hang guard only).
      await w.next(mark, "user_disconnected", { pred: (x) => x?.user_id === gone, ms: 30000 });
      await w.next(mark, "user_connected", { pred: (x) => x?.user_id === uc, ms: 30000 });
    } finally {
      await closeAll([...das, ...dbs, dg, dc, w]);
    }
  });

  test("Redis frozen: the failures are counted, nothing crashes, presence is right once it thaws", { timeout: 120000 }, async () => {
    const ua = user("fa"), ub = user("fb");
    const da = await online(a.url, ua);
    let db;
    try {
      await until(async () => (await onlineUsers(r))[ua] === "1", 15000, "ua in Redis");
      const before = (await getJSON(a.url, "/metrics")).totals.redis_presence_errors +
        (await getJSON(b.url, "/metrics")).totals.redis_presence_errors;
      r.freeze();
      db = await online(b.url, ub);	// its script waits, or times out
      // The heartbeats time out (redis_timeout 1s): counted.
      await until(async () => {
        const n = (await getJSON(a.url, "/metrics")).totals.redis_presence_errors +
          (await getJSON(b.url, "/metrics")).totals.redis_presence_errors;
        return n > before;
      }, 30000, "redis_presence_errors to grow");
      r.thaw();
      await until(async () => {
        const h = await onlineUsers(r);
        return h[ua] === "1" && h[ub] === "1";
      }, 60000, "both users in online_users after the thaw");
      const late = await until(async () => {
        const d = await online(a.url, user("late"));
        const list = d.args("online_users")[0];
        d.close();
        return list.includes(ub) ? list : (await sleep(500), null);
      }, 30000, "A lists B's user");
      assert.ok(late.includes(ua));
      for (const gw of [a, b])
        assert.equal(gw.proc.exitCode, null, "the gateway runs");
    } finally {
      r.thaw();
      await closeAll([da, db]);
    }
  });
});
