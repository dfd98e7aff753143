// Guards issue 5 (master process): tls_cert and tls_key make every listener
// speak TLS.  A real socket-gatewayd (2 workers) with a certificate made
// for this run by openssl(1) (CN=localhost, subjectAltName 127.0.0.1), the
// real socket.io-client over wss:// and over https:// long-polling, each
// verifying the certificate against it (ca) and once without verification
// (rejectUnauthorized: false); plain HTTP to the TLS port is reset, a client
// without the CA is refused for the certificate.
// 127.0.0.1 only.
import { after, before, test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { client, deadline, handshake, json, makeCert, probe, startGateway, token, until, workerOfSid } from "./lib.mjs";

// The certificate is made by openssl(1) (Debian's openssl, which
// ca-certificates pulls in); without it every test here fails, saying so:
// a missing dependency is never a skip that reads as a pass.
const NO_OPENSSL = spawnSync("openssl", ["version"]).status === 0 ? null :
  "openssl(1) is missing: no test certificate (sh packaging/install-deps.sh --tests)";
function test(name, opts, fn) {
  if (typeof opts === "function") [opts, fn] = [{}, opts];
  return nodeTest(name, opts, async (t) => {
    if (NO_OPENSSL) throw new Error(NO_OPENSSL);
    return fn(t);
  });
}

// The Node error code behind a client's connect_error: the TLS or socket
// error itself, not just "some error".  The websocket transport's error is
// ws's ErrorEvent (description.error); the polling transport's is the
// request's Error, which xmlhttprequest-ssl keeps in the XHR's statusText
// (context).
function causeOf(c) {
  const errs = c.all("connect_error");
  assert.equal(errs.length, 1, "one connect_error");
  const e = errs[0].args[0];
  if (e.message === "websocket error") return `websocket: ${e.description?.error?.code}`;
  if (e.message === "xhr poll error") return `polling: ${e.context?.statusText?.code}`;
  return `${e.message}: ${e.description?.message ?? e.description}`;
}

// A self-signed certificate not in the client's trust store (Node's
// X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT).
const UNTRUSTED = "DEPTH_ZERO_SELF_SIGNED_CERT";

let gw;
before(async () => { if (!NO_OPENSSL) gw = await startGateway({ ready: "master", workers: 2, tls: true }); });
after(async () => { await gw?.shutdown(); });

for (const [name, opts] of [
  ["wss:// (WebSocket only), certificate verified", { transports: ["websocket"], ca: "ca" }],
  ["wss:// (WebSocket only), rejectUnauthorized: false", { transports: ["websocket"], rejectUnauthorized: false }],
  ["https:// long-polling only, certificate verified", { transports: ["polling"], ca: "ca" }],
  ["https:// polling with the upgrade to wss:// allowed", { ca: "ca" }],
]) {
  test(`Socket.IO over ${name}: connected, an event and its ack`, async () => {
    assert.match(gw.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const o = { ...opts, ...(opts.ca ? { ca: gw.ca } : {}) };
    const user = `tls-${name.length}-${opts.transports?.[0] ?? "upgrade"}`;
    const c = client(gw.url, { auth: { token: token(user) }, ...o });
    try {
      const [hello] = await c.wait("connected");
      assert.equal(hello.user_id, user);
      assert.equal(typeof hello.socket_id, "string");
      const ack = await c.socket.timeout(5000).emitWithAck("send_message",
        { receiver_id: user, content: "over TLS" });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      // (The upgrade of the last case is the subject of a test below.)
      if (opts.transports) assert.equal(c.socket.io.engine.transport.name, opts.transports[0]);
      assert.equal(c.all("connect_error").length, 0);
    } finally {
      c.close();
    }
  });
}

// The upgrade's WebSocket connection lands on any worker; the session's
// owner must get it.  Plain HTTP: handoff.c passes the socket after peeking
// at the request line; TLS hides that line, so tlsfront.c terminates TLS
// in the accepting worker and joins the client to the owner through a
// socket pair.  (A burst of hand-offs can fill the owner's hand-off
// socket: master-tls-busy-owner.test.mjs.)  Each client's upgrade is
// awaited: its "upgrade" event, or its "upgradeError" (after which an
// Engine.IO client stays on polling for good); 30 s is only a hang guard.
// A failure names the clients left on polling, their sessions' owners and
// the errors, and the gateway's log lines about those sessions.
test("over TLS every polling client upgrades to WebSocket, whichever worker the upgrade reaches", async () => {
  const N = 12;
  const cs = [];
  try {
    for (let i = 0; i < N; i++) {
      const c = client(gw.url, { auth: { token: token(`tls-upgrade-${i}`) }, ca: gw.ca });
      const engine = c.socket.io.engine;	// made at once (autoConnect)
      c.upgrade = new Promise((resolve) => {
        engine.once("upgrade", () => resolve({ ok: true }));
        engine.once("upgradeError", (e) => resolve({ ok: false,
          error: `${e.message}${e.description ? ` (${e.description.message ?? e.description})` : ""}` }));
      });
      cs.push(c);
    }
    await Promise.all(cs.map((c) => c.wait("connected")));
    const guard = deadline(30000).then(() => ({ ok: false, error: "neither upgrade nor upgradeError in 30 s" }));
    const outcomes = await Promise.all(cs.map((c) => Promise.race([c.upgrade, guard])));
    const failed = cs.map((c, i) => ({ i, c, ...outcomes[i] })).filter((o) => !o.ok ||
      o.c.socket.io.engine.transport.name !== "websocket");
    if (failed.length > 0) {
      const lines = failed.map(({ i, c, error }) => {
        const sid = c.socket.io.engine.id;
        return `client ${i}: sid ${sid} (worker ${workerOfSid(sid).wid}) on ` +
          `${c.socket.io.engine.transport.name}: ${error ?? "upgraded, then left websocket"}`;
      });
      const logs = failed.flatMap(({ c }) => gw.logged(c.socket.io.engine.id))
        .concat(gw.logged(/handoff|tls front/)).map((l) => JSON.stringify(l));
      const t = await json(gw.url, "/metrics", { ca: gw.ca }).then((m) => m.totals, (e) => e.message);
      console.log(`${failed.length} of ${N} clients stayed on polling:\n${lines.join("\n")}\n` +
        `hand-offs: ${JSON.stringify(typeof t === "string" ? t : { handed_off: t.handed_off,
          handoff_waits: t.handoff_waits, handoff_failures: t.handoff_failures })}\n` +
        `gateway log:\n${logs.join("\n") || "(nothing about them)"}`);
    }
    assert.deepEqual(failed.map(({ i, error }) => `client ${i}: ${error ?? "left websocket"}`), []);
  } finally {
    for (const c of cs) c.close();
  }
});

for (const transport of ["websocket", "polling"]) {
  test(`a ${transport} client that verifies the certificate without the CA is refused`, async () => {
    const c = client(gw.url, { auth: { token: token(`tls-untrusting-${transport}`) }, transports: [transport] });
    try {
      await assert.rejects(c.wait("connected", { ms: 5000 }), /connect_error/);
      assert.equal(causeOf(c), `${transport}: ${UNTRUSTED}`, "refused for the certificate");
    } finally {
      c.close();
    }
  });
}

// The TLS front copies a chunk at a time with flow control: a message of
// 600 KB goes through it both ways, intact, on both transports.
for (const transport of ["websocket", "polling"]) {
  test(`a 600 KB message through the TLS front and back (${transport})`, async () => {
    const user = `tls-big-${transport}`;
    const c = client(gw.url, { auth: { token: token(user) }, ca: gw.ca, transports: [transport] });
    try {
      await c.wait("connected");
      const content = Array.from({ length: 600 * 1024 }, (_, i) => "abcdefghijklmnopqrstuvwxyz"[i % 26]).join("");
      const got = new Promise((resolve) => c.socket.on("receive_message", resolve));
      const ack = await c.socket.timeout(15000).emitWithAck("send_message", { receiver_id: user, content });
      assert.equal(ack.ok, true, JSON.stringify(ack).slice(0, 200));
      const m = await got;
      assert.equal(m.content.length, content.length);
      assert.equal(m.content, content);
    } finally {
      c.close();
    }
  });
}

test("/health, /metrics and the handshake over https://", async () => {
  const h = await json(gw.url, "/health", { ca: gw.ca });
  assert.equal(h.status, "ok");
  const m = await json(gw.url, "/metrics", { ca: gw.ca });
  assert.ok(Array.isArray(m.workers));
  const open = await handshake(gw.url, { ca: gw.ca });
  assert.equal(typeof open.sid, "string");
  assert.equal(open.pingInterval, 25000);
});

test("plain HTTP to the TLS port gets no HTTP answer", async () => {
  const plain = gw.url.replace(/^https:/, "http:");
  for (const path of ["/health", "/socket.io/?EIO=4&transport=polling"]) {
    const r = await probe(plain, path, { ms: 5000 });
    // Reset at once: not an HTTP answer, nor left waiting (TIMEOUT).
    assert.deepEqual(r, { error: "ECONNRESET" }, `plain HTTP ${path}`);
  }
  const c = client(plain, { auth: { token: token("tls-plain") }, transports: ["websocket"] });
  try {
    await assert.rejects(c.wait("connected", { ms: 5000 }), /connect_error/);
    assert.equal(causeOf(c), "websocket: ECONNRESET");
  } finally {
    c.close();
  }
  // The gateway is none the worse for it.
  assert.equal((await json(gw.url, "/health", { ca: gw.ca })).status, "ok");
});

// Last: it changes the certificate.  A reload reads renewed files: new
// connections get the new certificate; a client of the old generation is
// drained (told to go, then reconnects to the new one), not cut mid-way.
test("a reload picks up a renewed certificate; clients move to it, none fails", async () => {
  const old = client(gw.url, { auth: { token: token("tls-renew-old") }, ca: gw.ca, transports: ["websocket"] });
  try {
    await old.wait("connected");
    const renewed = makeCert(mkdtempSync(join(gw.dir, "renew-")));
    copyFileSync(renewed.cert, join(gw.dir, "cert.pem"));
    copyFileSync(renewed.key, join(gw.dir, "key.pem"));
    await gw.reload("reloaded: generation 2");
    for (const transport of ["websocket", "polling"]) {
      const c = client(gw.url, { auth: { token: token(`tls-renew-${transport}`) }, ca: renewed.pem,
        transports: [transport] });
      try {
        await c.wait("connected");
      } finally {
        c.close();
      }
    }
    const stale = client(gw.url, { auth: { token: token("tls-renew-stale") }, ca: gw.ca,
      transports: ["websocket"] });
    try {
      await assert.rejects(stale.wait("connected", { ms: 5000 }), /connect_error/, "the old certificate is gone");
      // The new certificate is not the one it trusts.
      assert.equal(causeOf(stale), `websocket: ${UNTRUSTED}`);
    } finally {
      stale.close();
    }
    await until(() => old.all("disconnect").length > 0, 15000, "the old client's drain");
    console.log(`the old generation's client: disconnect (${old.all("disconnect")[0].args[0]})`);
    assert.equal(old.all("connect_error").length, 0);
  } finally {
    old.close();
  }
});
