// Guards issue 5 (master process): what the master tells systemd through
// sd_notify(3).  A real socket-gatewayd (2 workers) with NOTIFY_SOCKET set
// to a unix datagram socket that tests/systemd/notify-sink reads, and
// WATCHDOG_USEC set as systemd sets it for WatchdogSec=.  127.0.0.1 only.
//   - READY=1 once the workers serve; STATUS= with the connection count;
//     WATCHDOG=1 over and over (its rate is not tested: no timing here);
//   - a valid reload: RELOADING=1 with MONOTONIC_USEC (the monotonic clock
//     between the SIGHUP and the notification), then READY=1;
//   - a reload with configuration errors reloads nothing: no RELOADING=1,
//     and STATUS= says so until a reload succeeds;
//   - a reload whose new workers cannot start: RELOADING=1, then READY=1
//     again (the old generation serves on) and STATUS= says why;
//   - SIGTERM: STOPPING=1.
// Each test reads the generation it starts from, so none depends on
// another's count.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SGWD, client, eachLine, startGateway, token, until } from "./lib.mjs";

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
  gw = await startGateway({ ready: "master", workers: 2, env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: String(WATCHDOG_USEC) } });
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

test("WATCHDOG=1 keeps coming while the master serves", async () => {
  const from = heard.length;
  const pings = () => heard.slice(from).filter((h) => h.msg === "WATCHDOG=1").length;
  // Three more, whatever the machine's load: a hang guard, not a rate.
  await until(() => pings() >= 3, 20000, `3 WATCHDOG=1 (heard ${pings()})`);
});

// The generation a reload's log line names.
function generation(line) {
  return Number(/generation (\d+)/.exec(line.msg)[1]);
}

test("a reload: RELOADING=1 with MONOTONIC_USEC, then READY=1", async () => {
  const from = heard.length;
  gw.rewrite("ping_interval 21s");
  // Node's hrtime is CLOCK_MONOTONIC, the clock systemd wants here.
  const t0 = process.hrtime.bigint() / 1000n;
  const line = await gw.reload("reloaded: generation");
  const r = await wait(/^RELOADING=1\|MONOTONIC_USEC=\d+$/, from);
  const t1 = process.hrtime.bigint() / 1000n;
  const usec = BigInt(/MONOTONIC_USEC=(\d+)/.exec(heard[r].msg)[1]);
  assert.ok(usec >= t0 && usec <= t1, `MONOTONIC_USEC ${usec} between the SIGHUP (${t0}) and now (${t1})`);
  const ready = await wait(/^READY=1/, r + 1);
  // And the status then names the new generation.
  await wait(new RegExp(`^STATUS=serving \\d+ connections, generation ${generation(line)}$`), ready);
});

test("a reload with configuration errors: no RELOADING=1, STATUS= says so until one succeeds", async () => {
  gw.rewrite("ping_interval 20s");
  const mark = heard.length;
  const gen = generation(await gw.reload("reloaded: generation"));
  // That good reload's READY=1 may reach the sink after its log line.
  await wait(/^READY=1/, mark);
  let from = heard.length;
  gw.append("wrokers 2\n");
  await gw.reload("reload failed");
  const failed = await wait(/^STATUS=Reload failed: configuration errors$/, from);
  // The periodic status keeps it.
  await wait(new RegExp(`^STATUS=serving \\d+ connections, generation ${gen}; ` +
    "last reload failed: configuration errors$"), failed + 1);
  assert.equal(find(/^(RELOADING|READY)=1/, from), -1,
    `nothing was reloaded, so neither RELOADING=1 nor READY=1: ${heard.slice(from).map((h) => h.msg)}`);
  gw.rewrite("ping_interval 22s");
  from = heard.length;
  await gw.reload(`reloaded: generation ${gen + 1}`);
  const ok = await wait(new RegExp(`^STATUS=serving \\d+ connections, generation ${gen + 1}$`), from);
  // From then on no status carries the failure.
  assert.deepEqual(heard.slice(from, ok).filter((h) => /last reload failed/.test(h.msg)), []);
});

test("a reload whose new workers cannot start: RELOADING=1, READY=1 again, STATUS= says why", async () => {
  gw.rewrite("ping_interval 20s");
  const gen = generation(await gw.reload("reloaded: generation"));
  // Readable, so the check passes; not a certificate, so the workers fail.
  writeFileSync(`${gw.dir}/bad.pem`, "not a certificate\n");
  gw.rewrite(`tls_cert "${gw.dir}/bad.pem"\ntls_key "${gw.dir}/bad.pem"`);
  const from = heard.length;
  await gw.reload("reload failed: a new worker cannot start");
  const reloading = await wait(/^RELOADING=1/, from);
  const ready = await wait(/^READY=1/, reloading + 1);
  const status = await wait(/^STATUS=Reload failed: a new worker cannot start$/, reloading + 1);
  await wait(new RegExp(`^STATUS=serving \\d+ connections, generation ${gen}; ` +
    "last reload failed: a new worker cannot start$"), Math.max(ready, status) + 1);
  gw.rewrite("ping_interval 23s");
  await gw.reload(`reloaded: generation ${gen + 1}`);
});

test("SIGTERM: STOPPING=1", async () => {
  const from = heard.length;
  const code = await gw.stop("SIGTERM");
  await wait(/^STOPPING=1/, from);
  assert.equal(code?.code ?? code, 0);
  gw = null;
});
