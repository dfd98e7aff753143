// Guards the hand-off to a busy owner worker (the CI flake of master-tls's
// "every polling client upgrades"): a WebSocket upgrade must reach the
// worker that owns its session even when that worker has fallen behind
// reading its hand-off socket.  That unix datagram socket holds only
// net.unix.max_dgram_qlen unread descriptors (10 by default); past them
// the accepting worker's sendmsg said EAGAIN and it served the upgrade
// itself, which answered 400 (it has no such session): the client's probe
// failed and it stayed on long-polling for good.  Now the accepting worker
// keeps the socket and sends it again once the owner reads.
//
// Made deterministic with SIGSTOP: the owner of a session is stopped, so
// it reads nothing; TLS connections are opened and those whose TLS
// handshake completes are on the other worker (the stopped one cannot
// answer a ClientHello).  Through them, requests naming the owner's
// sessions fill its hand-off socket, then the upgrade of the real session
// comes; the owner is resumed and the upgrade must succeed: "2probe"
// answered "3probe".  A real gateway (2 workers) over TLS, 127.0.0.1 only.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import WebSocket from "ws";
import { children, handshake, json, sleep, startGateway, until, workerOfSid } from "./lib.mjs";

// Requests for the stopped owner: well past what its socket holds.
const QLEN = Number(readFileSync("/proc/sys/net/unix/max_dgram_qlen", "utf8"));
const FILL = QLEN + 30;
const OPEN = 4 * FILL;		// TLS connections tried, about half on each worker

let gw;
before(async () => { gw = await startGateway({ ready: "master", workers: 2, tls: true }); });
after(async () => { await gw?.shutdown(); });

// The pid of worker wid, from /metrics, one of the master's live children.
async function pidOf(wid) {
  const w = await until(async () => (await json(gw.url, "/metrics", { ca: gw.ca, ms: 10000 })).workers
    .find((x) => x.worker === (wid & 0xff) && x.pid > 0 &&
      children(gw.proc.pid).includes(x.pid)), 10000, `worker ${wid} alive in /metrics`);
  return w.pid;
}

// TLS connections to the gateway: done gets those whose handshake is
// done, which the running worker accepted (the others wait for the
// stopped one).
function tlsConnections(n) {
  const done = [], all = [];
  for (let i = 0; i < n; i++) {
    const s = tlsConnect({ host: "127.0.0.1", port: gw.port, ca: gw.ca }, () => done.push(s));
    s.on("error", () => {});
    all.push(s);
  }
  return { done, all };
}

// What p resolves, or the string what if it does not within ms (a hang
// guard: the timer is cleared, so it keeps nothing waiting).
async function within(p, ms, what) {
  let timer;
  const guard = new Promise((resolve) => { timer = setTimeout(() => resolve(what), ms); });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

// The HTTP status line of what comes back on a raw connection, if any.
function statusOf(s) {
  return new Promise((resolve) => {
    let got = "";
    s.on("data", (d) => {
      got += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d+)/.exec(got);
      if (m) resolve(Number(m[1]));
    });
    s.on("close", () => resolve(null));
  });
}

test("a WebSocket upgrade reaches its owner worker over TLS although the owner's hand-off socket was full",
  { timeout: 120000 }, async () => {
    const { sid } = await handshake(gw.url, { ca: gw.ca });
    const owner = workerOfSid(sid).wid;
    const pid = await pidOf(owner);
    const before = (await json(gw.url, "/metrics", { ca: gw.ca, ms: 10000 })).totals;
    let conns = { done: [], all: [] }, ws = null;
    process.kill(pid, "SIGSTOP");
    try {
      conns = tlsConnections(OPEN);
      await until(() => conns.done.length > FILL, 30000,
        `${FILL + 1} of ${OPEN} TLS connections on the running worker`);
      // Each names a session of the stopped owner: a hand-off to it each.
      const other = `${sid.slice(0, 2)}${"A".repeat(sid.length - 2)}`;
      const fillers = conns.done.slice(0, FILL);
      const answers = fillers.map(statusOf);
      for (const s of fillers)
        s.write(`GET /socket.io/?EIO=4&transport=polling&sid=${other} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      await sleep(2000);	// for the running worker to pass them on
      // The upgrade, on a connection the running worker accepted.
      const sock = conns.done[FILL];
      ws = new WebSocket(`wss://127.0.0.1:${gw.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`,
        { createConnection: () => sock });
      const opened = new Promise((resolve) => {
        ws.on("open", () => resolve("open"));
        ws.on("unexpected-response", (req, res) => resolve(`HTTP ${res.statusCode}`));
        ws.on("error", (e) => resolve(`error: ${e.message}`));
      });
      const early = await within(opened, 500, "waiting");
      assert.equal(early, "waiting", "the upgrade waits for its stopped owner, not answered elsewhere");
      process.kill(pid, "SIGCONT");
      assert.equal(await within(opened, 30000, "no answer in 30 s"), "open");
      const reply = new Promise((resolve) => ws.once("message", (d) => resolve(d.toString())));
      ws.send("2probe");
      assert.equal(await within(reply, 30000, "no answer in 30 s"), "3probe");
      // The fillers reached the owner too, which knows no such session.
      assert.deepEqual(new Set(await within(Promise.all(answers), 30000, ["no answer in 30 s"])),
        new Set([400]));
      // (/metrics figures may be a second old.)
      const m = await until(async () => {
        const t = (await json(gw.url, "/metrics", { ca: gw.ca, ms: 10000 })).totals;
        return t.handoff_waits > before.handoff_waits ? t : null;
      }, 10000, "handoff_waits in /metrics: hand-offs waited for the owner");
      assert.equal(m.handoff_failures, before.handoff_failures, "none was served by the wrong worker");
    } finally {
      try { process.kill(pid, "SIGCONT"); } catch { /* gone */ }
      ws?.terminate();
      for (const s of conns.all) s.destroy();
    }
  });
