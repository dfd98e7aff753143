// Shared helpers of the integration tests: a real socket-gatewayd started
// on a loopback port with its own configuration, HS256 tokens, and the
// real socket.io-client.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";

export const SECRET = "integration-test-secret-0123456789abcdef";
export const SGWD = process.env.SGWD ?? "../socket-gatewayd";
export const CONFORMANCE = process.env.CONFORMANCE ??
  "../tests/conformance/conformance-server";

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function b64url(x) {
  return Buffer.from(x).toString("base64url");
}

// A JWT signed with HS256 (or any alg/secret given), claims merged in.
export function token(sub, claims = {}, { secret = SECRET, alg = "HS256" } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg, typ: "JWT" }));
  const body = b64url(JSON.stringify({ sub, iat: now, exp: now + 3600, ...claims }));
  if (alg === "none") return `${head}.${body}.`;
  const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[alg];
  const sig = createHmac(hash, secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// A sleep that does not keep the process alive (for races with a deadline).
export function deadline(ms) {
  return new Promise((r) => setTimeout(r, ms).unref());
}

// Poll until fn() is truthy or the time is up.
export async function until(fn, ms = 5000, what = "condition") {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

// Start socket-gatewayd with extra config lines; resolves when /health answers.
export async function startGateway({ workers = 4, conf = "", env = {} } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sgw-test-"));
  const file = join(dir, "socket-gateway.conf");
  writeFileSync(file, `listen 127.0.0.1:${port}\nrun_dir "${dir}"\n` +
    `spool_dir "${dir}/spool"\njwt_secret "${SECRET}"\n${conf}\n`);
  const logs = [];
  const proc = spawn(SGWD, ["-c", file, "-w", String(workers)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  eachLine(proc.stderr, (line) => {
    try { logs.push(JSON.parse(line)); } catch { logs.push({ raw: line }); }
  });
  let failed = null;
  const exited = new Promise((r) => {
    proc.on("exit", (code, sig) => r({ code, sig }));
    proc.on("error", (e) => { failed = `${SGWD}: ${e.message}`; r({ code: null, sig: null }); });
  });
  track(proc);
  const url = `http://127.0.0.1:${port}`;
  await until(async () => {
    if (failed) throw new Error(`cannot start the gateway: ${failed} (set SGWD)`);
    if (proc.exitCode !== null)
      throw new Error(`the gateway exited with status ${proc.exitCode}: ` +
        JSON.stringify(logs.slice(-5)));
    try { return (await fetch(`${url}/health`)).ok; } catch { return false; }
  }, 10000, "the gateway to answer /health");
  return {
    url, port, proc, logs, file, dir, exited,
    ...stopper(proc, exited, dir),
    // Lines of the log whose msg contains text.
    logged(text) {
      return logs.filter((l) => (l.msg ?? l.raw ?? "").includes(text));
    },
  };
}

// Calls fn with each line a readable stream (a child's stdout or
// stderr) writes, without its newline.
export function eachLine(stream, fn) {
  stream.setEncoding("utf8");
  let buf = "";
  stream.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      fn(line);
    }
  });
}

// stop(signal) and shutdown(ms) of a started socket-gatewayd: shutdown
// is stop() but, past ms, kills the master and its workers, then removes
// its directory; for after().
export function stopper(proc, exited, dir) {
  return {
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    async shutdown(ms = 15000) {
      const r = await Promise.race([this.stop(), deadline(ms).then(() => null)]);
      if (r === null) killTree(proc.pid);
      await exited;
      rmSync(dir, { recursive: true, force: true });
      return r;
    },
  };
}

// Children of a process (the gateway's workers), from /proc.
export function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function killTree(pid) {
  for (const c of children(pid)) killTree(c);
  try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
}

// Whatever a test file started is killed when it exits, even on failure.
const spawned = new Set();
export function track(proc) {
  spawned.add(proc);
  proc.on("exit", () => spawned.delete(proc));
}
process.on("exit", () => {
  for (const p of spawned) killTree(p.pid);
});

// The conformance server (tests/conformance/server.c) on a free port;
// resolves when it answers a polling handshake.
export async function startConformance({ engineio = false } = {}) {
  const port = await freePort();
  const args = engineio ? ["-e", "-p", String(port)] : ["-p", String(port)];
  const proc = spawn(CONFORMANCE, args, { stdio: ["ignore", "ignore", "pipe"] });
  const logs = [];
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (d) => logs.push(d));
  track(proc);
  let failed = null;
  const exited = new Promise((r) => {
    proc.on("exit", (code, sig) => r({ code, sig }));
    proc.on("error", (e) => { failed = `${CONFORMANCE}: ${e.message}`; r({ code: null, sig: null }); });
  });
  const url = `http://127.0.0.1:${port}`;
  const path = engineio ? "/engine.io/" : "/socket.io/";
  await until(async () => {
    if (failed) throw new Error(`cannot start the conformance server: ${failed} (set CONFORMANCE)`);
    if (proc.exitCode !== null) throw new Error(`conformance server exited: ${logs.join("")}`);
    try { return (await fetch(`${url}${path}?EIO=4&transport=polling`)).ok; } catch { return false; }
  }, 10000, "the conformance server to answer");
  return {
    url, port, proc, logs, exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const r = await Promise.race([exited, deadline(10000).then(() => null)]);
      if (r === null) killTree(proc.pid);
      return exited;
    },
  };
}

// GET url+path as JSON, on a new connection each time (so that repeated
// calls reach different workers; fetch would reuse one connection).
export function getJSON(url, path = "/metrics", headers = {}) {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${url}${path}`, { agent: false, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => {
        if (res.statusCode !== 200)
          return reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body}`));
        try { resolve(JSON.parse(body)); } catch (e) { reject(new Error(`GET ${path}: ${e.message}: ${body}`)); }
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.on("error", reject);
  });
}

// A socket.io-client that records everything from the start (the gateway
// emits `connected` in the same packet batch as the CONNECT answer, before
// a listener added after "connect" could see it).  Does not wait.
export function client(url, opts = {}) {
  return record(io(url, { reconnection: false, forceNew: true, ...opts }));
}

// The recorder of client(), around a socket made elsewhere (for instance
// manager.socket("/custom") to share a connection); call before it connects.
export function record(socket) {
  const events = [];
  const push = (name) => (...args) => events.push({ name, args, at: Date.now() });
  socket.onAny((name, ...args) => events.push({ name, args, at: Date.now() }));
  for (const name of ["connect", "connect_error", "disconnect"]) socket.on(name, push(name));
  socket.io.on("error", push("manager_error"));
  socket.io.on("reconnect_attempt", push("reconnect_attempt"));
  return {
    socket,
    events,
    // Events recorded with this name.
    all(name) {
      return events.filter((e) => e.name === name);
    },
    // Wait until the n-th (1-based) event of this name; resolves its args.
    async wait(name, { n = 1, ms = 10000 } = {}) {
      const seen = () => events.map((e) => e.name).join(",").slice(-300);
      const got = await until(() => {
        const l = this.all(name);
        if (l.length >= n) return l[n - 1];
        const err = this.all("connect_error").at(-1);
        if (name !== "connect_error" && err && this.all("connect").length === 0)
          throw new Error(`connect_error while waiting for ${name}: ${err.args[0]?.message}`);
        return null;
      }, ms, `event ${name} #${n} (transport ${socket.io.engine?.transport?.name}, ` +
        `recorded: ${seen()})`);
      return got.args;
    },
    close() {
      socket.close();
    },
  };
}

// A connected socket.io-client; rejects on connect_error.
export function connect(url, opts = {}) {
  const socket = io(url, { reconnection: false, forceNew: true, ...opts });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (e) => { socket.close(); reject(e); });
  });
}

export function once(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (...args) => { clearTimeout(t); resolve(args.length > 1 ? args : args[0]); });
  });
}
