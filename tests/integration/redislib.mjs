// A real redis-server for the cluster tests (issue 14): Debian's, on
// 127.0.0.1 and a free port, no persistence, in its own directory; it can
// be stopped, frozen and started again on the same port, the way a Redis
// restart looks to the gateways.  A missing redis-server fails the test:
// it is installed by packaging/install-deps.sh --tests.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, track, until } from "./lib.mjs";

export const REDIS_SERVER = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";

// One PING over a fresh connection: true when Redis answers PONG.
function ping(port, ms = 1000) {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(ms, () => done(false));
    s.on("error", () => done(false));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

export async function startRedis({ port, args = [] } = {}) {
  if (!existsSync(REDIS_SERVER))
    throw new Error(`${REDIS_SERVER} is missing: sh packaging/install-deps.sh --tests`);
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sgw-redis-"));
  const r = {
    port, dir, proc: null, logs: [],
    url: `redis://127.0.0.1:${port}/0`,
    async start() {
      const proc = spawn(REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "",
        "--daemonize", "no", ...args], { stdio: ["ignore", "pipe", "pipe"] });
      track(proc);
      proc.stdout.on("data", (d) => r.logs.push(d.toString()));
      proc.stderr.on("data", (d) => r.logs.push(d.toString()));
      r.proc = proc;
      await until(async () => {
        if (proc.exitCode !== null)
          throw new Error(`redis-server exited at start:\n${r.logs.join("").slice(-2000)}`);
        return ping(port);
      }, 10000, "redis-server to answer PING");
      return r;
    },
    // SIGKILL: what it held is gone, as in a crash.
    async stop() {
      const p = r.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((res) => p.once("exit", res));
      p.kill("SIGKILL");
      await gone;
    },
    async restart() {
      await r.stop();
      return r.start();
    },
    freeze() { r.proc.kill("SIGSTOP"); },
    thaw() { r.proc.kill("SIGCONT"); },
  };
  return r.start();
}
