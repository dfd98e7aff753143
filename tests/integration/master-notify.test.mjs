// Guards issue 5 (master process): what the master tells systemd through
// sd_notify(3).  A real socket-gatewayd (2 workers) with NOTIFY_SOCKET set
// to a unix datagram socket that tests/systemd/notify-sink reads, and
// WATCHDOG_USEC set as systemd sets it for WatchdogSec=.  127.0.0.1 only.
//   - READY=1 once the workers serve; STATUS= with the connection count;
//     WATCHDOG=1 at half the interval;
//   - a valid reload: RELOADING=1 with MONOTONIC_USEC, then READY=1;
//   - a reload that fails: READY=1 again, and STATUS= says so until a
//     reload succeeds;
//   - SIGTERM: STOPPING=1.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { eachLine } from "./lib.mjs";
import { client, sleep, startMaster, token, until, SGWD } from "./masterlib.mjs";

const SINK = process.env.NOTIFY_SINK ?? join(dirname(SGWD), "tests/systemd/notify-sink");
const WATCHDOG_USEC = 400000;

let gw, sink;
const heard = [];	// {at, msg}: every datagram, in order

// The index of the first datagram from `from` on that matches re.
function find(re, from = 0) {
  return heard.findIndex((h, i) => i >= from && re.test(h.msg));
}

async function wait(re, from = 0, ms = 10000) {
  await until(() => find(re, from) >= 0, ms, `a notification matching ${re} ` +
    `(heard: ${heard.slice(from).map((h) => h.msg).filter((m) => m !== "WATCHDOG=1").join(" / ")})`);
  return find(re, from);
}

before(async () => {
  const path = join(mkdtempSync(join(tmpdir(), "sgw-notify-")), "notify.sock");
  sink = spawn(SINK, [path], { stdio: ["pipe", "pipe", "inherit"] });
  const ready = new Promise((resolve) => {
    eachLine(sink.stdout, (line) => {
      if (line === "ready") resolve();
      else heard.push({ at: Date.now(), msg: line });
    });
  });
  await ready;
  gw = await startMaster({ workers: 2, env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: String(WATCHDOG_USEC) } });
});
after(async () => {
  await gw?.shutdown();
  sink?.kill();
});

test("READY=1 once the workers serve, then STATUS= with the connection count", async () => {
  const r = await wait(/^READY=1/);
  assert.ok(gw.logged("socket-gatewayd ready").length > 0, "READY=1 before the workers serve");
  await wait(/^STATUS=serving/, r);
  const c = client(gw.url, { auth: { token: token("notify-1") }, transports: ["websocket"] });
  try {
    await c.wait("connected");
    await wait(/^STATUS=serving 1 connections, generation 1$/, r);
  } finally {
    c.close();
  }
});

test("WATCHDOG=1 at half of WATCHDOG_USEC", async () => {
  const from = heard.length;
  await sleep(1500);
  const pings = heard.slice(from).filter((h) => h.msg === "WATCHDOG=1");
  // 1.5 s at 0.2 s: about 7; a loaded machine may lose a few, not most.
  assert.ok(pings.length >= 4 && pings.length <= 9, `${pings.length} pings in 1.5 s`);
});

test("a reload: RELOADING=1 with MONOTONIC_USEC, then READY=1", async () => {
  const from = heard.length;
  gw.rewrite("ping_interval 21s");
  await gw.reload("reloaded: generation 2");
  const r = await wait(/^RELOADING=1\|MONOTONIC_USEC=\d+$/, from);
  const usec = Number(/MONOTONIC_USEC=(\d+)/.exec(heard[r].msg)[1]);
  assert.ok(usec > 0);
  await wait(/^READY=1/, r + 1);
});

test("a reload that fails: READY=1 again, and STATUS= says so until one succeeds", async () => {
  let from = heard.length;
  gw.append("wrokers 2\n");
  await gw.reload("reload failed");
  await wait(/^STATUS=Reload failed: configuration errors$/, from);
  // The periodic status keeps it.
  from = heard.length;
  await wait(/^STATUS=serving \d+ connections, generation 2; last reload failed: configuration errors$/, from);
  gw.rewrite("ping_interval 22s");
  await gw.reload("reloaded: generation 3");
  from = heard.length;
  const r = await wait(/^STATUS=serving \d+ connections, generation 3$/, from);
  assert.ok(r >= 0);
});

test("SIGTERM: STOPPING=1", async () => {
  const from = heard.length;
  const code = await gw.stop("SIGTERM");
  await wait(/^STOPPING=1/, from);
  assert.equal(code?.code ?? code, 0);
  gw = null;
});
