// Guards issue 5 (master process): a worker that dies is respawned in its
// slot, at once, and only its own clients notice.  Real processes (a master
// and 4 workers), real signals (kill -9 of a worker), the real
// socket.io-client, 127.0.0.1 only.  Clients on the other workers exchange
// direct messages (send_message) all along and must lose none; the slot
// must have a new pid within 3 s (the issue asks ~1 s: the measured time is
// logged); the master logs the signal.  Then a worker killed again and
// again while young gets the crash-loop backoff, and workers that can never
// start (an unreadable certificate) make the master give up with status 1;
// and a master killed with SIGKILL takes its workers with it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { children, client, json, sleep, startGateway, token, until, workerOf } from "./lib.mjs";
import { alive, connectMany, diagnose, within } from "./masterlib.mjs";

const WORKERS = 4;

let gw;
before(async () => { gw = await startGateway({ ready: "master", workers: WORKERS }); });
after(async () => { await gw?.shutdown(); });

// The pid of every worker slot, from GET /metrics.
async function pidsBySlot() {
  const m = await json(gw.url, "/metrics");
  return new Map(m.workers.map((w) => [w.worker, w.pid]));
}

// Order clients so that neighbours sit on different workers: one of each
// slot in turn.
function interleave(cs) {
  const bySlot = new Map();
  for (const c of cs) {
    const s = workerOf(c).slot;
    if (!bySlot.has(s)) bySlot.set(s, []);
    bySlot.get(s).push(c);
  }
  const out = [];
  for (let i = 0; out.length < cs.length; i++)
    for (const l of bySlot.values()) if (i < l.length) out.push(l[i]);
  return out;
}

// Each client sends to the next one in the ring every `every` ms until
// stop() (bounded by max per client); records what was sent, acked and
// received.
function exchange(cs, { every = 50, max = 400 } = {}) {
  const st = { sent: 0, acked: 0, bad: [], got: new Map(), want: new Map(), running: true };
  for (const c of cs) {
    st.got.set(c, []);
    c.socket.on("receive_message", (m) => st.got.get(c).push(m.content));
  }
  const loops = cs.map(async (c, i) => {
    const to = cs[(i + 1) % cs.length];
    const toUser = to.user;
    for (let n = 0; n < max && st.running; n++) {
      const content = `${c.user}>${toUser}#${n}`;
      st.sent++;
      c.socket.timeout(10000).emit("send_message",
        { receiver_id: toUser, content, message_type: "text", client_msg_id: content },
        (err, ack) => {
          if (err || ack?.ok !== true) st.bad.push(`${content}: ${err?.message ?? JSON.stringify(ack)}`);
          else {
            st.acked++;
            if (!st.want.has(to)) st.want.set(to, []);
            st.want.get(to).push(content);
          }
        });
      await sleep(every);
    }
  });
  st.stop = async () => {
    st.running = false;
    await Promise.all(loops);
    await until(() => st.acked + st.bad.length >= st.sent, 15000,
      `acks (${st.acked} + ${st.bad.length} of ${st.sent})`);
    // Every acked message reaches its receiver, exactly once.
    await until(() => cs.every((c) => (st.got.get(c).length >= (st.want.get(c)?.length ?? 0))),
      10000, "every acked message to arrive").catch(() => {});
  };
  return st;
}

test("kill -9 of a worker: respawned in its slot, clients on the other workers lose nothing", async () => {
  // Clients until every slot has at least 3 (bounded).
  const cs = [];
  try {
    for (let round = 0; round < 6; round++) {
      const more = await connectMany(gw.url, 16, { prefix: `r${round}-u` });
      more.forEach((c, i) => { c.user = `r${round}-u${i}`; });
      cs.push(...more);
      const slots = new Map();
      for (const c of cs) slots.set(workerOf(c).slot, (slots.get(workerOf(c).slot) ?? 0) + 1);
      if (slots.size === WORKERS && [...slots.values()].every((n) => n >= 3)) break;
    }
    const victimSlot = 1;
    const victims = cs.filter((c) => workerOf(c).slot === victimSlot);
    const survivors = interleave(cs.filter((c) => workerOf(c).slot !== victimSlot));
    assert.ok(victims.length >= 1, "a client on the worker to kill");
    assert.ok(new Set(survivors.map((c) => workerOf(c).slot)).size >= 2,
      "survivors on at least two workers");
    console.log(`${cs.length} clients: ${victims.length} on worker ${victimSlot}, ` +
      `${survivors.length} on the others`);

    const before = await until(async () => {
      const p = await pidsBySlot();
      return p.size === WORKERS ? p : null;
    }, 3000, "4 workers in /metrics");
    const victimPid = before.get(victimSlot);
    assert.ok(children(gw.pid).includes(victimPid), "the pid of /metrics is a worker of the master");

    const ex = exchange(survivors);
    // Traffic flows before the kill...
    await until(() => ex.acked >= survivors.length * 3, 20000, `acks before the kill (${ex.acked})`);
    const logFrom = gw.logs.length;
    const t0 = Date.now();
    process.kill(victimPid, "SIGKILL");
    // The respawn, seen in the process table and then in /metrics.
    let forked = null, reported = null, newPid = null;
    await until(async () => {
      if (forked === null && children(gw.pid).length === WORKERS &&
          !children(gw.pid).includes(victimPid)) forked = Date.now() - t0;
      const p = await pidsBySlot().catch(() => new Map());
      if (p.size === WORKERS && p.get(victimSlot) !== victimPid && alive(p.get(victimSlot))) {
        reported = Date.now() - t0;
        newPid = p.get(victimSlot);
        return true;
      }
      return false;
    }, 3000, `worker ${victimSlot} respawned with a new pid in /metrics`);
    console.log(`worker ${victimSlot} respawned: forked after ${forked ?? "?"} ms, ` +
      `in /metrics after ${reported} ms (pid ${victimPid} -> ${newPid})`);
    assert.ok(children(gw.pid).includes(newPid));
    // ...and goes on after the respawn (counts, not a rate).
    const atRespawn = ex.acked;
    await until(() => ex.acked >= atRespawn + survivors.length * 3, 20000,
      `acks after the respawn (${ex.acked - atRespawn})`);
    await ex.stop();

    assert.deepEqual(ex.bad.slice(0, 5), [], "every message acked ok");
    for (const c of survivors) {
      for (const what of ["connect_error", "disconnect"])
        assert.deepEqual(c.all(what).map((e) => String(e.args[0])), [],
          `${c.user} (worker ${workerOf(c).slot}) saw no ${what}`);
      const want = (ex.want.get(c) ?? []).slice().sort();
      const got = ex.got.get(c).slice().sort();
      assert.deepEqual(got, want, `${c.user} received every message sent to it, once`);
    }
    console.log(`${ex.sent} messages between ${survivors.length} clients, none lost`);
    for (const c of victims)
      await until(() => c.all("disconnect").length > 0, 5000, `${c.user} on the killed worker disconnected`);

    const line = gw.logged(`worker ${victimSlot} pid ${victimPid} exited on signal 9`, logFrom)[0];
    assert.ok(line, `the master logs the signal:\n${gw.tail()}`);
    assert.equal(line.level, "error");
    assert.equal(line.role, "master");
    assert.match(line.msg, /signal 9 \(Killed\)/);

    // The new worker serves and is on the bus: a new client on its slot
    // and a survivor exchange a message both ways.
    let fresh = null;
    for (let i = 0; i < 40 && !fresh; i++) {
      const c = client(gw.url, { auth: { token: token(`fresh-${i}`) }, transports: ["websocket"] });
      await c.wait("connected");
      if (workerOf(c).slot === victimSlot) fresh = Object.assign(c, { user: `fresh-${i}` });
      else c.close();
    }
    assert.ok(fresh, `a new connection reached the respawned worker ${victimSlot}`);
    cs.push(fresh);
    const peer = survivors[0];
    // On a loss, what the bus counted and the master logged.
    const why = async (e) => {
      const m = await json(gw.url, "/metrics").catch(() => null);
      assert.fail(`${e.message}; bus figures: ${JSON.stringify(m?.workers.map((w) =>
        ({ worker: w.worker, pid: w.pid, sent: w.bus_sent, received: w.bus_received, lost: w.bus_lost })))}` +
        `\n${diagnose(gw)}`);
    };
    const got = new Promise((r) => peer.socket.once("receive_message", r));
    const back = new Promise((r) => fresh.socket.once("receive_message", r));
    const a1 = await fresh.socket.timeout(5000).emitWithAck("send_message",
      { receiver_id: peer.user, content: "from the new worker" });
    assert.equal(a1.ok, true);
    assert.equal((await within(got, 5000, `the message from worker ${victimSlot} to worker ` +
      `${workerOf(peer).slot} (${peer.user})`).catch(why)).content, "from the new worker");
    const a2 = await peer.socket.timeout(5000).emitWithAck("send_message",
      { receiver_id: fresh.user, content: "to the new worker" });
    assert.equal(a2.ok, true);
    assert.equal((await within(back, 5000, `the message from worker ${workerOf(peer).slot} to ` +
      `worker ${victimSlot} (${fresh.user})`).catch(why)).content, "to the new worker");
  } finally {
    for (const c of cs) c.close();
  }
});

test("a worker killed again and again while young: crash-loop warning and backoff", async () => {
  const slot = 2;
  const logFrom = gw.logs.length;
  let pid = (await pidsBySlot()).get(slot);
  const kills = [];
  // Kill it, wait for its replacement (a new child of the master), kill
  // that one at once: 4 quick exits.
  for (let k = 0; k < 4; k++) {
    const others = children(gw.pid).filter((p) => p !== pid);
    process.kill(pid, "SIGKILL");
    const t = Date.now();
    pid = await until(() => children(gw.pid).find((p) => !others.includes(p) && p !== pid),
      10000, `replacement #${k + 1} of worker ${slot}`);
    kills.push(Date.now() - t);
  }
  console.log(`respawn delays after each kill (ms): ${kills.join(", ")}`);
  const warnings = gw.logged(new RegExp(`worker ${slot} is crash looping`), logFrom);
  assert.ok(warnings.length >= 1, `a crash-loop warning:\n${gw.tail()}`);
  for (const w of warnings) assert.equal(w.level, "warn");
  const delays = warnings.map((w) => Number(/respawning in ([\d.]+)s/.exec(w.msg)?.[1]));
  console.log(warnings.map((w) => w.msg).join("\n"));
  assert.ok(delays.every((d) => d > 0), `the warning names the delay: ${delays}`);
  for (let i = 1; i < delays.length; i++)
    assert.ok(delays[i] > delays[i - 1], `the delay grows: ${delays}`);
  assert.equal(gw.logged("exited on signal 9", logFrom).length, 4, "each kill is logged");
  // The slot serves again and the gateway has its 4 workers.
  await until(async () => {
    const p = await pidsBySlot().catch(() => new Map());
    return p.size === WORKERS && p.get(slot) === pid;
  }, 3000, `worker ${slot} in /metrics with pid ${pid}`);
  const h = await json(gw.url, "/health");
  assert.equal(h.status, "ok");
});

test("workers that can never start: not respawned, the master exits 1", async () => {
  // A readable file that is no certificate passes the configuration check;
  // every worker then fails to create its TLS context (exit status 2).
  const dir = mkdtempSync(join(tmpdir(), "sgw-badcert-"));
  writeFileSync(join(dir, "bad.pem"), "not a certificate\n");
  const gw2 = await startGateway({ workers: 2, ready: false,
    conf: `tls_cert "${dir}/bad.pem"\ntls_key "${dir}/bad.pem"` });
  try {
    const r = await Promise.race([gw2.exited, sleep(10000).then(() => null)]);
    assert.ok(r, `the master exits within 10 s:\n${gw2.tail()}`);
    assert.equal(r.code, 1, `exit status 1:\n${gw2.tail()}`);
    for (const s of [0, 1])
      assert.equal(gw2.logged(`worker ${s} cannot start and will not be respawned`).length, 1,
        `worker ${s} is not respawned:\n${gw2.tail()}`);
    assert.equal(gw2.logged("no worker can run; exiting").length, 1);
    assert.equal(gw2.logged("socket-gatewayd ready").length, 0);
  } finally {
    await gw2.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the master killed with SIGKILL: its workers drain and exit, nothing is left serving", async () => {
  const gw2 = await startGateway({ workers: 2, ready: "master" });
  try {
    const pids = children(gw2.pid);
    assert.equal(pids.length, 2, `two workers: ${pids}`);
    const c = client(gw2.url, { auth: { token: token("orphan") }, reconnection: false });
    await c.wait("connected", { ms: 15000 });
    process.kill(gw2.pid, "SIGKILL");
    await c.wait("disconnect", { ms: 15000 });
    // A hang guard only: they drain and exit at once.
    await until(() => pids.every((p) => !alive(p)), 15000,
      `the workers ${pids} to exit after their master`);
    assert.ok(pids.every((p) => !alive(p)));
  } finally {
    await gw2.shutdown();
  }
});
