// Guards issue 13 (downstream services), the auth service: token
// verification delegated to it (auth_mode service) at an asynchronous
// Socket.IO CONNECT, its cache and the coalescing of concurrent
// verifications (a storm of 2,000 connections makes one call per distinct
// token, gateway-wide), failing closed when the service is down or slow,
// clients that leave while their verification is pending, and the users'
// online/offline status sent once per gateway-wide transition.
//
// The auth service is a Node stub (stubs.mjs): real HTTP on loopback.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import WebSocket from "ws";
import { closeAll, getJSON, metrics, placed, sleep, startGateway, token, until } from "./gwlib.mjs";
import { SGWD, record } from "./lib.mjs";
import { startStub } from "./stubs.mjs";

const WORKERS = 2;
const VERIFY = "/api/auth/verify";

// The stub's verify: "good-<user>-<n>" valid for <user>, "bad-..." 401,
// "false-..." 200 {valid:false}; anything else is not a verify call.
function authRoute(call) {
  if (call.method !== "POST" || call.path !== VERIFY) return undefined;
  const t = String(call.body?.token ?? "");
  if (t.startsWith("good-"))
    return { status: 200, body: { valid: true, user_id: t.split("-")[1], exp: Math.floor(Date.now() / 1000) + 3600 } };
  if (t.startsWith("false-")) return { status: 200, body: { valid: false } };
  return { status: 401, body: { valid: false, error: "revoked" } };
}

// A socket.io client presenting this opaque token; not awaited.
function withToken(url, tok, opts = {}) {
  return record(io(url, {
    reconnection: false, forceNew: true, transports: ["websocket"], auth: { token: tok }, ...opts,
  }), tok);
}

// Resolves "connect" with the greeting's user, or the connect_error's message.
async function outcome(d, ms = 20000) {
  const e = await until(() => d.all("connected")[0] ?? d.all("connect_error")[0], ms,
    `${d.user}: connected or connect_error`);
  return e.name === "connected" ? { user: e.args[0].user_id } : { error: e.args[0]?.message };
}

// Stop the gateway; under ASan (tests/ci.sh's second build) any report of
// a worker or the master is a failure.
async function stop(gw) {
  if (!gw) return;
  await gw.shutdown();
  assert.deepEqual(gw.logged(/Sanitizer|runtime error:/).map((l) => l.raw ?? l.msg), [],
    "sanitizer reports");
}

const verifies = (stub, tok) => stub.on(VERIFY).filter((c) => c.body?.token === tok);

describe("auth_mode service", () => {
  let gw, auth;

  before(async () => {
    auth = await startStub({ route: authRoute });
    gw = await startGateway({
      workers: WORKERS,
      conf: `auth_mode service\nauth_service_url "${auth.url}"\nservice_timeout 2s\n` +
        "breaker_threshold 1000\nbreaker_min_calls 1000\n",
    });
  });

  after(async () => {
    await auth?.close();
    await stop(gw);
  });

  test("a valid token connects as the service's user, asked once", async () => {
    const tok = `good-alice-${Date.now()}`;
    const ds = [];
    try {
      for (let i = 0; i < 4; i++) {
        const d = withToken(gw.url, tok);
        ds.push(d);
        assert.deepEqual(await outcome(d), { user: "alice" });
        await d.ready();
      }
      const calls = verifies(auth, tok);
      assert.equal(calls.length, 1, "one verification for four connections");
      assert.equal(calls[0].method, "POST");
      assert.deepEqual(calls[0].body, { token: tok });
      // The figures are up to a second old.
      const m = await until(async () => {
        const x = await metrics(gw.url, WORKERS);
        return x.totals.auth_cache_hits >= 1 && x.auth_cache_entries >= 1 ? x : null;
      }, 10000, "auth_cache_hits and auth_cache_entries");
      assert.ok(m.totals.auth_cache_misses >= 1, JSON.stringify(m.totals));
    } finally {
      await closeAll(ds);
    }
  });

  test("a refused token gets connect_error, and is not asked again at once", async () => {
    for (const tok of [`bad-mallory-${Date.now()}`, `false-mallory-${Date.now()}`]) {
      for (let i = 0; i < 2; i++) {
        const d = withToken(gw.url, tok);
        try {
          assert.deepEqual(await outcome(d), { error: "Invalid authentication token" });
        } finally {
          d.close();
        }
      }
      assert.equal(verifies(auth, tok).length, 1, `${tok}: the refusal was cached`);
    }
  });

  test("the auth service down or hung: connect_error, fail closed", async () => {
    try {
      auth.mode = "down";
      const d = withToken(gw.url, `good-bob-down-${Date.now()}`);
      assert.match((await outcome(d)).error ?? "connected!", /^auth service unavailable/);
      d.close();
      auth.mode = "hang";
      const h = withToken(gw.url, `good-bob-hang-${Date.now()}`);
      assert.equal((await outcome(h)).error, "auth service unavailable (timeout)");
      h.close();
    } finally {
      auth.mode = "ok";
    }
    const m = await until(async () => {
      const x = await metrics(gw.url, WORKERS);
      return x.totals.auth_unavailable >= 2 ? x : null;
    }, 10000, "auth_unavailable counted");
    assert.ok(m.totals.auth_unavailable >= 2);
    // Back up: a new token connects.
    const d = withToken(gw.url, `good-bob-${Date.now()}`);
    try {
      assert.deepEqual(await outcome(d), { user: "bob" });
    } finally {
      d.close();
    }
  });

  test("clients leaving while their verification is pending crash nothing", async () => {
    auth.mode = "slow";
    auth.delay = 800;
    const stamp = Date.now();
    const ds = [];
    const socks = [];
    try {
      // socket.io clients that close as soon as their CONNECT is sent.
      for (let i = 0; i < 20; i++) {
        const d = withToken(gw.url, `good-gone${i % 5}-${stamp}`);
        d.socket.io.on("open", () => setTimeout(() => d.close(), 20));
        ds.push(d);
      }
      // Raw clients: CONNECT, then events and a binary packet for the
      // namespace while it is pending, then gone.
      for (let i = 0; i < 6; i++) {
        const ws = new WebSocket(`${gw.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
        socks.push(ws);
        ws.on("error", () => {});
        ws.on("message", (m) => {
          if (String(m)[0] !== "0") return;
          ws.send(`40{"token":"good-raw${i}-${stamp}"}`);
          ws.send('42["send_message",{"receiver_id":"alice","content":"early"}]');
          ws.send("41");
          ws.send(`40{"token":"good-raw${i}-${stamp}"}`);
          if (i % 2) setTimeout(() => ws.close(), 50);
        });
      }
      await until(() => auth.on(VERIFY).filter((c) => c.body?.token?.endsWith(`-${stamp}`)).length >= 11,
        15000, "the verifications reached the stub");
      await sleep(1500);		// their answers come after the clients left
    } finally {
      auth.mode = "ok";
      for (const d of ds) d.close();
      for (const s of socks) s.terminate();
    }
    // Raw clients that stayed got their CONNECT answered once, nothing else.
    const d = withToken(gw.url, `good-carol-${Date.now()}`);
    try {
      assert.deepEqual(await outcome(d), { user: "carol" });
      await d.ready();
      const h = await getJSON(gw.url, "/health");
      assert.notEqual(h.status, "error");
      assert.equal(gw.proc.exitCode, null);
      assert.equal(gw.logged("worker exited").length + gw.logged("respawn").length, 0, gw.tail());
    } finally {
      d.close();
    }
  });

  test("refresh_token with an unknown token is refused clearly in service mode", async () => {
    const d = withToken(gw.url, `good-erin-${Date.now()}`);
    try {
      await d.ready();
      const ack = await d.ack("refresh_token", { token: `good-erin-new-${Date.now()}` });
      assert.equal(ack.ok, false);
      assert.match(ack.error.message, /reconnect with the new token/);
      // A token the service verified already (the cache) is taken.
      const known = `good-erin-known-${Date.now()}`;
      const k = withToken(gw.url, known);
      await k.ready();
      k.close();
      const ok = await d.ack("refresh_token", { token: known });
      assert.equal(ok.ok, true, JSON.stringify(ok));
    } finally {
      d.close();
    }
  });
});

describe("auth_pending_max", () => {
  let gw, auth;

  before(async () => {
    auth = await startStub({ mode: "hang" });
    gw = await startGateway({
      workers: WORKERS,
      conf: `auth_mode service\nauth_service_url "${auth.url}"\nservice_timeout 3s\n` +
        "auth_pending_max 1\n",
    });
  });

  after(async () => {
    await auth?.close();
    await stop(gw);
  });

  test("CONNECTs past it are refused at once, counted; the others time out", async () => {
    const stamp = Date.now();
    const ds = [0, 1, 2, 3].map((i) => withToken(gw.url, `good-wait${i}-${stamp}`));
    try {
      const out = await Promise.all(ds.map((d) => outcome(d)));
      // 4 CONNECTs on 2 workers that each let one wait.
      const busy = out.filter((o) => o.error === "auth service busy").length;
      assert.ok(busy >= 2, JSON.stringify(out));
      assert.equal(out.filter((o) => o.error === "auth service unavailable (timeout)").length,
        4 - busy, JSON.stringify(out));
      const m = await until(async () => {
        const x = await metrics(gw.url, WORKERS);
        return x.totals.auth_pending_refused >= busy ? x : null;
      }, 10000, "auth_pending_refused");
      assert.equal(m.totals.auth_pending_refused, busy);
    } finally {
      await closeAll(ds);
    }
  });
});

describe("auth_mode both", () => {
  let gw, auth;

  // The service knows JWTs by their sub: "revoked..." ones it refuses.
  const route = (call) => {
    if (call.path !== VERIFY) return undefined;
    const sub = JSON.parse(Buffer.from(String(call.body?.token).split(".")[1] ?? "", "base64url")
      .toString() || "{}").sub ?? "";
    return sub.startsWith("revoked") ? { status: 403, body: {} } : { status: 200, body: { valid: true, user_id: sub } };
  };

  before(async () => {
    auth = await startStub({ route });
    gw = await startGateway({
      workers: WORKERS,
      conf: `auth_mode both\nauth_service_url "${auth.url}"\n`,
    });
  });

  after(async () => {
    await auth?.close();
    await stop(gw);
  });

  test("the key first, then the service: a forged token is not sent, a revoked one is refused", async () => {
    const good = withToken(gw.url, token("frank"));
    const revoked = withToken(gw.url, token("revoked-gina"));
    const forged = withToken(gw.url, token("frank", {}, { secret: "another-secret-0123456789abcdef0123" }));
    try {
      assert.deepEqual(await outcome(good), { user: "frank" });
      assert.deepEqual(await outcome(revoked), { error: "Invalid authentication token" });
      assert.deepEqual(await outcome(forged), { error: "Invalid authentication token" });
      const subs = auth.on(VERIFY).map((c) => route(c).body.user_id ?? "refused");
      assert.equal(auth.on(VERIFY).length, 2, JSON.stringify(subs));
    } finally {
      await closeAll([good, revoked, forged]);
    }
  });
});

describe("a storm of 2,000 connections", () => {
  let gw, auth;
  const TOKENS = 200, EACH = 10, BATCH_TOKENS = 20;

  before(async () => {
    auth = await startStub({ route: authRoute, mode: "slow", delay: 150 });
    gw = await startGateway({
      workers: WORKERS,
      conf: `auth_mode service\nauth_service_url "${auth.url}"\nservice_timeout 10s\n` +
        "max_unconnected_per_address 1000\n",
    });
  });

  after(async () => {
    await auth?.close();
    await stop(gw);
  });

  test("make at most one auth call per distinct token, gateway-wide", { timeout: 240000 }, async () => {
    const stamp = Date.now();
    const tok = (i) => `good-storm${i}-${stamp}`;
    const seen = new Set();
    // Batches of 20 tokens x 10 connections, all opened at once, shuffled.
    for (let b = 0; b < TOKENS / BATCH_TOKENS; b++) {
      const batch = [];
      for (let i = b * BATCH_TOKENS; i < (b + 1) * BATCH_TOKENS; i++)
        for (let k = 0; k < EACH; k++) batch.push(i);
      batch.sort(() => Math.random() - 0.5);
      const ds = batch.map((i) => ({ i, d: withToken(gw.url, tok(i)) }));
      try {
        for (const { i, d } of ds) {
          assert.deepEqual(await outcome(d, 60000), { user: `storm${i}` });
          if (d.sid) seen.add(d.slot);
        }
      } finally {
        await closeAll(ds.map((x) => x.d));
      }
    }
    assert.equal(seen.size, WORKERS, "the storm reached every worker");
    const calls = auth.on(VERIFY).filter((c) => String(c.body?.token).endsWith(`-${stamp}`));
    const per = new Map();
    for (const c of calls) per.set(c.body.token, (per.get(c.body.token) ?? 0) + 1);
    assert.equal(per.size, TOKENS, "every token was verified");
    const twice = [...per].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], "tokens verified more than once");
    const m = await until(async () => {
      const x = await metrics(gw.url, WORKERS);
      // Each worker's first miss of a token asks (or calls); the
      // others are answered by the cache or wait on that first one.
      return x.totals.auth_cache_hits + x.totals.auth_coalesced >=
        TOKENS * EACH - TOKENS * WORKERS ? x : null;
    }, 15000, "the cache's figures");
    assert.ok(m.totals.auth_coalesced > 0, JSON.stringify(m.totals));
    assert.equal(m.totals.auth_unavailable, 0);
  });
});

describe("online/offline status to the auth service", () => {
  let gw, auth, pres;
  const W = 3;

  before(async () => {
    [auth, pres] = await Promise.all([startStub(), startStub()]);
    // A local key and an auth service: tokens are checked here (auth_mode
    // auto is local), the status goes to the service; the presence engine
    // hears the same transitions, from the same one worker.
    gw = await startGateway({
      workers: W,
      conf: `auth_service_url "${auth.url}"\npresence_engine_url "${pres.url}"\n` +
        "engine_batch_delay 100ms\n",
    });
  });

  after(async () => {
    await Promise.all([auth, pres].filter(Boolean).map((s) => s.close()));
    await stop(gw);
  });

  // The presence engine's events about user, batched or not.
  const presence = (user) => pres.calls.flatMap((c) => c.body?.events ?? [c.body])
    .filter((e) => e?.userId === user);

  test("three devices on three workers: one online call, one offline call, to each service", { timeout: 120000 }, async () => {
    const user = `dana${Date.now()}`;
    const path = `/api/users/${user}/status`;
    const devs = await placed(gw.url, user, W);
    assert.equal(new Set(devs.map((d) => d.slot)).size, W);
    await until(() => auth.on(path).length >= 1, 10000, "the online call");
    await sleep(1500);	// any further call would have come by now
    const on = auth.on(path);
    assert.equal(on.length, 1, JSON.stringify(on.map((c) => c.body)));
    assert.equal(on[0].method, "PUT");
    assert.equal(on[0].body.user_id, user);
    assert.equal(on[0].body.status, "online");
    assert.ok(!Number.isNaN(Date.parse(on[0].body.last_seen)), on[0].body.last_seen);
    assert.match(on[0].headers["idempotency-key"], new RegExp(`^status-online-\\d+-${user}$`));
    assert.equal(verifies(auth, "").length, 0, "auth_mode auto with a key verifies locally");
    assert.deepEqual(presence(user).map((e) => e.type), ["online"], "the presence engine: once");
    await closeAll(devs);
    await until(() => auth.on(path).length >= 2, 10000, "the offline call");
    await sleep(1500);
    const all = auth.on(path);
    assert.equal(all.length, 2, JSON.stringify(all.map((c) => c.body)));
    assert.equal(all[1].body.status, "offline");
    assert.ok(!Number.isNaN(Date.parse(all[1].body.last_seen)));
    assert.deepEqual(presence(user).map((e) => e.type), ["online", "offline"],
      "the presence engine: once each, though the three closed at once");
    assert.equal(auth.on(VERIFY).length, 0);
  });
});

describe("-t and auth_mode", () => {
  const check = (text, env = {}) => {
    const file = join(mkdtempSync(join(tmpdir(), "sgw-auth-")), "c.conf");
    writeFileSync(file, `jwt_secret_file "/nonexistent/jwt.secret"\n${text}`);
    const e = { ...process.env, ...env };
    delete e.JWT_SECRET;
    delete e.AUTH_SERVICE_URL;
    return spawnSync(SGWD, ["-t", "-c", file], { encoding: "utf8", env: e });
  };

  test("service without auth_service_url, or no way at all, is refused clearly", () => {
    const a = check("auth_mode service\n");
    assert.equal(a.status, 78);
    assert.match(a.stderr, /auth_mode service needs auth_service_url/);
    const b = check("");
    assert.equal(b.status, 78);
    assert.match(b.stderr, /no way to verify tokens.*auth_service_url/);
    const c = check("auth_mode both\nauth_service_url \"http://127.0.0.1:9\"\n");
    assert.equal(c.status, 78);
    assert.match(c.stderr, /auth_mode both needs a key too/);
  });

  test("no key but an auth service: auto means service", () => {
    const r = check("auth_service_url \"http://127.0.0.1:9\"\n");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^auth_mode auto$/m);
  });
});
