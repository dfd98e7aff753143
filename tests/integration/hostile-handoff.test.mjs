// Guards issue 11 (hostile clients), item 13: a connection that sends part
// of a request line and stalls must not make its worker spin.  The hand-off
// peeks (MSG_PEEK) at the request line before lws reads a byte; a partial
// line kept the socket readable, so its ev_io fired on every loop iteration
// for up to 4 s per connection.  The worker's CPU use is read from
// /proc/<pid>/stat as a ratio of CPU ticks to elapsed ticks while such
// connections keep arriving: a spinning worker uses about one tick per
// tick, an idle one almost none.  A counter would only count what the fix
// does (its retries); the CPU ratio measures the harm itself, and is not a
// wall timing.  A normal client keeps being served throughout.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { children, client, sleep, startGateway, token } from "./lib.mjs";

const STALLED = 20;		// connections per wave
const WAVES = 4;		// one every WAVE_MS, so that the window is covered
const WAVE_MS = 1000;

let gw;
before(async () => { gw = await startGateway({ workers: 1 }); });
after(async () => { await gw?.shutdown(); });

// utime + stime of a process, in clock ticks (/proc/<pid>/stat, fields 14, 15).
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

function stall(port) {
  const s = tcpConnect(port, "127.0.0.1", () => {
    s.write("GET /socket.io/?EIO=4&transport=polling&sid=");	// no end of line
  });
  s.on("error", () => {});
  return s;
}

test("connections stalled in the middle of their request line do not make the worker spin",
  { timeout: 60000 }, async () => {
    const [worker] = children(gw.proc.pid);
    assert.ok(worker, "a worker");
    const c = client(gw.url, { auth: { token: token("handoff-ok") }, transports: ["websocket"] });
    const open = [];
    try {
      await c.wait("connected");
      const t0 = cpuTicks(worker);
      const w0 = Date.now();
      for (let i = 0; i < WAVES; i++) {
        for (let j = 0; j < STALLED; j++) open.push(stall(gw.port));
        // The worker still answers while they wait.
        const ack = await c.socket.timeout(10000).emitWithAck("typing", { receiver_id: "nobody" });
        assert.equal(ack.ok, true);
        await sleep(WAVE_MS);
      }
      const used = cpuTicks(worker) - t0;
      const elapsed = ((Date.now() - w0) / 1000) * 100;	// USER_HZ is 100
      assert.ok(used < elapsed * 0.3,
        `the worker used ${used} CPU ticks in ${Math.round(elapsed)} ticks (spinning?)`);
      const ack = await c.socket.timeout(10000).emitWithAck("typing", { receiver_id: "nobody" });
      assert.equal(ack.ok, true, "the client is still served");
    } finally {
      for (const s of open) s.destroy();
      c.close();
    }
  });
