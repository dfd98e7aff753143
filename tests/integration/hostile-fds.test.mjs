// Guards issue 11 (hostile clients), item 14: a worker out of file
// descriptors (EMFILE) must not spin on its still-readable listening
// socket nor log on every loop iteration; it pauses accepting, sheds one
// waiting client with its spare descriptor, logs at most once a second,
// and serves again once connections close.  The gateway runs under
// `prlimit --nofile=64:64`; the worker's CPU use is read from
// /proc/<pid>/stat as a ratio of CPU ticks to elapsed ticks (a spinning
// worker uses about one CPU tick per tick), never as a wall timing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import {
  children, client, getJSON, sleep, startGateway, token, until,
} from "./lib.mjs";

const NOFILE = 64;
const HOG = 120;		// idle connections: more than NOFILE
const WATCH_MS = 3000;		// how long the worker's CPU is watched

let gw;

// utime + stime of a process, in clock ticks (/proc/<pid>/stat, fields 14, 15).
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

before(async () => {
  gw = await startGateway({ workers: 1,
    launcher: () => ["prlimit", `--nofile=${NOFILE}:${NOFILE}`] });
});
after(async () => { await gw?.shutdown(); });

test("a worker out of descriptors pauses instead of spinning, logs little, and recovers",
  { timeout: 60000 }, async () => {
    const [worker] = await until(() => {
      const c = children(gw.proc.pid);
      return c.length > 0 ? c : null;
    }, 5000, "the worker");
    // Idle connections that say nothing: each holds a descriptor.
    const hog = [];
    for (let i = 0; i < HOG; i++) {
      const s = tcpConnect(gw.port, "127.0.0.1");
      s.on("error", () => {});
      hog.push(s);
    }
    await Promise.all(hog.map((s) => new Promise((r) => {
      s.once("connect", r);
      s.once("close", r);
    })));
    // The worker has run out by now (the connections sit in its backlog).
    await until(() => gw.logs.some((l) => /out of file descriptors/.test(l.msg ?? "")),
      10000, "the worker to run out of descriptors");
    const t0 = cpuTicks(worker);
    const w0 = Date.now();
    await sleep(WATCH_MS);
    const used = cpuTicks(worker) - t0;
    const elapsed = ((Date.now() - w0) / 1000) * 100;	// USER_HZ is 100
    assert.ok(used < elapsed * 0.3,
      `the worker used ${used} CPU ticks in ${Math.round(elapsed)} ticks (spinning?)`);
    const lines = gw.logs.filter((l) => /out of file descriptors/.test(l.msg ?? "")).length;
    const seconds = (Date.now() - w0) / 1000 + 12;	// since the first one, generously
    assert.ok(lines <= seconds, `${lines} log lines about descriptors`);
    // Room again: the gateway serves a real client.
    for (const s of hog) s.destroy();
    const c = client(gw.url, { auth: { token: token("fd-after") }, transports: ["websocket"] });
    try {
      await until(async () => {
        if (c.all("connected").length > 0) return true;
        if (c.all("connect_error").length > 0 || c.all("disconnect").length > 0) {
          c.socket.connect();
          await sleep(200);
        }
        return false;
      }, 20000, "a client to be served after the connections closed");
      const m = await getJSON(gw.url);
      assert.ok(m.totals.fd_exhausted > 0, "fd_exhausted counted in /metrics");
    } finally {
      c.close();
    }
  });
