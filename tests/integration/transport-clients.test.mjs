// Guards issue 4 (worker transport): the real socket.io-client against
// socket-gatewayd with 4 workers, over each transport a client may choose
// (polling then upgrade, WebSocket only, polling only): JWT auth at the
// CONNECT, `connected` / `online_users`, acks and `error` for an unknown
// event, refused tokens, SIGHUP reload (old generation drains, clients
// reconnect) and SIGTERM (every client disconnected, exit 0).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { client, deadline, sleep, startGateway, token, until } from "./lib.mjs";

const TRANSPORTS = [
  { name: "default (polling, then upgrade)", opts: {} },
  { name: "websocket only", opts: { transports: ["websocket"] } },
  { name: "polling only", opts: { transports: ["polling"] } },
];

// Default clients that must all end up on WebSocket.  The upgrade probe is a
// new TCP connection that any worker may accept, so several clients make a
// probe that only works on the session's own worker fail every run, not one
// run in four.
const UPGRADERS = 8;

function now() {
  return Math.floor(Date.now() / 1000);
}

// Connects, checks `connected` and `online_users`, returns the client.
async function connectUser(url, user, opts) {
  const c = client(url, { auth: { token: token(user) }, ...opts });
  const [hello] = await c.wait("connected", { ms: 15000 });
  assert.equal(hello.user_id, user, "connected.user_id is the token's sub");
  assert.equal(typeof hello.socket_id, "string");
  assert.ok(hello.socket_id.length > 0, "connected.socket_id is not empty");
  const [users] = await c.wait("online_users", { ms: 15000 });
  assert.ok(Array.isArray(users), "online_users is an array");
  assert.ok(users.includes(user), `online_users ${JSON.stringify(users)} has ${user}`);
  return c;
}

async function unknownEvent(c) {
  const before = c.all("error").length;
  const ack = await c.socket.timeout(15000).emitWithAck("no_such_event", { a: 1 });
  assert.equal(ack.ok, false);
  assert.equal(ack.error?.code, "unknown_event");
  assert.equal(typeof ack.error?.message, "string");
  const [err] = await c.wait("error", { n: before + 1, ms: 15000 });
  assert.equal(err.code, "unknown_event");
  assert.equal(err.event, "no_such_event");
  assert.equal(typeof err.message, "string");
}

describe("transports, 4 workers", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 4 }); });
  after(async () => { await gw?.shutdown(); });

  for (const { name, opts } of TRANSPORTS) {
    describe(name, () => {
      test("connected, online_users, ack and error for an unknown event", async () => {
        const user = `user-${opts.transports?.join("-") ?? "default"}`;
        const c = await connectUser(gw.url, user, opts);
        try {
          await unknownEvent(c);
          await unknownEvent(c);
          if (opts.transports)
            assert.equal(c.socket.io.engine.transport.name, opts.transports[0]);
          assert.equal(c.all("disconnect").length, 0);
        } finally {
          c.close();
        }
      });

      if (!opts.transports) {
        test(`${UPGRADERS} clients each upgrade to WebSocket`, async () => {
          const cs = [];
          try {
            for (let i = 0; i < UPGRADERS; i++)
              cs.push(await connectUser(gw.url, `upgrader-${i}`, opts));
            const upgraded = (c) => c.socket.io.engine?.transport.name === "websocket";
            await until(() => cs.every(upgraded), 10000, "the upgrades").catch(() => {});
            const stuck = [...cs.keys()].filter((i) => !upgraded(cs[i]));
            assert.deepEqual(stuck, [], `clients ${stuck.join(", ")} of ${UPGRADERS} ` +
              "stayed on polling: the upgrade probe failed (it reached a worker " +
              "that does not own the session?)");
            for (const c of cs) await unknownEvent(c);
            for (const c of cs) assert.equal(c.all("disconnect").length, 0);
          } finally {
            for (const c of cs) c.close();
          }
        });
      }

      const refused = {
        "not a JWT": [() => "garbage", /invalid/i],
        "an expired token": [() => token("late", { iat: now() - 7200, exp: now() - 3600 }),
          /expired/i],
        "alg none": [() => token("nobody", {}, { alg: "none" }), /invalid/i],
        "another secret": [() => token("intruder", {}, {
          secret: "not-the-secret-not-the-secret-0123" }), /invalid/i],
        "no token": [() => undefined, /required/i],
      };
      for (const [what, [make, re]] of Object.entries(refused)) {
        test(`${what}: connect_error, no connected`, async () => {
          const t = make();
          const c = client(gw.url, { auth: t === undefined ? {} : { token: t }, ...opts });
          try {
            const [err] = await c.wait("connect_error", { ms: 15000 });
            assert.match(err.message, re);
            assert.doesNotMatch(err.message, /xhr|websocket error|timeout/i);
            await sleep(300);
            assert.equal(c.all("connect").length, 0);
            assert.equal(c.all("connected").length, 0);
          } finally {
            c.close();
          }
        });
      }
    });
  }
});

describe("server-initiated close", () => {
  test("SIGHUP: the old generation drains, clients reconnect", async () => {
    const gw = await startGateway({ workers: 4 });
    const cs = [];
    try {
      for (const { opts } of TRANSPORTS) {
        const user = `reload-${opts.transports?.join("-") ?? "default"}`;
        const c = client(gw.url, {
          auth: { token: token(user) }, ...opts, reconnection: true,
          reconnectionDelay: 100, reconnectionDelayMax: 1000, reconnectionAttempts: 50,
        });
        cs.push(c);
        const [hello] = await c.wait("connected", { ms: 15000 });
        assert.equal(hello.user_id, user);
      }
      gw.proc.kill("SIGHUP");
      for (const c of cs) {
        await c.wait("disconnect", { ms: 20000 });
        const [hello] = await c.wait("connected", { n: 2, ms: 20000 });
        // A reload keeps what a client may recover (issue 15): its
        // socket then has its old id; any other, a new one.
        assert.equal(hello.socket_id === c.all("connected")[0].args[0].socket_id,
          c.socket.recovered === true);
        await unknownEvent(c);
      }
      await until(() => gw.logged("exited after draining").length >= 4, 20000,
        "the 4 old workers to exit after draining");
      assert.equal(gw.proc.exitCode, null, "the master still runs");
      const health = await fetch(`${gw.url}/health`);
      assert.equal(health.status, 200);
    } finally {
      for (const c of cs) c.close();
      await gw.shutdown();
    }
  });

  test("SIGTERM: every client is disconnected, exit status 0", async () => {
    const gw = await startGateway({ workers: 4 });
    const cs = [];
    try {
      for (const [i, { opts }] of [...TRANSPORTS, ...TRANSPORTS].entries()) {
        const c = client(gw.url, { auth: { token: token(`term-${i}`) }, ...opts });
        cs.push(c);
        await c.wait("connected", { ms: 15000 });
      }
      gw.proc.kill("SIGTERM");
      for (const c of cs) await c.wait("disconnect", { ms: 20000 });
      const r = await Promise.race([gw.exited, deadline(30000).then(() => null)]);
      assert.ok(r !== null, "the gateway exits within 30 s of SIGTERM");
      assert.deepEqual(r, { code: 0, sig: null });
    } finally {
      for (const c of cs) c.close();
      await gw.shutdown();
    }
  });
});
