// Guards issue 11 (hostile clients), its closing test: a few hundred
// malformed or oversized requests of every kind (HTTP, polling bodies,
// WebSocket frames, Socket.IO packets, tokens) at a gateway with 2
// workers.  Afterwards the gateway still serves a real client (a direct
// message between two users on different workers), no worker died, /metrics
// counts what was refused, and the workers' RSS is back within 10% of its
// level before the barrage.
//
// "Before" is measured after one warm-up round of the same barrage: the
// first round grows the allocator's arenas and lws's pools to their working
// size once; what the test guards is that further rounds do not keep
// growing memory (a leak or an unbounded buffer would).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { randomBytes } from "node:crypto";
import { children, client, getJSON, sleep, startGateway, token, until } from "./lib.mjs";

const ROUNDS = 3;		// measured rounds after the warm-up round
const MAX_PAYLOAD = 64 * 1024;

// Under AddressSanitizer, freed memory is held back (the quarantine, 32 MB
// per worker in CI) and would read as growth: this gateway's is 4 MB, still
// enough to catch a use after free within a request.
const env = process.env.ASAN_OPTIONS === undefined ? {} :
  { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS}:quarantine_size_mb=4` };

let gw;
before(async () => {
  gw = await startGateway({
    workers: 2,
    env,
    conf: `max_payload 64kb\noutput_queue_limit 256kb\nconnect_timeout 1s\n` +
      `upgrade_timeout 1s\n`,
  });
});
after(async () => { await gw?.shutdown(); });

// What a sanitizer printed, for the failure message.
function sanitizer() {
  return gw.logs.filter((l) => /Sanitizer|runtime error|#\d+ 0x/.test(l.raw ?? ""))
    .slice(0, 40).map((l) => l.raw).join("\n");
}

// Fails unless every worker of the start is still there.
function alive(workers) {
  const now = children(gw.proc.pid);
  assert.deepEqual(now, workers, "no worker died (same pids)\n" + sanitizer() +
    JSON.stringify(gw.logs.filter((l) => l.level === "error").slice(-5)));
}

// Resident memory of a process, in bytes, from /proc.
function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m[1]) * 1024;
}

// Sends raw bytes on a new TCP connection and resolves with what came back
// once the server closed, or after ms (the connection is then destroyed).
// Writes may be a list, sent one after another.
function raw(writes, { ms = 3000, keep = false } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    const sock = tcpConnect(gw.port, "127.0.0.1");
    const done = () => { clearTimeout(timer); sock.destroy(); resolve(Buffer.concat(chunks)); };
    const timer = setTimeout(done, ms);
    sock.on("data", (d) => {
      chunks.push(d);
      if (!keep && /^HTTP\/1\.[01] \d+/.test(Buffer.concat(chunks).toString("latin1")) &&
          Buffer.concat(chunks).includes("\r\n\r\n")) {
        // An HTTP answer with a body we do not need in full: give it a moment.
        setTimeout(done, 50);
      }
    });
    sock.on("error", done);
    sock.on("close", done);
    sock.on("connect", async () => {
      for (const w of [].concat(writes)) {
        if (sock.destroyed) break;
        sock.write(w);
        await sleep(5);
      }
    });
  });
}

function status(buf) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString("latin1"));
  return m ? Number(m[1]) : 0;
}

// A polling session's sid, from a real handshake.
async function handshake() {
  const res = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`);
  const body = await res.text();
  return JSON.parse(body.slice(1)).sid;
}

// A WebSocket frame from the client: masked unless told otherwise.
function frame(opcode, payload, { fin = true, mask = true, len } = {}) {
  payload = Buffer.from(payload);
  const n = len ?? payload.length;
  let head;
  if (n < 126) head = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | n]);
  else if (n < 65536) {
    head = Buffer.alloc(4);
    head[0] = (fin ? 0x80 : 0) | opcode; head[1] = (mask ? 0x80 : 0) | 126;
    head.writeUInt16BE(n, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = (fin ? 0x80 : 0) | opcode; head[1] = (mask ? 0x80 : 0) | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, key, body]);
}

const UPGRADE = (path = "/socket.io/?EIO=4&transport=websocket") =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
  `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
  `Sec-WebSocket-Version: 13\r\n\r\n`;

const text = (s) => frame(0x1, s);
const bin = (b) => frame(0x2, b);

// Tokens a client may present: each must be refused.
function badTokens() {
  const now = Math.floor(Date.now() / 1000);
  const good = token("mallory");
  const [h, b] = good.split(".");
  return [
    "", "x", "a.b", "a.b.c", "....", good.slice(0, -3) + "AAA",
    token("mallory", { exp: now - 3600 }), token("mallory", {}, { alg: "none" }),
    token("mallory", {}, { secret: "another-secret-of-enough-length-0123456789" }),
    token("mallory", { exp: 1e300 }), token("mallory", { exp: "tomorrow" }),
    token("mallory", { nbf: now + 3600 }), token(""), token(null),
    `${h}.${b}.${"A".repeat(9000)}`, "\u0000\u00ff".repeat(100),
    `${Buffer.from('{"alg":"HS256","typ":"JWT"').toString("base64url")}.${b}.x`,
  ];
}

// Socket.IO / Engine.IO packets, each sent as a WebSocket text frame on a
// fresh session (after the OPEN): none may crash, each gets an error or
// a close.
const BAD_PACKETS = [
  "", "9", "4", "49", "4x", "40/nope,", "40{", `40${"[".repeat(5000)}`,
  "41", "42", "42[", "42[]", "42[1,2]", "42{\"a\":1}", "42999999999999999999999[\"x\"]",
  "43", "43[", "44", "45", "451-[\"x\",{\"_placeholder\":true,\"num\":0}]",
  "4999999999-[\"x\"]", "46", "47", "48", "42/other,[\"x\"]",
  "2probe", "5", "6", "1", "3", "0", "\u0000", "\uffff".repeat(1000),
  `40${JSON.stringify({ token: "x".repeat(20000) })}`,
];

// Requests that must get an HTTP error answer, each on its own connection.
function badHttp(sid) {
  return [
    "GARBAGE\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    "GET /socket.io/?EIO=3&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /socket.io/?EIO=4&transport=carrier-pigeon HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /socket.io/?EIO=4&transport=polling&sid=nope HTTP/1.1\r\nHost: x\r\n\r\n",
    `GET /socket.io/?EIO=4&transport=polling&sid=${"s".repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"h".repeat(20000)}\r\n\r\n`,
    `GET /health HTTP/1.1\r\nHost: x\r\n${"X-Many: y\r\n".repeat(2000)}\r\n`,
    `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
      `Content-Length: ${MAX_PAYLOAD * 16}\r\n\r\n`,
    `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
      "Content-Length: -1\r\n\r\nxx",
    `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
      "Content-Length: 99999999999999999999999\r\n\r\nxx",
    `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "DELETE /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    `GET /${"%".repeat(300)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    UPGRADE("/socket.io/?EIO=4&transport=websocket&sid=unknown"),
    UPGRADE("/socket.io/?EIO=2&transport=websocket"),
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" +
      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ];
}

// Polling bodies posted to a live session: each must be refused without
// harm to anyone else.
const BAD_BODIES = [
  "", "\u001e", "\u001e\u001e\u001e", "9", "4\u001e9", "b", "bAAAA", "b!!!!",
  "40{", "4".repeat(MAX_PAYLOAD + 10), `42[${"1,".repeat(20000)}1]`,
  `4${"\u001e4".repeat(10000)}`, "\u0000".repeat(100),
];

async function poll(method, sid, body) {
  try {
    const res = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`,
      { method, body, headers: { "content-type": "text/plain;charset=UTF-8" },
        signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

// One WebSocket session opened by hand; the writes follow the upgrade.
function ws(writes, opts = {}) {
  return raw([UPGRADE(), ...writes], { ms: 1500, keep: true, ...opts });
}


// One round of the barrage; returns how many requests it sent.
async function barrage() {
  let n = 0;
  const batch = async (list) => { await Promise.all(list); n += list.length; };

  // HTTP requests that are malformed, oversized or aimed at nothing.
  const sid = await handshake();
  const answers = await Promise.all(badHttp(sid).map((r) => raw(r)));
  n += answers.length;
  answers.forEach((a, i) => {
    const code = status(a);
    assert.ok(code >= 400 && code < 600, `bad HTTP request #${i} ` +
      `(${JSON.stringify(badHttp(sid)[i].slice(0, 60))}...) gets an HTTP error ` +
      `answer, got ${JSON.stringify(a.toString("latin1").split("\r\n")[0])}`);
  });

  // Polling bodies, each on a fresh session.
  await batch(BAD_BODIES.map(async (b) => poll("POST", await handshake(), b)));

  // WebSocket frames that break RFC 6455 or our limits.
  await batch([
    ws([frame(0x1, "40", { mask: false })]),			// unmasked
    ws([frame(0x3, "x")]),					// reserved opcode
    ws([frame(0x0, "x")]),					// continuation first
    ws([frame(0x1, "4", { fin: false }), frame(0x1, "0")]),	// new message mid-fragment
    ws([frame(0x9, "x".repeat(200))]),			// control frame > 125 bytes
    ws([frame(0x8, "\u0003\u00e8" + "x".repeat(10))]),	// close with a reason
    ws([Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]), // 2^63 length
    ws([frame(0x1, "x", { len: MAX_PAYLOAD * 4 })]),		// announced oversize
    ws([text("4" + "x".repeat(MAX_PAYLOAD + 1))]),		// oversize message
    ws(Array.from({ length: 40 }, () => frame(0x1, "x".repeat(4000), { fin: false }))), // endless fragments
    ws([text(Buffer.from([0xc3, 0x28, 0xa0, 0xa1]))]),		// invalid UTF-8
    ws([bin(randomBytes(300))]),				// binary before CONNECT
    ws([text("451-[\"x\",{\"_placeholder\":true,\"num\":0}]"), bin(randomBytes(MAX_PAYLOAD - 10))]),
    ws([randomBytes(2000)]),					// noise
  ]);

  // Socket.IO and Engine.IO packets, before and after a CONNECT.
  const connected = text(`40${JSON.stringify({ token: token("barrage") })}`);
  await batch(BAD_PACKETS.map((p) => ws([text(p)])));
  await batch(BAD_PACKETS.map((p) => ws([connected, text(p)])));

  // Tokens, over WebSocket and over polling.
  await batch(badTokens().map((t) => ws([text(`40${JSON.stringify({ token: t })}`)])));
  await batch(badTokens().map(async (t) =>
    poll("POST", await handshake(), `40${JSON.stringify({ token: t })}`)));
  await batch([
    ws([text(`40${JSON.stringify({ token: 42 })}`)]),
    ws([text("40[]")]),
    ws([text(`40${JSON.stringify({ token: ["a"] })}`)]),
    ws(Array.from({ length: 50 }, () => text(`40${JSON.stringify({ token: "x" })}`))),
  ]);
  return n;
}

// A direct message between two real clients on different workers.
async function serves() {
  const a = client(gw.url, { auth: { token: token("alice") }, transports: ["websocket"] });
  const b = client(gw.url, { auth: { token: token("bob") }, transports: ["websocket"] });
  try {
    await a.wait("connected", { ms: 15000 });
    await b.wait("connected", { ms: 15000 });
    const ack = await a.socket.timeout(10000).emitWithAck("send_message",
      { receiver_id: "bob", content: "still here", message_type: "text" });
    assert.equal(ack.ok, true, `send_message ack: ${JSON.stringify(ack)}`);
    const [m] = await b.wait("receive_message", { ms: 10000 });
    assert.equal(m.content, "still here");
    assert.equal(m.sender_id, "alice");
  } finally {
    a.close();
    b.close();
  }
}

// Sum of /metrics' totals whose name matches re.
function sum(totals, re) {
  return Object.entries(totals).filter(([k]) => re.test(k))
    .reduce((s, [, v]) => s + v, 0);
}

test("a barrage of malformed and oversized input leaves the gateway serving, counted, bounded",
  { timeout: 600000 }, async () => {
    const workers = children(gw.proc.pid);
    assert.equal(workers.length, 2, "two workers");
    await serves();

    const sent0 = await barrage();
    assert.ok(sent0 >= 150, `a round sends a few hundred requests (${sent0})`);
    // Sessions that never sent CONNECT end at connect_timeout (1 s).
    await until(async () => (await getJSON(gw.url, "/health")).connections === 0,
      20000, "the warm-up round's sessions to end");
    alive(workers);
    const base = workers.reduce((s, p) => s + rss(p), 0);
    const m0 = (await getJSON(gw.url, "/metrics")).totals;
    const logs0 = gw.logs.length;

    let sent = 0;
    for (let i = 0; i < ROUNDS; i++) sent += await barrage();
    await until(async () => (await getJSON(gw.url, "/health")).connections === 0,
      20000, "the barrage's sessions to end");

    alive(workers);
    await serves();

    // /metrics is at most a second old: wait until it has caught up.
    const refused = /parse_errors|auth_failures|refused|rejected|too_|limit|oversize|timeouts/;
    const m1 = await until(async () => {
      const t = (await getJSON(gw.url, "/metrics")).totals;
      return sum(t, refused) - sum(m0, refused) >= sent / 2 ? t : null;
    }, 10000, "/metrics to count what was refused");
    assert.ok(m1.parse_errors > m0.parse_errors, "parse errors counted");
    assert.ok(m1.auth_failures > m0.auth_failures, "refused tokens counted");

    // What a client can trigger at will is logged at a bounded rate, not a
    // line per request.
    const loud = gw.logs.slice(logs0).filter((l) => l.level === "error" || l.level === "warn");
    assert.ok(loud.length <= sent / 10, `${loud.length} warn/error lines for ${sent} ` +
      `hostile requests: ${JSON.stringify(loud.slice(0, 5).map((l) => l.msg))}`);

    const now = workers.reduce((s, p) => s + rss(p), 0);
    assert.ok(now <= base * 1.1,
      `workers' RSS ${now} B after ${ROUNDS} rounds is within 10% of ${base} B before`);
  });
