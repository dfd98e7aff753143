// Guards issue 16 (scale on one host: presence storms without casualties):
// with presence_mode all, a storm of distinct users connecting and leaving
// while some clients sit behind slow links cuts nobody: no client misses
// its heartbeat (pings go ahead of what is queued; presence to a client
// behind on reading is held and sent coalesced once it has read), and every
// client ends with the right view of who is online (online_users, then
// user_connected/user_disconnected).  /metrics must show presence held and
// caught up (coalesced and refreshed).
// The slow clients reach the gateway through tests/slowlink (a relay with a
// small MSS and receive buffer, read at SLOW_RATE): over plain loopback the
// kernel gives each connection a 4 MB send buffer, which hides a slow
// reader's backlog from the gateway (the storm passed without this code).
// Without the issue's code the slow watchers' pings wait behind their
// queued presence and they are cut (ping timeout).
// A smaller storm than the issue's 10,000 users, with short heartbeats.
// No timing assertion: deadlines are hang guards only.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { io } from "socket.io-client";
import WebSocket from "ws";
import { getJSON, sleep, startGateway, token, until } from "./gwlib.mjs";

const SGWD = process.env.SGWD ?? "../_build/strict/socket-gatewayd";
const SLOWLINK = process.env.SLOWLINK ?? join(dirname(SGWD), "tests/slowlink/slowlink");
const USERS = Number(process.env.STORM_USERS ?? 1800);	// distinct storm users
const LIVE = 120;		// storm users online at once, at most: older ones leave
const WAVE = 40;		// connecting at once, at most
const SLOW = 6;			// watchers behind a slow link
const SLOW_RATE = 48000;	// bytes a second the slow link reads
// Long ids make each presence event ~200 bytes: a slow watcher is owed
// some 600 KB, far past what its link holds in flight (~80 KB).
const PAD = "p".repeat(100);

let gw, link, linkPort;
// A gateway keeping `cap` presence changes for clients behind, and the
// slow link to it.
async function start(cap) {
  gw = await startGateway({ workers: 2, conf: "presence_mode all\n" +
    "ping_interval 1s\nping_timeout 4s\nmax_connections 5000\n" +
    "max_connections_per_address 5000\nmax_unconnected_per_address 5000\n" +
    `presence_coalesce_max ${cap}\nevent_rate 1000\nevent_burst 1000` });
  link = spawn(SLOWLINK, [String(gw.port), String(SLOW_RATE)], { stdio: ["ignore", "pipe", "inherit"] });
  linkPort = await new Promise((res, rej) => {
    link.on("error", rej);
    link.stdout.once("data", (d) => res(Number(String(d).trim())));
  });
}
async function stop() {
  link?.kill();
  link = null;
  await gw?.shutdown();
  gw = null;
}
after(stop);

// A socket of user that keeps its view of who is online and how it ended.
function watcher(user, url = gw.url) {
  const s = io(url, { reconnection: false, forceNew: true, transports: ["websocket"],
    auth: { token: token(user) } });
  const w = { user, s, view: null, lost: null, greeted: false };
  s.on("online_users", (list) => { w.view = new Set(list); w.greeted = true; });
  s.on("user_connected", (u) => w.view?.add(u.user_id));
  s.on("user_disconnected", (u) => w.view?.delete(u.user_id));
  s.on("disconnect", (why) => { w.lost ??= why; });
  s.on("connect_error", (e) => { w.lost ??= `connect_error ${e.message}`; });
  return w;
}

async function greeted(w) {
  await until(() => {
    if (w.lost) throw new Error(`${w.user}: ${w.lost}`);
    return w.greeted;
  }, 30000, `${w.user}'s online_users`);
  return w;
}

// A storm user: a raw Engine.IO client, cheap enough that the test's own
// process keeps up with the storm (it answers pings, parses nothing else).
// Resolves once its Socket.IO CONNECT is answered.
function stormUser(user) {
  const c = { user, lost: null, left: false };
  const ws = new WebSocket(`${gw.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
  // A Socket.IO DISCONNECT first: a bare close is recoverable (issue 15)
  // and keeps the user online for max_disconnection_duration.
  c.leave = () => { c.left = true; ws.send("41"); ws.close(); };
  ws.on("close", (code, why) => { if (!c.left) c.lost ??= `closed ${code} ${why}`; });
  ws.on("error", () => {});
  c.ready = new Promise((res, rej) => {
    ws.on("message", (d) => {
      const m = String(d);
      if (m === "2") ws.send("3");
      else if (m[0] === "0") ws.send(`40${JSON.stringify({ token: token(c.user) })}`);
      else if (m.startsWith("40{")) res();
      else if (m.startsWith("44")) rej(new Error(m));
    });
    ws.on("close", () => rej(new Error(`${user.slice(0, 12)} closed before CONNECT`)));
  });
  return c;
}

const FIGURES = ["ping_timeouts", "slow_readers", "pings_ahead", "pongs_late", "presence_held",
  "presence_coalesced", "presence_refreshed", "presence_over_budget", "presence_stale",
  "output_queued_bytes"];

// The storm against a gateway keeping cap changes; `figure`, the catch-ups
// it must have sent (as net changes, or as a fresh online_users).
async function runStorm(cap, figure) {
  await start(cap);
  const fast = await greeted(watcher("ps-fast"));
  const slow = [];
  for (let i = 0; i < SLOW; i++)
    slow.push(await greeted(watcher(`ps-slow-${i}`, `http://127.0.0.1:${linkPort}`)));
  const watchers = [fast, ...slow];
  const check = () => {
    for (const w of watchers)
      if (w.lost) throw new Error(`${w.user} disconnected: ${w.lost}`);
    for (const c of storm)
      if (c.lost) throw new Error(`storm user ${c.user.slice(0, 12)} disconnected: ${c.lost}`);
  };

  // The storm: USERS distinct users, WAVE at a time; past LIVE online, the
  // oldest wave leaves as the next comes (bounded: USERS / WAVE waves).
  const storm = [];
  let live = 0;
  for (let i = 0; i < USERS; i += WAVE) {
    const wave = [];
    for (let j = i; j < Math.min(USERS, i + WAVE); j++)
      wave.push(stormUser(`ps-${j}-${PAD}`));
    storm.push(...wave);
    await Promise.all(wave.map((c) => c.ready));
    check();
    for (; storm.length - live > LIVE; live++) storm[live].leave();
  }
  console.error(`storm: ${USERS} users came, ${live} left`);

  const expect = new Set(watchers.map((w) => w.user));
  for (const c of storm.slice(live)) expect.add(c.user);
  const wrong = (w) => {
    if (w.view === null) return ["(no view)"];
    const missing = [...expect].filter((u) => !w.view.has(u));
    const extra = [...w.view].filter((u) => !expect.has(u));
    return [...missing.map((u) => `-${u.slice(0, 12)}`), ...extra.map((u) => `+${u.slice(0, 12)}`)];
  };
  try {
    // Settled: every view right, or somebody lost (a failure at once).
    await until(() => {
      check();
      return watchers.every((w) => wrong(w).length === 0);
    }, 120000, "every watcher's view of who is online");
  } catch (e) {
    const m = await getJSON(gw.url, "/metrics").catch(() => ({}));
    const t = m.totals ?? {};
    console.error("views:", watchers.map((w) => `${w.user} ${w.lost ?? ""} ${wrong(w).length} wrong ${wrong(w).slice(0, 3)}`),
      "metrics:", FIGURES.map((k) => `${k}=${t[k]}`).join(" "));
    console.error(gw.logged(/ping|slow|closed|disconnect/i).slice(-10).map((l) => JSON.stringify(l)).join("\n"));
    throw e;
  }
  for (const w of watchers)
    assert.deepEqual(wrong(w), [], `${w.user}'s view`);
  // The figures are up to a second old: wait for the catch-ups to show.
  const m = await until(async () => {
    const m = await getJSON(gw.url, "/metrics");
    return m.totals.presence_stale === 0 && m.totals[figure] > 0 ? m : null;
  }, 15000, "presence caught up in /metrics").catch(async (e) => {
    const t = (await getJSON(gw.url, "/metrics")).totals;
    throw new Error(`${e.message}: ${FIGURES.map((k) => `${k}=${t[k]}`).join(" ")}`);
  });
  console.error(FIGURES.map((k) => `${k}=${m.totals[k]}`).join(" "));
  assert.equal(m.totals.ping_timeouts, 0, "ping_timeouts");
  assert.equal(m.totals.slow_readers, 0, "slow_readers");
  assert.ok(m.totals.presence_held > 0, "presence_held: the slow watchers were behind");
  for (const c of storm.slice(live)) c.leave();
  for (const w of watchers) w.s.disconnect();
  await sleep(100);
  // Under the sanitizer build, a report (a worker aborts, is respawned)
  // fails the case; leaks are told as the workers exit.
  const logs = gw.logs;
  await stop();
  const reports = logs.filter((l) => /AddressSanitizer|runtime error|LeakSanitizer/.test(l.raw ?? ""));
  assert.deepEqual(reports.map((l) => l.raw).slice(0, 4), [], "the sanitizer reported");
  return m.totals;
}

// Every change kept (the storm's 3,500 fit): each client behind gets what
// changed, per user, once it has read (a user who came and went is left
// out); never a whole roster.
test("a presence storm cuts no client behind a slow link; caught up by net changes", async () => {
  const t = await runStorm(8192, "presence_coalesced");
  assert.equal(t.presence_refreshed, 0, "presence_refreshed");
});

// 16 changes kept: a client further behind gets one fresh online_users.
test("a presence storm cuts no client behind a slow link; caught up by a fresh online_users", async () => {
  await runStorm(16, "presence_refreshed");
});
