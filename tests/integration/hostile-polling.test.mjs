// Guards issue 11 (hostile clients), items 1, 3, 10 and 15: a slow
// long-poll POST whose session is closed meanwhile (11.1), HTTP
// pipelining behind a waiting long-poll GET (11.3), the request body's
// absolute deadline and the 413 from the headers alone (11.10), and
// relayed requests whose owner worker dies (11.15).  A malformed relay
// request can come only from a sibling worker now: the relay socket
// refuses every other process (11.16, hostile-trust.test.mjs).
// Raw sockets, so that the requests are exactly what a hostile client
// sends.  Run it against the sanitizer build: a use-after-free then aborts
// the worker, which the tests see as a lost answer, a respawned worker
// (its pid changes in /metrics) and AddressSanitizer's report in the log.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { children, getJSON, sleep, startGateway, until, workerOfSid } from "./lib.mjs";

const EIO = "/socket.io/?EIO=4&transport=polling";

// One raw connection: write, and collect what comes back.
function raw(port) {
  const sock = connect(port, "127.0.0.1");
  sock.setNoDelay(true);
  let data = "";
  let closed = false;
  sock.setEncoding("latin1");
  sock.on("data", (d) => { data += d; });
  sock.on("error", () => {});
  const ended = new Promise((r) => sock.on("close", () => { closed = true; r(); }));
  return {
    sock,
    ended,
    get data() { return data; },
    get closed() { return closed; },
    write(s) { if (!sock.destroyed) sock.write(s); },
    // The HTTP responses received so far: [{status, headers, body}].
    responses() { return parseResponses(data); },
    async response(n = 1, ms = 15000, what = "an HTTP answer") {
      return until(() => {
        const r = parseResponses(data);
        if (r.length >= n) return r[n - 1];
        if (closed) throw new Error(`connection closed before ${what}: ${JSON.stringify(data.slice(0, 300))}`);
        return null;
      }, ms, what);
    },
    close() { sock.destroy(); },
  };
}

function parseResponses(data) {
  const out = [];
  let rest = data;
  for (;;) {
    const i = rest.indexOf("\r\n\r\n");
    if (i < 0) return out;
    const head = rest.slice(0, i).split("\r\n");
    const status = Number(head[0].split(" ")[1]);
    const headers = {};
    for (const h of head.slice(1)) {
      const c = h.indexOf(":");
      headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
    }
    const len = Number(headers["content-length"] ?? 0);
    if (rest.length < i + 4 + len) return out;
    out.push({ status, headers, body: rest.slice(i + 4, i + 4 + len) });
    rest = rest.slice(i + 4 + len);
  }
}

// A polling session's sid, opened on its own connection.
async function openSession(url) {
  const r = await fetch(`${url}${EIO}`);
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text.slice(1)).sid;
}

function post(sid, len, extra = "") {
  return `POST ${EIO}&sid=${sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${len}\r\n${extra}\r\n`;
}

function get(sid, extra = "") {
  return `GET ${EIO}&sid=${sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
}

async function workerPids(url) {
  const m = await getJSON(url);
  return m.workers.map((w) => w.pid).sort();
}

function asanReports(gw) {
  return gw.logs.filter((l) => /AddressSanitizer|runtime error|LeakSanitizer/.test(l.raw ?? ""));
}

// An answer, or a failure that shows the sanitizer's report if there is one.
async function answered(gw, c, n = 1, ms = 15000) {
  try {
    return await c.response(n, ms);
  } catch (e) {
    await sleep(1000);
    const a = asanReports(gw).map((l) => l.raw).slice(0, 4);
    assert.deepEqual(a, [], `no answer (${e.message}); the sanitizer reported`);
    throw e;
  }
}

// The worker still runs as it did (no crash, no respawn) and the sanitizer
// said nothing.
async function assertUnharmed(gw, pids) {
  assert.deepEqual(asanReports(gw), [], "the sanitizer reported nothing");
  assert.deepEqual(await workerPids(gw.url), pids, "no worker died or was respawned");
}

describe("a slow POST whose session closes meanwhile (11.1)", () => {
  let gw;
  before(async () => {
    gw = await startGateway({ workers: 1, conf: "connect_timeout 2s" });
  });
  after(async () => { await gw?.shutdown(); });

  test("the POST is answered 400 (unknown sid), nothing freed is used", { timeout: 60000 }, async () => {
    const pids = await workerPids(gw.url);
    const sid = await openSession(gw.url);
    // No CONNECT: connect_timeout (2 s) closes the session while the body
    // trickles in, 10 bytes every 0.5 s for 5 s.
    const body = `4${"x".repeat(4000)}`;
    const c = raw(gw.port);
    c.write(post(sid, body.length));
    let off = 0;
    for (let i = 0; i < 10; i++, off += 10) {
      c.write(body.slice(off, off + 10));
      await sleep(500);
    }
    c.write(body.slice(off));
    const r = await answered(gw, c);
    c.close();
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).code, 1, "Session ID unknown");
    await assertUnharmed(gw, pids);
  });
});

describe("HTTP pipelining behind a waiting long-poll GET (11.3)", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 1 }); });
  after(async () => { await gw?.shutdown(); });

  test("the GET keeps its session; the next request is answered after it", { timeout: 60000 }, async () => {
    const pids = await workerPids(gw.url);
    const sid = await openSession(gw.url);
    const c = raw(gw.port);
    // The long-poll GET and a second request in one write.
    c.write(get(sid) + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await sleep(1000);
    // Something to answer the GET with: a CONNECT without a token is
    // answered with a CONNECT error.
    const p = raw(gw.port);
    p.write(post(sid, 2) + "40");
    const ok = await answered(gw, p);
    p.close();
    assert.equal(ok.status, 200, ok.body);
    const first = await answered(gw, c, 1, 15000);
    assert.equal(first.status, 200, first.body);
    assert.match(first.body, /^44/, "the poll's answer is the CONNECT error");
    const second = await answered(gw, c, 2, 15000);
    assert.equal(second.status, 200, second.body);
    assert.match(second.body, /"status"/, "then /health's answer");
    c.close();
    // The session's next poll still works; closing it frees it cleanly.
    const q = raw(gw.port);
    q.write(post(sid, 1) + "1");
    assert.equal((await answered(gw, q)).status, 200);
    q.close();
    await sleep(500);
    await assertUnharmed(gw, pids);
  });

  test("a session closed while a pipelined request waits is freed cleanly", { timeout: 60000 }, async () => {
    const pids = await workerPids(gw.url);
    const sid = await openSession(gw.url);
    const c = raw(gw.port);
    c.write(get(sid) + get(sid));
    await sleep(1000);
    const p = raw(gw.port);
    p.write(post(sid, 1) + "1");	// the client's close packet
    await answered(gw, p);
    p.close();
    await sleep(500);
    c.close();
    await sleep(1000);
    await assertUnharmed(gw, pids);
  });
});

describe("a request body's deadline and size (11.10)", () => {
  let gw;
  before(async () => {
    gw = await startGateway({ workers: 1, conf: "body_timeout 2s\nmax_payload 10kb" });
  });
  after(async () => { await gw?.shutdown(); });

  test("a body trickled past body_timeout is answered 408 and cut off", { timeout: 60000 }, async () => {
    const pids = await workerPids(gw.url);
    const before = (await getJSON(gw.url)).totals.body_timeouts ?? 0;
    const sid = await openSession(gw.url);
    const c = raw(gw.port);
    c.write(post(sid, 1000));
    // 10 bytes every 300 ms would take 30 s; the deadline is 2 s.
    const trickle = (async () => {
      for (let i = 0; i < 99 && !c.closed; i++) {
        c.write("4xxxxxxxxx");
        await sleep(300);
      }
    })();
    const r = await answered(gw, c, 1, 20000);
    assert.equal(r.status, 408, r.body);
    await until(() => c.closed, 10000, "the connection to close");
    await trickle;
    await until(async () => (await getJSON(gw.url)).totals.body_timeouts > before, 5000,
      "body_timeouts in /metrics");
    // The session itself is fine: a prompt POST on it is taken.
    const p = raw(gw.port);
    p.write(post(sid, 1) + "1");
    assert.equal((await answered(gw, p)).status, 200);
    p.close();
    await assertUnharmed(gw, pids);
  });

  test("a Content-Length over max_payload is answered 413 before any body", { timeout: 60000 }, async () => {
    const pids = await workerPids(gw.url);
    const sid = await openSession(gw.url);
    const c = raw(gw.port);
    c.write(post(sid, 5000000));	// and not one byte of it
    const r = await answered(gw, c, 1, 10000);
    assert.equal(r.status, 413, r.body);
    await until(() => c.closed, 10000, "the connection to close");
    // As for a body found too large: the session is closed.
    const g = await fetch(`${gw.url}${EIO}&sid=${sid}`);
    assert.equal(g.status, 400);
    assert.equal((await g.json()).code, 1);
    // A relayed-looking sid (another worker's) is refused the same way.
    const o = raw(gw.port);
    o.write(post(`BA${sid.slice(2)}`, 5000000));
    assert.equal((await answered(gw, o, 1, 10000)).status, 413);
    o.close();
    await assertUnharmed(gw, pids);
  });
});

// Two keep-alive connections with a session each, on different workers.
async function pairOnTwoWorkers(gw) {
  const seen = [];
  for (let i = 0; i < 40; i++) {
    const c = raw(gw.port);
    c.write(`GET ${EIO} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const r = await c.response(1);
    const sid = JSON.parse(r.body.slice(1)).sid;
    const other = seen.find((x) => x.wid !== workerOfSid(sid).wid);
    if (other) {
      for (const x of seen) if (x !== other) x.c.close();
      return [other, { c, sid, wid: workerOfSid(sid).wid }];
    }
    seen.push({ c, sid, wid: workerOfSid(sid).wid });
  }
  throw new Error("40 connections all reached one worker");
}

// Its pid, from /metrics (whose figures may be a second old).
// /metrics may still name a worker an earlier test killed: the pid must be
// one of the master's live children.
async function pidOf(gw, wid) {
  const w = await until(async () => (await getJSON(gw.url)).workers
    .find((x) => x.worker === (wid & 0xff) && x.pid > 0 &&
      children(gw.proc.pid).includes(x.pid)), 10000, `worker ${wid} alive in /metrics`);
  return w.pid;
}

describe("relayed requests whose owner worker dies (11.15)", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 2 }); });
  after(async () => { await gw?.shutdown(); });

  test("a relayed GET waiting when its owner dies is answered 503", { timeout: 60000 }, async () => {
    const [a, b] = await pairOnTwoWorkers(gw);
    const pid = await pidOf(gw, a.wid);
    b.c.write(get(a.sid));		// relayed to a's worker, and waits
    await sleep(1000);
    assert.equal(b.c.responses().length, 1, "the poll waits");
    process.kill(pid, "SIGKILL");
    const r = await answered(gw, b.c, 2, 15000);
    assert.equal(r.status, 503, r.body);
    a.c.close();
    b.c.close();
  });

  test("a relayed POST whose owner hangs, then dies, is answered 503", { timeout: 60000 }, async () => {
    await until(async () => (await getJSON(gw.url)).workers.length === 2, 15000, "two workers");
    const [a, b] = await pairOnTwoWorkers(gw);
    const pid = await pidOf(gw, a.wid);
    process.kill(pid, "SIGSTOP");
    try {
      b.c.write(post(a.sid, 1) + "1");
      await sleep(1000);
      assert.equal(b.c.responses().length, 1, "the POST waits for the stopped owner");
    } finally {
      process.kill(pid, "SIGKILL");
    }
    const r = await answered(gw, b.c, 2, 15000);
    assert.equal(r.status, 503, r.body);
    a.c.close();
    b.c.close();
  });
});
