// Guards issue 18 (A live dashboard: the Socket.IO Admin UI, in a browser,
// against the gateway): the ways into /admin and their bounds, on a
// gateway of 2 workers, with raw socket.io-clients (gateway-admin.test.mjs
// drives the UI itself): admin off means no /admin namespace; a token
// whose admin_jwt_claim is true is let in, one without it is not; a
// password login gets a sessionId that logs in again on any worker; an
// Origin outside admin_origins is refused (the gateway's own is not);
// emit reaches sockets on both workers; a batch past admin_batch_max
// gives the dashboard a fresh all_sockets instead of the updates; the
// UI's files refuse traversal, symbolic links out of admin_ui_dir and
// other methods; and malformed operations are refused and counted.  No
// sanitizer report in the gateway's log.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import { getJSON, online, placed, startGateway, token, uid, until } from "./gwlib.mjs";
import { record } from "./lib.mjs";

// "pw" at bcrypt cost 4 (libxcrypt), as admin_password_hash takes it.
const HASH = "$2b$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW";
const SLOW = 15000;

function admin(url, auth, opts = {}) {
  return record(io(`${url}/admin`, {
    reconnection: false, forceNew: true, transports: ["websocket"], auth, ...opts,
  }));
}

async function refusedLogins(gw) {
  return (await getJSON(gw.url, "/metrics")).totals.admin_logins_refused;
}

function noSanitizer(gw) {
  const bad = gw.logs.filter((l) => /AddressSanitizer|runtime error|LeakSanitizer/
    .test(l.raw ?? l.msg ?? ""));
  assert.deepEqual(bad, [], "sanitizer reports in the gateway's log");
}

describe("admin off", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 2 }); });
  after(async () => { await gw?.shutdown(); });

  test("no /admin namespace", { timeout: 60000 }, async () => {
    const a = admin(gw.url, { username: "admin", password: "pw" });
    try {
      const [err] = await a.wait("connect_error", { ms: SLOW });
      assert.equal(err.message, "Invalid namespace");
    } finally {
      a.socket.close();
    }
    const r = await fetch(`${gw.url}/admin/`);
    assert.equal(r.status, 404);
  });
});

describe("admin on, 2 workers", () => {
  let gw, ui;
  before(async () => {
    ui = mkdtempSync(join(tmpdir(), "sgw-admin-ui-"));
    mkdirSync(join(ui, "js"));
    writeFileSync(join(ui, "index.html"), "<!DOCTYPE html><title>ui</title>");
    writeFileSync(join(ui, "js", "app.js"), "window.ok = 1;");
    writeFileSync(join(ui, "..", `${ui.split("/").at(-1)}-secret.js`), "secret");
    symlinkSync("/etc/hostname", join(ui, "js", "out.js"));
    gw = await startGateway({ workers: 2, conf: [
      "admin on",
      "admin_username admin",
      `admin_password_hash "${HASH}"`,
      "admin_jwt_claim is_admin",
      "admin_origins https://dash.example",
      `admin_ui_dir "${ui}"`,
      "admin_batch_max 3",
      // A burst of 12 connects falls within one interval, and whatever
      // the kernel's split between the 2 workers, one of them gets 6 or
      // more: its first goes at once, the next past admin_batch_max.
      "admin_flush_interval 2s",
      // Its cases log in with a password several times a second, which
      // the default of 2 per worker would refuse now and then (the limit
      // itself: "admin_login_rate" below).
      "admin_login_rate 50",
    ].join("\n") });
  });
  after(async () => {
    await gw?.shutdown();
    rmSync(ui, { recursive: true, force: true });
    rmSync(`${ui}-secret.js`, { force: true });
  });

  test("a token with the admin claim true is let in; without it, refused", { timeout: 60000 },
    async () => {
    const ok = admin(gw.url, { token: token("ops", { is_admin: true }) });
    const no = admin(gw.url, { token: token("eve", { is_admin: "true" }) });
    const none = admin(gw.url, { token: token("eve") });
    try {
      await ok.wait("all_sockets", { ms: SLOW });
      assert.equal(ok.all("config").length, 1);
      for (const a of [no, none]) {
        const [err] = await a.wait("connect_error", { ms: SLOW });
        assert.equal(err.message, "invalid credentials");
      }
    } finally {
      for (const a of [ok, no, none]) a.socket.close();
    }
  });

  test("a password login gets a sessionId that logs in on any worker", { timeout: 60000 },
    async () => {
    const first = admin(gw.url, { username: "admin", password: "pw" });
    let again = [];
    try {
      const [sessionId] = await first.wait("session", { ms: SLOW });
      assert.match(sessionId, /^[0-9a-f]{48}$/);
      // Several logins, so that both workers see one.
      again = [1, 2, 3, 4].map(() => admin(gw.url, { sessionId }));
      for (const a of again) await a.wait("all_sockets", { ms: SLOW });
      assert.equal(again.filter((a) => a.all("session").length > 0).length, 0);
      const forged = admin(gw.url, { sessionId: sessionId.replace(/.$/, (c) =>
        c === "0" ? "1" : "0") });
      const [err] = await forged.wait("connect_error", { ms: SLOW });
      assert.equal(err.message, "invalid credentials");
      forged.socket.close();
    } finally {
      first.socket.close();
      for (const a of again) a.socket.close();
    }
  });

  test("an Origin outside admin_origins is refused; the listed one and the gateway's own are not",
    { timeout: 60000 }, async () => {
    const before = await refusedLogins(gw);
    const auth = { username: "admin", password: "pw" };
    const evil = admin(gw.url, auth, { extraHeaders: { Origin: "https://evil.example" } });
    const listed = admin(gw.url, auth, { extraHeaders: { Origin: "https://dash.example" } });
    const own = admin(gw.url, auth, { extraHeaders: { Origin: gw.url } });
    try {
      const [err] = await evil.wait("connect_error", { ms: SLOW });
      assert.equal(err.message, "invalid credentials");
      await listed.wait("all_sockets", { ms: SLOW });
      await own.wait("all_sockets", { ms: SLOW });
      await until(async () => (await refusedLogins(gw)) >= before + 1, SLOW, "counted");
    } finally {
      for (const a of [evil, listed, own]) a.socket.close();
    }
    // The listed origin gets CORS with credentials on the Engine.IO path.
    const r = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`,
      { headers: { Origin: "https://dash.example" } });
    assert.equal(r.headers.get("access-control-allow-origin"), "https://dash.example");
    assert.equal(r.headers.get("access-control-allow-credentials"), "true");
  });

  test("emit reaches the sockets of both workers; a burst past admin_batch_max gives a fresh list",
    { timeout: 90000 }, async () => {
    const user = uid("emit");
    const ds = await placed(gw.url, user, 2);
    const a = admin(gw.url, { username: "admin", password: "pw" });
    const extra = [];
    try {
      await a.wait("all_sockets", { ms: SLOW });
      a.socket.emit("emit", "/", null, "from_admin", { n: 1 }, "two");
      for (const d of ds) {
        const args = await d.wait("from_admin", { ms: SLOW });
        assert.deepEqual(args.slice(0, 2), [{ n: 1 }, "two"]);
      }
      // A filter that is a socket's id: that socket alone.
      a.socket.emit("emit", "/", ds[0].socket.id, "to_one");
      await ds[0].wait("to_one", { ms: SLOW });
      // Malformed operations: refused and counted, nothing else.
      const m0 = (await getJSON(gw.url, "/metrics")).totals.admin_ops_refused;
      a.socket.emit("join", "/admin", "x");
      a.socket.emit("join", "/", "");
      a.socket.emit("_disconnect", "/", "yes");
      a.socket.emit("emit", "/", null, 42);
      await until(async () => (await getJSON(gw.url, "/metrics")).totals.admin_ops_refused >=
        m0 + 4, SLOW, "4 operations refused");
      // More connects than admin_batch_max within one flush: no
      // socket_connected for each, a fresh all_sockets with them all.
      const lists = a.all("all_sockets").length;
      const mark = a.mark();
      for (let i = 0; i < 12; i++) extra.push(await online(gw.url, uid("burst")));
      const [list] = await a.next(mark, "all_sockets", { ms: 30000 });
      assert.ok(a.all("all_sockets").length > lists);
      for (const d of extra) assert.ok(list.some((s) => s.id === d.socket.id), "listed");
      const dropped = (await getJSON(gw.url, "/metrics")).totals.admin_updates_dropped;
      assert.ok(dropped > 0, "the dropped updates are counted");
      assert.equal(ds[1].all("to_one").length, 0);
    } finally {
      a.socket.close();
      for (const d of [...ds, ...extra]) d.close();
    }
  });

  test("the UI's files: served, and traversal, links out and other methods refused",
    { timeout: 60000 }, async () => {
    const get = (p, init) => fetch(`${gw.url}${p}`, init);
    let r = await get("/admin/");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^text\/html/);
    r = await get("/admin/js/app.js");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^text\/javascript/);
    assert.equal(await r.text(), "window.ok = 1;");
    r = await get("/admin", { redirect: "manual" });
    assert.match(await r.text(), /url=\/admin\//);
    const secret = `${ui.split("/").at(-1)}-secret.js`;
    for (const p of ["/admin/js/out.js", "/admin/../" + secret, `/admin/%2e%2e/${secret}`,
      `/admin/js/%2e%2e%2f..%2f${secret}`, "/admin/.hidden.js", "/admin/js/app.exe"]) {
      r = await get(p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(await r.text(), /secret|ok = 1/);
    }
    // An encoded NUL: libwebsockets closes the connection, or a 404.
    r = await get("/admin/index.html%00.js").catch(() => null);
    assert.ok(r === null || r.status === 404);
    r = await get("/admin/index.html", { method: "POST", body: "x" });
    assert.equal(r.status, 405);
    r = await get("/admin/index.html", { method: "HEAD" });
    assert.equal(r.status, 200);
    // (lws resolves "/admin/../x" itself: that one never reaches us.)
    await until(async () => {
      const m = (await getJSON(gw.url, "/metrics")).totals;
      return m.admin_files >= 3 && m.admin_files_refused >= 4;
    }, SLOW, "the files served (3) and refused (4), counted");
    noSanitizer(gw);
  });
});

describe("admin_login_rate", () => {
  let gw;
  before(async () => {
    gw = await startGateway({ workers: 1, conf: [
      "admin on",
      "admin_username admin",
      `admin_password_hash "${HASH}"`,
      "admin_login_rate 1",
    ].join("\n") });
  });
  after(async () => { await gw?.shutdown(); });

  test("password checks past the rate are refused and counted; the worker goes on",
    { timeout: 60000 }, async () => {
    const before = await refusedLogins(gw);
    const tries = Array.from({ length: 6 },
      () => admin(gw.url, { username: "admin", password: "pw" }));
    try {
      // Each ends in all_sockets (in) or its connect_error's message.
      const ends = await Promise.all(tries.map((a) =>
        a.wait("all_sockets", { ms: SLOW }).then(() => "in", (e) =>
          /^connect_error while waiting for all_sockets: (.*)$/
            .exec(e.message)?.[1] ?? e.message)));
      assert.ok(ends.includes("in"), JSON.stringify(ends));
      assert.ok(ends.includes("too many login attempts"), JSON.stringify(ends));
      assert.deepEqual(ends.filter((e) => e !== "in" &&
        e !== "too many login attempts"), [], JSON.stringify(ends));
      const refused = ends.filter((e) => e !== "in").length;
      await until(async () => await refusedLogins(gw) >= before + refused,
        SLOW, "admin_logins_refused to count the refusals");
    } finally {
      for (const a of tries)
        a.socket.close();
    }
    // Past the second, a login goes in again.
    await new Promise((r) => setTimeout(r, 1100));
    const late = admin(gw.url, { username: "admin", password: "pw" });
    try {
      await late.wait("all_sockets", { ms: SLOW });
    } finally {
      late.socket.close();
    }
    noSanitizer(gw);
  });
});
