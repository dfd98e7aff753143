// Guards issue 14 (several hosts over Redis): two gateway instances (two
// workers each) and a Node.js socket.io 4.8.1 server with
// @socket.io/redis-adapter 8.3.0 form one cluster over a real
// redis-server: direct and group messages between the instances and
// between a Node client and a gateway client, both ways; a backend's
// @socket.io/redis-emitter 5.1.0 io.to("user:<id>").emit() reaching the
// user's sockets on every instance; Node's fetchSockets(), socketsJoin(),
// disconnectSockets() and serverSideEmitWithAck() reaching the gateways'
// sockets; the same messages with the sharded adapter (SSUBSCRIBE per
// room, subscription mode "dynamic"); a Redis restart, after which what is
// sent is delivered; Redis stopped: /health degraded, local delivery on.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { eachLine, freePort, getJSON, probe, track } from "./lib.mjs";
import { SECRET, closeAll, online, sendAndWait, startGateway, uid, until } from "./gwlib.mjs";
import { startRedis } from "./redislib.mjs";

const SERVER = fileURLToPath(new URL("./node-cluster-server.mjs", import.meta.url));
const T = { timeout: 120000 };

// The Node server, a child process on a free port; resolves {url, stop}.
async function startNode(redisUrl, adapter) {
  const port = await freePort();
  const logs = [];
  const proc = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl,
      JWT_SECRET: SECRET, ADAPTER: adapter },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(proc);
  eachLine(proc.stdout, (l) => logs.push(l));
  eachLine(proc.stderr, (l) => logs.push(l));
  await until(() => {
    if (proc.exitCode !== null) throw new Error(`node server exited:\n${logs.join("\n")}`);
    return logs.some((l) => l.includes('"listening"'));
  }, 15000, "the Node server to listen");
  const url = `http://127.0.0.1:${port}`;
  return {
    url, proc, logs,
    admin: (path) => getJSON(url, path),
    stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
    },
  };
}

// A gateway of the cluster: two workers, its own node_id.
function gateway(r, name, extra = "") {
  return startGateway({ workers: 2,
    conf: `redis_url ${r.url}\nnode_id ${name}\n${extra}` });
}

// Every connection of every worker is up, and has connected at least
// `connects` times in all (after a restart: the figures are up to a
// second old, and must not be the ones from before it).
async function redisUp(gw, connects = 4) {
  return until(async () => {
    const m = await getJSON(gw.url, "/metrics");
    return m.workers?.length === 2 && m.totals?.redis_configured === 2 &&
      m.totals?.redis_down === 0 && m.totals?.redis_subscriptions >= 4 &&
      m.totals?.redis_connects >= connects ? m.totals : null;
  }, 30000, `${gw.url}: every Redis connection up`);
}

// The cluster of one mode: Redis, gateways A and B, the Node server, a
// Redis client of the test's own (emitter, PUBSUB).
function cluster(mode) {
  const c = { mode };
  before(async () => {
    c.redis = await startRedis();
    const extra = mode === "sharded" ? "redis_adapter sharded\n" : "";
    // B's sockets may be in 3 rooms: a join from Node respects it.
    [c.a, c.b] = await Promise.all([gateway(c.redis, "gw-a", extra),
      gateway(c.redis, "gw-b", `${extra}max_rooms_per_socket 3\n`)]);
    c.node = await startNode(c.redis.url, mode);
    c.rc = createClient({ url: c.redis.url });
    c.rc.on("error", () => {});
    await c.rc.connect();
    await Promise.all([redisUp(c.a), redisUp(c.b)]);
  });
  after(async () => {
    // Not quit(): after a Redis restart it may wait for a reconnection.
    await c.rc?.disconnect().catch(() => {});
    c.node?.stop();
    await Promise.all([c.a?.shutdown(), c.b?.shutdown()]);
    await c.redis?.stop();
  });
  // Sharded: wait until n servers hear room's channel (subscriptions
  // follow the rooms, and a message sent before one is made is not
  // heard there, as between Node servers).  Classic: every server hears.
  c.heard = async (room, n) => {
    if (mode !== "sharded") return;
    const ch = `socket.io#/#${room}#`;
    await until(async () => {
      const v = await c.rc.sendCommand(["PUBSUB", "SHARDNUMSUB", ch]);
      return Number(v[1]) >= n;
    }, 10000, `${n} subscribers of ${ch}`);
  };
  return c;
}

// The direct and group message cases, in both modes.
function messages(c) {
  test("direct messages from gateway A to gateway B and back", T, async () => {
    const ua = uid("ua"), ub = uid("ub");
    const a = await online(c.a.url, ua), b = await online(c.b.url, ub);
    try {
      await c.heard(`user:${ub}`, 1);
      await c.heard(`user:${ua}`, 1);
      await sendAndWait(a, b);
      await sendAndWait(b, a);
    } finally {
      await closeAll([a, b]);
    }
  });

  test("group messages between the gateways, not back to the sender", T, async () => {
    const g = uid("g");
    const a = await online(c.a.url, uid("ga")), b = await online(c.b.url, uid("gb"));
    try {
      for (const d of [a, b])
        assert.equal((await d.ack("join_room", { group_id: g })).ok, true);
      await c.heard(`group:${g}`, 2);
      const m1 = await sendAndWait(a, b, { group_id: g });
      await sendAndWait(b, a, { group_id: g });
      assert.equal(a.args("receive_message", (m) => m.content === m1).length, 0,
        "the sender heard its own group message");
    } finally {
      await closeAll([a, b]);
    }
  });

  test("a Node.js server's client and a gateway's client, both ways", T, async () => {
    const un = uid("un"), ug = uid("ug"), g = uid("g");
    const n = await online(c.node.url, un), a = await online(c.a.url, ug);
    try {
      await c.heard(`user:${ug}`, 1);
      await c.heard(`user:${un}`, 1);
      await sendAndWait(n, a);
      await sendAndWait(a, n);
      for (const d of [n, a])
        assert.equal((await d.ack("join_room", { group_id: g })).ok, true);
      await c.heard(`group:${g}`, 2);
      await sendAndWait(n, a, { group_id: g });
      await sendAndWait(a, n, { group_id: g });
    } finally {
      await closeAll([n, a]);
    }
  });

  test("Node's fetchSockets() lists the gateways' sockets in a room", T, async () => {
    const g = uid("fg"), ua = uid("fa"), ub = uid("fb");
    const a = await online(c.a.url, ua), b = await online(c.b.url, ub);
    try {
      for (const d of [a, b])
        assert.equal((await d.ack("join_room", { group_id: g })).ok, true);
      const got = await c.node.admin(`/admin/fetch?room=${encodeURIComponent(`group:${g}`)}`);
      assert.ok(Array.isArray(got), JSON.stringify(got));
      assert.deepEqual(got.map((s) => s.id).sort(), [a.socket.id, b.socket.id].sort());
      const sa = got.find((s) => s.id === a.socket.id);
      assert.deepEqual(sa.data, { user_id: ua });
      assert.ok(sa.rooms.includes(`group:${g}`) && sa.rooms.includes(`user:${ua}`) &&
        sa.rooms.includes(a.socket.id), JSON.stringify(sa.rooms));
      assert.deepEqual(sa.handshake.headers, {});
      assert.deepEqual(sa.handshake.auth, {});
      assert.equal(typeof sa.handshake.issued, "number");
      assert.ok(!JSON.stringify(sa).includes(".ey"), "a token in the handshake");
    } finally {
      await closeAll([a, b]);
    }
  });

  test("Node's socketsJoin() puts a gateway socket in a room it then hears", T, async () => {
    const u = uid("ju"), room = uid("room");
    const a = await online(c.a.url, u);
    try {
      await c.node.admin(`/admin/join?room=${encodeURIComponent(`user:${u}`)}&to=${room}`);
      // The join, and in sharded mode our subscription to the new room,
      // may come after the message:
      // the message is sent again until heard, a bounded number of times.
      const content = uid("jm");
      await until(async () => {
        await c.node.admin(`/admin/send?room=${room}&content=${content}`);
        return a.all("receive_message", (m) => m.content === content).length > 0 ||
          new Promise((r) => setTimeout(() => r(false), 300));
      }, 15000, `a message to ${room} after socketsJoin`);
    } finally {
      await closeAll([a]);
    }
  });

  test("Node's socketsJoin() keeps to max_rooms_per_socket and room names' length", T, async () => {
    const u = uid("mu");
    const b = await online(c.b.url, u);
    try {
      const before = (await getJSON(c.b.url, "/metrics")).totals.rooms_refused;
      const long = "x".repeat(300);
      await c.node.admin(`/admin/join?room=${b.socket.id}&to=${long},r1-${u},r2-${u},r3-${u}`);
      const rooms = await until(async () => {
        const got = await c.node.admin(`/admin/fetch?room=${b.socket.id}`);
        const r = got[0]?.rooms ?? [];
        return r.includes(`r2-${u}`) ? r : null;
      }, 10000, "the joins to reach the socket");
      // user:<id> and two more: three; the long name is none of them.
      assert.deepEqual(rooms.filter((r) => r !== b.socket.id).sort(),
        [`r1-${u}`, `r2-${u}`, `user:${u}`]);
      await until(async () => (await getJSON(c.b.url, "/metrics")).totals.rooms_refused > before,
        10000, "rooms_refused to count the join past the limit");
    } finally {
      await closeAll([b]);
    }
  });

  test("Node's disconnectSockets() disconnects a gateway client", T, async () => {
    const u = uid("du");
    const b = await online(c.b.url, u);
    try {
      await c.node.admin(`/admin/disconnect?room=${encodeURIComponent(`user:${u}`)}`);
      const [reason] = await b.wait("disconnect");
      assert.equal(reason, "io server disconnect");
    } finally {
      await closeAll([b]);
    }
  });

  test("Node's serverSideEmitWithAck() completes: each gateway worker answers", T, async () => {
    const got = await c.node.admin("/admin/emit?event=ping");
    assert.equal(got.err, null, JSON.stringify(got));
    // Two gateways of two workers: four answers, null (no handlers there).
    assert.deepEqual(got.responses, [null, null, null, null]);
  });

  test("Node's io.to(socket.id) reaches that gateway socket, binary too", T, async () => {
    const a = await online(c.a.url, uid("sid"));
    try {
      const content = uid("sm");
      await c.node.admin(`/admin/send?room=${a.socket.id}&content=${content}&bin=1`);
      const [m] = await a.wait("receive_message", { pred: (x) => x.content === content });
      assert.deepEqual([...new Uint8Array(m.blob)], [1, 2, 3, 250]);
    } finally {
      await closeAll([a]);
    }
  });

  test("the adapter's figures in /metrics", T, async () => {
    for (const gw of [c.a, c.b]) {
      // The figures are up to a second old: wait for the last tests'.
      const m = await until(async () => {
        const x = await getJSON(gw.url, "/metrics");
        return x.totals.redis_requests > 0 && x.totals.redis_received > 0 ? x : null;
      }, 10000, "the adapter's figures");
      assert.ok(m.totals.redis_published > 0, JSON.stringify(m.totals));
      assert.ok(m.totals.redis_received > 0, JSON.stringify(m.totals));
      assert.ok(m.totals.redis_requests > 0, JSON.stringify(m.totals));
      assert.ok(m.totals.redis_ignored > 0, JSON.stringify(m.totals));
      assert.equal(m.totals.redis_malformed, 0);
    }
  });
}

describe("classic adapter (createAdapter)", () => {
  const c = cluster("classic");
  messages(c);

  test("a backend's redis-emitter reaches the user on both gateways", T, async () => {
    const u = uid("eu");
    const a = await online(c.a.url, u), b = await online(c.b.url, u);
    try {
      const content = uid("em");
      new Emitter(c.rc).to(`user:${u}`).emit("receive_message", { content });
      for (const d of [a, b])
        await d.wait("receive_message", { pred: (m) => m.content === content });
    } finally {
      await closeAll([a, b]);
    }
  });

  test("a Redis restart: what is sent once it is back is delivered", T, async () => {
    const [ta, tb] = await Promise.all([redisUp(c.a), redisUp(c.b)]);
    await c.redis.restart();
    // Each of the four connections of each gateway connects again.
    await Promise.all([redisUp(c.a, ta.redis_connects + 4),
      redisUp(c.b, tb.redis_connects + 4)]);
    const a = await online(c.a.url, uid("ra")), b = await online(c.b.url, uid("rb"));
    try {
      await sendAndWait(a, b);
      await sendAndWait(b, a);
    } finally {
      await closeAll([a, b]);
    }
  });

  test("Redis stopped: /health degraded, one gateway's clients still talk", T, async () => {
    await c.redis.stop();
    try {
      const h = await until(async () => {
        const r = await probe(c.a.url, "/health");
        const j = r.body ? JSON.parse(r.body) : null;
        return j?.status === "degraded" ? j : null;
      }, 20000, "/health degraded");
      assert.ok(h.servicesDown.includes("redis"), JSON.stringify(h));
      const a1 = await online(c.a.url, uid("la")), a2 = await online(c.a.url, uid("lb"));
      try {
        await sendAndWait(a1, a2);
        await sendAndWait(a2, a1);
      } finally {
        await closeAll([a1, a2]);
      }
    } finally {
      await c.redis.start();
    }
  });
});

describe("sharded adapter (createShardedAdapter, dynamic)", () => {
  const c = cluster("sharded");
  messages(c);
});
