// Guards issue 4 (worker transport): Socket.IO events, binary attachments
// and acks in both directions through our protocol and transport layers,
// over each transport, with the real socket.io-client against the
// conformance server (tests/conformance/server.c: "message" ->
// "message-back", "message-with-ack" acked with its arguments, "ask" ->
// "question" with an ack whose arguments come back as "answer"), on the
// namespaces "/" and "/custom".
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Manager } from "socket.io-client";
import { client, record, startConformance } from "./lib.mjs";

const TRANSPORTS = [
  { name: "default (polling, then upgrade)", opts: {} },
  { name: "websocket only", opts: { transports: ["websocket"] } },
  { name: "polling only", opts: { transports: ["polling"] } },
];

const MS = 15000;

// Binary values as Buffers, whatever the client decoded them to.
function norm(v) {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof ArrayBuffer) return Buffer.from(new Uint8Array(v));
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

const PLAIN = {
  numbers: [0, 1, -1, 2.5, 1e21, Number.MAX_SAFE_INTEGER],
  strings: ["hello", "", "with \"quotes\" and \\ and \n newline"],
  nested: [{ a: { b: [1, { c: null }, [true, false]], d: "e" }, list: [[[]]], empty: {} }],
  unicode: ["héllo wörld", "日本語のテキスト", "emoji 🎉👍🏽", "\u0000 nul \u2028 sep"],
  mixed: [1, "two", { three: 3 }, [4], null, true],
  large: ["x".repeat(100000)],
};

const all = Buffer.from([...Array(256).keys()]);
const BINARY = {
  "one buffer": [all],
  "mixed binary and JSON": [{ id: 7, data: Buffer.from("payload"), tags: ["a", "b"] }, "text", all],
  "several buffers": [Buffer.from([1]), Buffer.from([2, 3]), { deep: [Buffer.from([4, 5, 6])] }],
  "an empty buffer": [Buffer.alloc(0), "after"],
  "a large buffer": [randomBytes(200000)],
};

// The ack of an emit, all its arguments.
function ackOf(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(MS).emit(event, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}

// Emits "message" and returns the args of the next "message-back".
async function echo(c, args) {
  const n = c.all("message-back").length + 1;
  c.socket.emit("message", ...args);
  return c.wait("message-back", { n, ms: MS });
}

async function ask(c, args) {
  const n = c.all("answer").length + 1;
  c.socket.emit("ask", ...args);
  return c.wait("answer", { n, ms: MS });
}

// Answers every "question" with what it asked, wrapped, plus a second arg.
function answering(c) {
  c.socket.on("question", (...args) => {
    const cb = args.pop();
    assert.equal(typeof cb, "function", "question asks for an ack");
    cb({ asked: args }, "second");
  });
  return c;
}

describe("events through the conformance server", () => {
  let srv;
  before(async () => { srv = await startConformance(); });
  after(async () => { await srv?.stop(); });

  for (const { name, opts } of TRANSPORTS) {
    describe(name, () => {
      let c;
      before(async () => {
        c = answering(client(srv.url, { auth: { token: "t-root" }, ...opts }));
        const [auth] = await c.wait("auth", { ms: MS });
        assert.deepEqual(auth, { token: "t-root" }, "auth event carries the handshake auth");
      });
      after(() => c?.close());

      for (const [what, args] of Object.entries(PLAIN)) {
        test(`plain event: ${what}`, async () => {
          assert.deepEqual(await echo(c, args), args);
        });
      }
      for (const [what, args] of Object.entries(BINARY)) {
        test(`binary event: ${what}`, async () => {
          assert.deepEqual(norm(await echo(c, args)), norm(args));
        });
      }
      test("acks client to server", async () => {
        for (const args of Object.values(PLAIN))
          assert.deepEqual(await ackOf(c.socket, "message-with-ack", ...args), args);
        assert.deepEqual(await c.socket.timeout(MS).emitWithAck("message-with-ack", "one"),
          "one");
      });
      test("binary acks client to server", async () => {
        for (const args of Object.values(BINARY))
          assert.deepEqual(norm(await ackOf(c.socket, "message-with-ack", ...args)),
            norm(args));
      });
      test("acks server to client", async () => {
        for (const args of [[1, 2, 3], ["ünïcödé"], [{ a: [1, { b: 2 }] }]])
          assert.deepEqual(await ask(c, args), [{ asked: args }, "second"]);
      });
      test("many events in a burst arrive in order", async () => {
        const n0 = c.all("message-back").length;
        for (let i = 0; i < 200; i++) c.socket.emit("message", i, i % 3 ? "s" : Buffer.from([i]));
        await c.wait("message-back", { n: n0 + 200, ms: MS });
        const got = c.all("message-back").slice(n0).map((e) => norm(e.args));
        for (let i = 0; i < 200; i++)
          assert.deepEqual(got[i], [i, i % 3 ? "s" : Buffer.from([i])]);
      });
      test("namespace /custom", async () => {
        const cc = answering(client(`${srv.url}/custom`, { auth: { token: "t-custom" }, ...opts }));
        try {
          const [auth] = await cc.wait("auth", { ms: MS });
          assert.deepEqual(auth, { token: "t-custom" });
          assert.deepEqual(await echo(cc, PLAIN.nested), PLAIN.nested);
          const bin = BINARY["mixed binary and JSON"];
          assert.deepEqual(norm(await echo(cc, bin)), norm(bin));
          assert.deepEqual(await ackOf(cc.socket, "message-with-ack", "x", 1), ["x", 1]);
          assert.deepEqual(await ask(cc, ["q"]), [{ asked: ["q"] }, "second"]);
        } finally {
          cc.close();
        }
      });
      test('"/" and "/custom" on one connection', async () => {
        const m = new Manager(srv.url, { reconnection: false, ...opts });
        const root = record(m.socket("/", { auth: { token: "m-root" } }));
        let custom = { close() {} };
        try {
          // One after the other: the conformance server keeps one pending
          // "auth" emit per session, so a second CONNECT within its 2 ms
          // would get no "auth" event.
          assert.deepEqual((await root.wait("auth", { ms: MS }))[0], { token: "m-root" });
          custom = record(m.socket("/custom", { auth: { token: "m-custom" } }));
          assert.deepEqual((await custom.wait("auth", { ms: MS }))[0], { token: "m-custom" });
          assert.equal(root.socket.io, custom.socket.io, "one Manager, one connection");
          const [a, b] = await Promise.all([echo(root, ["to root"]), echo(custom, ["to custom"])]);
          assert.deepEqual([a, b], [["to root"], ["to custom"]]);
          assert.equal(root.all("message-back").length, 1, "no cross-talk");
          assert.equal(custom.all("message-back").length, 1, "no cross-talk");
          assert.deepEqual(norm(await ackOf(custom.socket, "message-with-ack", all)), [all]);
          root.close();
          assert.deepEqual(await ackOf(custom.socket, "message-with-ack", "still"), ["still"],
            "closing one namespace leaves the other");
        } finally {
          root.close();
          custom.close();
          m.engine?.close();
        }
      });
      test("no disconnect on the way", () => {
        assert.equal(c.all("disconnect").length, 0);
        assert.equal(c.all("connect_error").length, 0);
      });
    });
  }
});
