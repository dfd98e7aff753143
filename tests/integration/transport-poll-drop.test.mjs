// Guards issue 15 (connection state recovery): a long-polling session
// whose waiting GET's TCP connection is closed by its client before the GET
// was answered closes at once, as the reference server's does ("poll
// connection closed prematurely", a transport error: recoverable), not at
// its heartbeat; until then a reconnecting client's CONNECT with its pid
// found the session live and was not recovered.  Raw HTTP against 2
// workers, with a heartbeat and connect_timeout of 5 minutes, so that
// nothing but the closed connection can end a session within the test:
//   - the GET waiting in the worker that owns the session (on the
//     connection whose handshake made it there);
//   - the GET relayed by the other worker (a keep-alive connection of that
//     worker's): the relaying worker tells the owner; or the relaying
//     worker is killed, and its clients' connections with it;
//   - not a GET that was answered (the client then closes its idle
//     connection: the session lives on, its next GET is served);
//   - not the GET a WebSocket upgrade answers with a noop (the session
//     lives on on its WebSocket).
// The session's end is seen as the reference's answer for a closed one (a
// POST answered 400, code 1 "Session ID unknown") and in /metrics
// (polls_dropped).
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import WebSocket from "ws";
import { children, getJSON, sleep, startGateway, until, workerOfSid } from "./lib.mjs";

const EIO = "/socket.io/?EIO=4&transport=polling";
const T = { timeout: 90000 };
const LONG = "ping_interval 5m\nping_timeout 5m\nconnect_timeout 5m\n";

// One raw connection: write, and collect the HTTP answers that come back.
function raw(port) {
  const sock = connect(port, "127.0.0.1");
  sock.setNoDelay(true);
  sock.setEncoding("latin1");
  let data = "";
  let closed = false;
  sock.on("data", (d) => { data += d; });
  sock.on("error", () => {});
  sock.on("close", () => { closed = true; });
  return {
    write(s) { if (!sock.destroyed) sock.write(s); },
    responses() { return parse(data); },
    async response(n = 1, ms = 15000) {
      return until(() => {
        const r = parse(data);
        if (r.length >= n) return r[n - 1];
        if (closed) throw new Error(`closed before answer ${n}: ${JSON.stringify(data.slice(0, 300))}`);
        return null;
      }, ms, `HTTP answer ${n}`);
    },
    // Both directions at once, as a client whose network or process went.
    destroy() { sock.destroy(); },
  };
}

function parse(data) {
  const out = [];
  let rest = data;
  for (;;) {
    const i = rest.indexOf("\r\n\r\n");
    if (i < 0) return out;
    const head = rest.slice(0, i).split("\r\n");
    const headers = {};
    for (const h of head.slice(1)) {
      const c = h.indexOf(":");
      headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
    }
    const len = Number(headers["content-length"] ?? 0);
    if (rest.length < i + 4 + len) return out;
    out.push({ status: Number(head[0].split(" ")[1]), body: rest.slice(i + 4, i + 4 + len) });
    rest = rest.slice(i + 4 + len);
  }
}

const get = (sid) => `GET ${EIO}&sid=${sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const post = (sid, body) => `POST ${EIO}&sid=${sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
  `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

// A session opened on a keep-alive connection: the worker that accepted
// the connection made it (its id is in the sid).
async function session(port) {
  const c = raw(port);
  c.write(`GET ${EIO} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const r = await c.response(1);
  assert.equal(r.status, 200, r.body);
  const sid = JSON.parse(r.body.slice(1)).sid;
  return { c, sid, wid: workerOfSid(sid).wid };
}

// Two such sessions, on connections of different workers.
async function onTwoWorkers(port) {
  const seen = [];
  for (let i = 0; i < 40; i++) {
    const s = await session(port);
    const other = seen.find((x) => x.wid !== s.wid);
    if (other) {
      for (const x of seen) if (x !== other) x.c.destroy();
      return [other, s];
    }
    seen.push(s);
  }
  throw new Error("40 connections all reached one worker");
}

// A noop packet POSTed on a connection of its own: "ok" while the session
// is open, 400 code 1 once it is closed.
async function poke(port, sid) {
  const c = raw(port);
  try {
    c.write(post(sid, "6"));
    return await c.response(1);
  } finally {
    c.destroy();
  }
}

// The session is closed: the reference's answer for an unknown sid.
async function gone(gw, sid) {
  let last;
  await until(async () => {
    last = await poke(gw.port, sid);
    return last.status === 400;
  }, 30000, `session ${sid} closed`).catch(() =>
    assert.fail(`session ${sid} still open: a POST is answered ${JSON.stringify(last)}`));
  assert.equal(JSON.parse(last.body).code, 1, last.body);
}

async function open(gw, sid) {
  const r = await poke(gw.port, sid);
  assert.deepEqual(r, { status: 200, body: "ok" }, `session ${sid} is open`);
}

// A live worker's pid, from /metrics (which may still name a killed one).
async function pidOf(gw, wid) {
  const w = await until(async () => (await getJSON(gw.url)).workers
    .find((x) => x.worker === (wid & 0xff) && x.pid > 0 && children(gw.proc.pid).includes(x.pid)),
  10000, `worker ${wid} alive in /metrics`);
  return w.pid;
}

// polls_dropped of the live worker wid, the session's owner, which counts
// it (reported about once a second; the totals would lose a killed
// worker's figures).
async function dropped(gw, wid) {
  const w = (await getJSON(gw.url)).workers.find((x) => x.worker === (wid & 0xff) &&
    x.pid > 0 && children(gw.proc.pid).includes(x.pid));
  return w?.polls_dropped ?? 0;
}

// Run against the sanitizer build, a report (a worker then aborts and is
// respawned) fails the case.
function sanitized(gw) {
  const lines = gw.logs.filter((l) => /AddressSanitizer|runtime error|LeakSanitizer/.test(l.raw ?? ""));
  assert.deepEqual(lines.map((l) => l.raw).slice(0, 4), [], "the sanitizer reported");
}

describe("a waiting GET's connection closed by its client (2 workers)", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 2, conf: LONG }); });
  afterEach(() => sanitized(gw));
  after(async () => { await gw?.shutdown(); });

  test("served by the session's owner: the session closes, counted", T, async () => {
    const a = await session(gw.port);
    const before = await dropped(gw, a.wid);
    a.c.write(get(a.sid));
    await sleep(500);
    assert.equal(a.c.responses().length, 1, "the GET waits");
    await open(gw, a.sid);
    a.c.destroy();
    await gone(gw, a.sid);
    await until(async () => await dropped(gw, a.wid) > before, 10000, "polls_dropped counted");
  });

  test("relayed by the other worker: the owner hears it, the session closes", T, async () => {
    const [a, b] = await onTwoWorkers(gw.port);
    const before = await dropped(gw, a.wid);
    b.c.write(get(a.sid));		// relayed to a's worker, and waits
    await sleep(500);
    assert.equal(b.c.responses().length, 1, "the relayed GET waits");
    await open(gw, a.sid);
    b.c.destroy();
    await gone(gw, a.sid);
    // a's connection, idle, and b's own session were not touched.
    await open(gw, b.sid);
    await until(async () => await dropped(gw, a.wid) > before, 10000, "polls_dropped counted");
    a.c.destroy();
  });

  test("relayed by a worker that is killed (its clients' connections go with it): the " +
    "owner's session closes", T, async () => {
    const [a, b] = await onTwoWorkers(gw.port);
    const before = await dropped(gw, a.wid);
    const pid = await pidOf(gw, b.wid);
    b.c.write(get(a.sid));		// relayed to a's worker, and waits
    await sleep(500);
    assert.equal(b.c.responses().length, 1, "the relayed GET waits");
    process.kill(pid, "SIGKILL");
    await gone(gw, a.sid);
    await until(async () => await dropped(gw, a.wid) > before, 10000, "polls_dropped counted");
    a.c.destroy();
    await until(async () => (await getJSON(gw.url)).workers.filter((w) => w.pid > 0 &&
      children(gw.proc.pid).includes(w.pid)).length === 2, 20000, "the worker respawned");
  });

  test("a GET answered, then its connection closed: the session stays open", T, async () => {
    const [a, b] = await onTwoWorkers(gw.port);
    const before = await dropped(gw, a.wid);
    for (const [conn, n] of [[a.c, 2], [b.c, 2]]) {
      // Locally, then relayed: a CONNECT without a token is answered with
      // a CONNECT error, which answers the waiting GET.
      conn.write(get(a.sid));
      await sleep(300);
      assert.equal(conn.responses().length, 1, "the GET waits");
      assert.equal((await poke(gw.port, a.sid)).status, 200);
      const p = raw(gw.port);
      p.write(post(a.sid, "40"));
      assert.equal((await p.response(1)).status, 200);
      p.destroy();
      const r = await conn.response(n);
      assert.equal(r.status, 200, r.body);
      assert.match(r.body, /^44/, "the GET's answer is the CONNECT error");
    }
    a.c.destroy();
    b.c.destroy();
    await sleep(1500);
    await open(gw, a.sid);
    // Its next GET, on a new connection, is served (waits).
    const c = raw(gw.port);
    c.write(get(a.sid));
    await sleep(500);
    assert.equal(c.responses().length, 0, "the next GET waits");
    c.destroy();
    await gone(gw, a.sid);		// and its own close counts
    await until(async () => await dropped(gw, a.wid) > before, 10000, "polls_dropped counted");
    await sleep(1500);
    assert.equal(await dropped(gw, a.wid) - before, 1, "only that GET counted");
  });

  test("the GET an upgrade answers with a noop, its connection closed after: the " +
    "session lives on on its WebSocket", T, async () => {
    const a = await session(gw.port);
    a.c.write(get(a.sid));
    await sleep(300);
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/socket.io/?EIO=4&transport=websocket&sid=${a.sid}`);
    const frames = [];
    ws.on("message", (d) => frames.push(String(d)));
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    try {
      ws.send("2probe");
      await until(() => frames.includes("3probe"), 10000, "3probe");
      ws.send("5");
      const r = await a.c.response(2);
      assert.equal(r.body, "6", "the poll is answered with a noop");
      a.c.destroy();
      await sleep(1500);
      // A CONNECT without a token on the WebSocket: its error comes back.
      ws.send("40");
      await until(() => frames.some((f) => f.startsWith("44")), 10000, "the CONNECT error on the WebSocket");
      assert.equal(ws.readyState, WebSocket.OPEN);
    } finally {
      ws.close();
    }
  });
});
