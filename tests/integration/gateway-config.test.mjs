// Guards issue 12 (item 7): configuration keys that had no test of their
// own.  Each is tested by its cause, against a real socket-gatewayd (one
// worker), with raw HTTP / WebSocket where the client library would hide
// the effect and the real socket.io-client elsewhere:
//   - connect_timeout: a session that sends no Socket.IO CONNECT is closed
//     for it ("connect timeout"), one that did is not;
//   - ping_timeout (and ping_interval): the handshake carries both; a
//     client that answers no ping is closed after exactly one ping
//     ("ping timeout", counted in ping_timeouts), one that answers lives on;
//   - upgrade_timeout: a probe WebSocket that never sends the upgrade
//     packet is closed and the session goes on polling; one that does is
//     kept;
//   - cors_origin (a list) and cors_credentials: which Origin is echoed,
//     when `*` is sent, and Access-Control-Allow-Credentials (`*` with
//     credentials is refused at -t: hostile-trust.test.mjs);
//   - jwt_secret_file, jwt_user_claim, and tokens signed with HS384 and
//     HS512 accepted when jwt_algorithm says so (and HS256 then refused).
// Secrets are >= 32 bytes and every token carries exp.  127.0.0.1 only.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { request } from "node:http";
import { join } from "node:path";
import WebSocket from "ws";
import { io } from "socket.io-client";
import { client, getJSON, startGateway, token, until } from "./lib.mjs";

const EIO = "/socket.io/?EIO=4";

// One HTTP request on a connection of its own: {status, headers, body}.
function http(url, path, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { text += d; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.setTimeout(15000, () => req.destroy(new Error(`${method} ${path}: no answer in 15 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

// A raw Engine.IO WebSocket: every text frame in `got`, `closed` resolves
// the close code.  pong: answer each ping.
function rawWs(url, { sid, pong = false } = {}) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${EIO}&transport=websocket` +
    (sid ? `&sid=${sid}` : ""));
  const got = [];
  ws.on("message", (d) => {
    const m = String(d);
    got.push(m);
    if (pong && m === "2") ws.send("3");
  });
  ws.on("error", () => {});
  const closed = new Promise((r) => ws.on("close", (code) => r(code)));
  const opened = new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("close", () => reject(new Error("closed before it opened")));
  });
  return { ws, got, closed, opened, isOpen: () => ws.readyState === WebSocket.OPEN };
}

// The close code of a raw WebSocket the server closes (a hang guard).
function closedBy(r, what, ms = 20000) {
  return Promise.race([r.closed, until(() => false, ms, what)]);
}

// The Engine.IO OPEN packet of a raw WebSocket, parsed.
async function openPacket(r) {
  const m = await until(() => r.got.find((x) => x[0] === "0"), 15000, "the Engine.IO OPEN");
  return JSON.parse(m.slice(1));
}

// Resolves "connected:<user>" or "refused:<message>" (socket.io-client).
function attempt(url, tok) {
  const s = io(url, { auth: { token: tok }, transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    const t = setTimeout(() => { s.close(); resolve("timeout"); }, 15000);
    s.on("connected", (c) => { clearTimeout(t); s.close(); resolve(`connected:${c.user_id}`); });
    s.on("connect_error", (e) => { clearTimeout(t); s.close(); resolve(`refused:${e.message}`); });
  });
}

// Log lines of the gateway saying session sid closed, with their reason.
function closedFor(gw, sid) {
  return gw.logged(`session ${sid} closed: `).map((l) => l.msg.slice(`session ${sid} closed: `.length));
}

describe("connect_timeout 2s", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 1, conf: "connect_timeout 2s\nlog_level debug" }); });
  after(async () => { await gw?.shutdown(); });

  test("a session with no CONNECT is closed for it; one with a CONNECT is not", async () => {
    // First the client that connects, so that its CONNECT is surely in.
    const good = client(gw.url, { auth: { token: token("ct-good") }, transports: ["websocket"] });
    const silent = rawWs(gw.url);
    try {
      await good.wait("connected", { ms: 15000 });
      const { sid } = await openPacket(silent);
      // The silent session is closed, by the server, for its CONNECT.
      await closedBy(silent, "the silent session's close");
      await until(() => closedFor(gw, sid).length > 0, 10000, `the close of ${sid} in the log`);
      assert.deepEqual(closedFor(gw, sid), ["connect timeout"]);
      assert.ok(!silent.got.some((m) => m.startsWith("40")), "the silent session never got a CONNECT answer");
      // The one that connected lives on, past the same deadline.
      assert.ok(good.socket.connected, "the connected client was closed too");
      assert.deepEqual(good.all("disconnect"), []);
      assert.deepEqual(closedFor(gw, good.socket.io.engine.id), []);
      assert.equal((await good.socket.timeout(10000).emitWithAck("join_room", { group_id: "ct" })).ok, true);
    } finally {
      good.socket.close();
      silent.ws.terminate();
    }
  });
});

describe("ping_interval 500ms, ping_timeout 1s", () => {
  let gw;
  before(async () => {
    gw = await startGateway({ workers: 1, conf: "ping_interval 500ms\nping_timeout 1s\nlog_level debug" });
  });
  after(async () => { await gw?.shutdown(); });

  test("the handshake says so; a client that answers no ping is closed after one ping, not before",
    async () => {
      const before = (await getJSON(gw.url)).totals.ping_timeouts;
      const deaf = rawWs(gw.url);
      const alive = rawWs(gw.url, { pong: true });
      try {
        const open = await openPacket(deaf);
        assert.equal(open.pingInterval, 500);
        assert.equal(open.pingTimeout, 1000);
        // Both complete the Socket.IO CONNECT: only the heartbeat is at stake.
        await openPacket(alive);
        for (const r of [deaf, alive]) r.ws.send(`40${JSON.stringify({ token: token("pt") })}`);
        await until(() => [deaf, alive].every((r) => r.got.some((m) => m.startsWith("40{"))), 15000,
          "both CONNECTs answered");
        await closedBy(deaf, "the deaf client's close");
        await until(() => closedFor(gw, open.sid).length > 0, 10000, "the close in the log");
        assert.deepEqual(closedFor(gw, open.sid), ["ping timeout"]);
        assert.equal(deaf.got.filter((m) => m === "2").length, 1, `one ping, then the close: ${deaf.got}`);
        // The one that answers went through more heartbeats than that.
        await until(() => alive.got.filter((m) => m === "2").length >= 3 || !alive.isOpen(), 30000,
          "three pings on the answering client");
        assert.ok(alive.isOpen(), "the client that answers its pings was closed");
        const m = await until(async () => {
          const x = await getJSON(gw.url);
          return x.totals.ping_timeouts > before ? x : null;
        }, 10000, "ping_timeouts in /metrics");
        assert.equal(m.totals.ping_timeouts, before + 1);
      } finally {
        deaf.ws.terminate();
        alive.ws.terminate();
      }
    });
});

describe("upgrade_timeout 1s", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 1, conf: "upgrade_timeout 1s\nlog_level debug" }); });
  after(async () => { await gw?.shutdown(); });

  // A polling session with its Socket.IO CONNECT done; resolves its sid.
  async function pollingSession(user) {
    const h = await http(gw.url, `${EIO}&transport=polling`);
    assert.equal(h.status, 200, h.body);
    const { sid } = JSON.parse(h.body.slice(1));
    const q = `${EIO}&transport=polling&sid=${sid}`;
    const p = await http(gw.url, q, { method: "POST", headers: { "content-type": "text/plain" },
      body: `40${JSON.stringify({ token: token(user) })}` });
    assert.equal(p.status, 200, p.body);
    const g = await http(gw.url, q);
    assert.match(g.body, /^40\{"sid"/, g.body);
    return sid;
  }

  // The probe of an upgrade: 2probe answered with 3probe.
  async function probe(sid) {
    const r = rawWs(gw.url, { sid });
    await r.opened;
    r.ws.send("2probe");
    await until(() => r.got.includes("3probe"), 15000, "3probe");
    return r;
  }

  test("a probe with no upgrade packet is closed and the session goes on polling; a finished upgrade is kept",
    async () => {
      const done = await probe(await pollingSession("ut-done"));
      done.ws.send("5");
      const sid = await pollingSession("ut-stuck");
      const stuck = await probe(sid);
      try {
        await closedBy(stuck, "the stuck probe's close");
        await until(() => gw.logged(`upgrade of ${sid} timed out`).length > 0, 10000, "the log line");
        assert.deepEqual(closedFor(gw, sid), [], "the session itself is not closed");
        // Still served on polling: an acked event there is answered there.
        const q = `${EIO}&transport=polling&sid=${sid}`;
        const p = await http(gw.url, q, { method: "POST", headers: { "content-type": "text/plain" },
          body: '421["no_such_event"]' });
        assert.equal(p.status, 200, p.body);
        const g = await http(gw.url, q);
        assert.equal(g.status, 200, g.body);
        assert.match(g.body, /431\[\{"ok":false,"error":\{"code":"unknown_event"/, g.body);
        // The finished upgrade outlived the stuck one's deadline.
        assert.ok(done.isOpen(), "the upgraded WebSocket was closed");
        done.ws.send('421["no_such_event"]');
        await until(() => done.got.some((m) => m.startsWith("431[")), 10000, "an ack on the upgraded WebSocket");
      } finally {
        done.ws.terminate();
        stuck.ws.terminate();
      }
    });
});

describe("cors_origin and cors_credentials", () => {
  const configs = {
    default: "",
    list: 'cors_origin "https://a.example,https://b.example"',
    "list with credentials": 'cors_origin "https://a.example,https://b.example"\ncors_credentials yes',
  };
  const gws = {};
  before(async () => {
    for (const [name, conf] of Object.entries(configs)) gws[name] = await startGateway({ workers: 1, conf });
  });
  after(async () => { for (const gw of Object.values(gws)) await gw.shutdown(); });

  // [config, Origin, Access-Control-Allow-Origin, -Allow-Credentials]
  const cases = [
    ["default", "https://evil.example", "*", undefined],
    ["list", "https://a.example", "https://a.example", undefined],
    ["list", "https://b.example", "https://b.example", undefined],
    ["list", "https://evil.example", undefined, undefined],
    ["list", "https://a.example.evil", undefined, undefined],
    ["list with credentials", "https://a.example", "https://a.example", "true"],
    ["list with credentials", "https://evil.example", undefined, undefined],
  ];
  for (const [name, origin, allow, creds] of cases) {
    test(`${name}: Origin ${origin}`, async () => {
      const gw = gws[name];
      for (const method of ["GET", "OPTIONS"]) {
        const r = await http(gw.url, `${EIO}&transport=polling`, { method, headers: { origin } });
        const what = `${method}: ${r.status} ${JSON.stringify(r.headers)}`;
        assert.equal(r.status, method === "GET" ? 200 : 204, what);
        assert.equal(r.headers["access-control-allow-origin"], allow, what);
        assert.equal(r.headers["access-control-allow-credentials"], creds, what);
        if (method === "OPTIONS" && allow !== undefined)
          assert.equal(r.headers["access-control-allow-methods"], "GET,POST,OPTIONS", what);
      }
    });
  }
});

describe("jwt_secret_file (no jwt_secret)", () => {
  const FILE_SECRET = "a-secret-from-a-file-0123456789abcdefghij";
  let gw, dir;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sgw-secret-"));
    const file = join(dir, "jwt.secret");
    writeFileSync(file, `${FILE_SECRET}\n`, { mode: 0o600 });
    // startGateway's file sets jwt_secret; the environment, read after
    // the file, empties it, so the secret file is what is left.
    gw = await startGateway({ workers: 1, conf: `jwt_secret_file "${file}"`, env: { JWT_SECRET: "" } });
  });
  after(async () => {
    await gw?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });
  test("tokens signed with the file's secret (less its newline) pass; others do not", async () => {
    assert.equal(await attempt(gw.url, token("from-file", {}, { secret: FILE_SECRET })), "connected:from-file");
    assert.equal(await attempt(gw.url, token("from-file", {}, { secret: `${FILE_SECRET}\n` })),
      "refused:Invalid authentication token");
    assert.equal(await attempt(gw.url, token("from-file")), "refused:Invalid authentication token");
  });
});

describe("jwt_user_claim uid", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 1, conf: "jwt_user_claim uid" }); });
  after(async () => { await gw?.shutdown(); });
  test("the user is that claim, and only that claim", async () => {
    assert.equal(await attempt(gw.url, token("not-me", { uid: "u-17" })), "connected:u-17");
    assert.equal(await attempt(gw.url, token("not-me")), "refused:Authentication token names no user");
  });
});

for (const alg of ["HS384", "HS512"]) {
  describe(`jwt_algorithm ${alg}`, () => {
    let gw;
    before(async () => { gw = await startGateway({ workers: 1, conf: `jwt_algorithm ${alg}` }); });
    after(async () => { await gw?.shutdown(); });
    test(`${alg} tokens are accepted, others refused`, async () => {
      assert.equal(await attempt(gw.url, token("strong", {}, { alg })), "connected:strong");
      for (const other of ["HS256", "HS384", "HS512"].filter((a) => a !== alg))
        assert.equal(await attempt(gw.url, token("strong", {}, { alg: other })),
          "refused:Invalid authentication token", other);
      assert.equal(await attempt(gw.url, token("strong", {}, { alg, secret: "x".repeat(40) })),
        "refused:Invalid authentication token");
    });
  });
}
