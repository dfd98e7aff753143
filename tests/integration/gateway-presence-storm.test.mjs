// Guards issue 16 (scale on one host: presence storms without casualties):
// with presence_mode all, a burst of distinct users connecting (and half of
// them leaving) while some clients read slowly, or not at all for a
// moment, cuts nobody: no client misses its heartbeat (pings go ahead of
// what is queued; presence to a client behind on reading is held and sent
// coalesced once it has read), and every client ends with the right view
// of who is online (online_users, then user_connected/user_disconnected).
// A smaller storm than the 10,000 users, with short heartbeats.
// No timing assertion: deadlines are hang guards only.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import WebSocket from "ws";
import { getJSON, sleep, startGateway, token, until } from "./gwlib.mjs";

const USERS = Number(process.env.STORM_USERS ?? 900);	// storm users, a socket each
const LEAVE = USERS >> 1;	// of them leave again
const WAVE = 60;		// connecting at once, at most
const SLOW = 6;			// watchers reading slowly
const PAUSED = 2;		// ... of which this many stop reading at first
// Long ids make each presence event ~250 bytes: the storm is megabytes
// a client, far past what the kernel's socket buffers hold.
const PAD = "p".repeat(100);

let gw;
before(async () => {
  gw = await startGateway({ workers: 2, conf: "presence_mode all\n" +
    "ping_interval 1s\nping_timeout 2s\nmax_connections 5000\n" +
    "max_connections_per_address 5000\nmax_unconnected_per_address 5000\n" +
    "event_rate 1000\nevent_burst 1000" });
});
after(async () => { await gw?.shutdown(); });

// A socket of user that keeps its view of who is online and how it ended.
function watcher(user) {
  const s = io(gw.url, { reconnection: false, forceNew: true, transports: ["websocket"],
    auth: { token: token(user) } });
  const w = { user, s, view: null, lost: null, greeted: false };
  s.on("online_users", (list) => { w.view = new Set(list); w.greeted = true; });
  s.on("user_connected", (u) => w.view?.add(u.user_id));
  s.on("user_disconnected", (u) => w.view?.delete(u.user_id));
  s.on("disconnect", (why) => { w.lost ??= why; });
  s.on("connect_error", (e) => { w.lost ??= `connect_error ${e.message}`; });
  return w;
}

// The socket's TCP connection read at `bytes` every `ms` (a slow link);
// paused entirely for `hold` ms first.  Returns a stop function.
function slowRead(w, bytes, ms, hold = 0) {
  const ns = w.s.io.engine.transport.ws._socket;
  ns.pause();
  let t;
  const start = setTimeout(() => {
    t = setInterval(() => {
      const n = Math.min(bytes, ns.readableLength);
      if (n > 0) ns.read(n); else ns.read(0);
    }, ms);
  }, hold);
  return () => { clearTimeout(start); clearInterval(t); ns.resume(); };
}

async function greeted(w) {
  await until(() => {
    if (w.lost) throw new Error(`${w.user}: ${w.lost}`);
    return w.greeted;
  }, 30000, `${w.user}'s online_users`);
  return w;
}

test("a presence storm cuts no slow reader, and every view ends right", async () => {
  const fast = await greeted(watcher("ps-fast"));
  const slow = [];
  for (let i = 0; i < SLOW; i++) slow.push(await greeted(watcher(`ps-slow-${i}`)));
  const stops = slow.map((w, i) => slowRead(w, 16384, 50, i < PAUSED ? 1500 : 0));

  // The storm: USERS distinct users, WAVE at a time (bounded).
  const storm = [];
  for (let i = 0; i < USERS; i += WAVE) {
    const wave = [];
    for (let j = i; j < Math.min(USERS, i + WAVE); j++) {
      // A raw Engine.IO client: cheap enough that the test's own process
      // keeps up with the storm (it answers pings, parses nothing else).
      const c = { user: `ps-${j}-${PAD}`, lost: null };
      const ws = new WebSocket(`${gw.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
      let left = false;
      // A Socket.IO DISCONNECT first: a bare close is recoverable (issue
      // 15) and keeps the user online for max_disconnection_duration.
      c.s = { disconnect: () => { left = true; ws.send("41"); ws.close(); } };
      ws.on("close", () => { if (!left) c.lost ??= "closed"; });
      ws.on("error", () => {});
      wave.push(new Promise((res, rej) => {
        ws.on("message", (d) => {
          const m = String(d);
          if (m === "2") ws.send("3");
          else if (m[0] === "0") ws.send(`40${JSON.stringify({ token: token(c.user) })}`);
          else if (m.startsWith("40{")) res();
          else if (m.startsWith("44")) rej(new Error(m));
        });
      }));
      storm.push(c);
    }
    await Promise.all(wave);
  }
  console.error(`storm: ${USERS} connected`);
  // Half of them leave.
  for (const c of storm.slice(0, LEAVE)) c.s.disconnect();

  const expect = new Set([fast, ...slow].map((w) => w.user));
  for (const c of storm.slice(LEAVE)) expect.add(c.user);
  const wrong = (w) => {
    if (w.view === null) return ["(no view)"];
    const missing = [...expect].filter((u) => !w.view.has(u));
    const extra = [...w.view].filter((u) => !expect.has(u));
    return [...missing.map((u) => `-${u.slice(0, 12)}`), ...extra.map((u) => `+${u.slice(0, 12)}`)];
  };
  try {
    // Settled: every view right, or somebody lost (a failure at once).
    await until(() => {
      for (const w of [fast, ...slow])
        if (w.lost) throw new Error(`${w.user} disconnected: ${w.lost}`);
      for (const c of storm.slice(LEAVE))
        if (c.lost) throw new Error(`${c.user.slice(0, 12)} disconnected: ${c.lost}`);
      return [fast, ...slow].every((w) => wrong(w).length === 0);
    }, 90000, "every watcher's view of who is online");
  } catch (e) {
    const m = await getJSON(gw.url, "/metrics").catch(() => ({}));
    const t = m.totals ?? {};
    console.error("views:", [fast, ...slow].map((w) => `${w.user} ${w.lost ?? ""} ${wrong(w).length} wrong ${wrong(w).slice(0, 3)}`),
      "metrics:", ["ping_timeouts", "pings_ahead", "pongs_late", "presence_held", "presence_coalesced",
        "presence_refreshed", "presence_over_budget", "presence_stale", "output_queued_bytes"]
        .map((k) => `${k}=${t[k]}`).join(" "));
    throw e;
  } finally {
    for (const stop of stops) stop();
  }
  for (const w of [fast, ...slow])
    assert.deepEqual(wrong(w), [], `${w.user}'s view`);
  const m = await getJSON(gw.url, "/metrics");
  assert.equal(m.totals.ping_timeouts, 0, "ping_timeouts");
  assert.equal(m.totals.slow_readers, 0, "slow_readers");
  for (const c of storm) c.s.disconnect();
  for (const w of [fast, ...slow]) w.s.disconnect();
  await sleep(100);
});
