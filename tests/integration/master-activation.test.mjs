// Guards issue 5 (master process): socket activation.  tests/systemd/
// socket-activate binds the port and executes socket-gatewayd with it as
// fd 3, LISTEN_FDS=1 and LISTEN_PID, as systemd does for a .socket unit.
// The gateway serves on that socket (the listen line is not bound), with
// every worker taking connections, and keeps it across a reload.  With
// ReusePort=yes each worker gets its own sibling socket; without, they
// share systemd's, and a warning says how to do better.  127.0.0.1 only.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { SGWD, client, json, startGateway, token, until, workerOf } from "./lib.mjs";

const ACTIVATE = process.env.SOCKET_ACTIVATE ?? join(dirname(SGWD), "tests/systemd/socket-activate");
const WORKERS = 3;
const gws = [];
after(async () => { for (const g of gws) await g.shutdown(); });

// Connect n clients one after another; the set of slots they reached and
// the generations of the workers that served them.
async function slotsReached(url, n, transport) {
  const slots = new Set(), generations = new Set();
  for (let i = 0; i < n; i++) {
    const c = client(url, { auth: { token: token(`activated-${i}`) }, transports: [transport] });
    try {
      await c.wait("connected");
      slots.add(workerOf(c).slot);
      generations.add(workerOf(c).generation);
    } finally {
      c.close();
    }
  }
  return { slots, generations };
}

for (const reuse of [true, false]) {
  test(`a socket from systemd${reuse ? " with ReusePort=yes" : ", without ReusePort"}: ` +
    "every worker serves on it, across a reload", async () => {
    const gw = await startGateway({ ready: "master", workers: WORKERS,
      launcher: (port) => [ACTIVATE, ...(reuse ? ["-r"] : []), "127.0.0.1", String(port)] });
    gws.push(gw);
    assert.equal(gw.logged("socket activation: 1 sockets from systemd").length, 1, gw.tail());
    assert.equal(gw.logged(`listening on 127.0.0.1:${gw.port} (socket from systemd)`).length, 1, gw.tail());
    assert.equal(gw.logged("share its accept queue").length, reuse ? 0 : 1, gw.tail());
    for (const transport of ["websocket", "polling"]) {
      const { slots, generations } = await slotsReached(gw.url, 24, transport);
      // The kernel spreads them (reuse) or the workers race for them:
      // either way more than one worker takes connections.
      assert.ok(slots.size >= 2, `${transport}: 24 clients reached only slots ${[...slots]}`);
      assert.deepEqual([...generations], [1]);
    }
    assert.equal((await json(gw.url, "/health")).status, "ok");
    await gw.reload("reloaded: generation 2");
    // Once the old generation has gone, the new one serves on systemd's
    // socket: every new client reaches a worker of generation 2, and more
    // than one of them takes connections.
    let m;
    await until(async () => {
      m = await json(gw.url, "/metrics");
      return m.workers.length === WORKERS && m.workers.every((w) => w.generation === 2 && !w.draining);
    }, 15000, "generation 2 alone in /metrics").catch((e) =>
      assert.fail(`${e.message}: ${JSON.stringify(m?.workers)}`));
    const { slots, generations } = await slotsReached(gw.url, 24, "websocket");
    assert.ok(slots.size >= 2, `after the reload, 24 clients reached only slots ${[...slots]}`);
    assert.deepEqual([...generations], [2], "new clients are served by generation 2");
  });
}
