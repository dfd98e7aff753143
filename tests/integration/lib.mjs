// Shared helpers of the integration tests: the one launcher of a real
// socket-gatewayd on a loopback port with its own configuration
// (startGateway), the conformance server, HS256 tokens, fresh-connection
// HTTP probes, the worker that owns a session, and the one recorder of a
// real socket.io-client's events (record, client).  gwlib.mjs and
// masterlib.mjs add what only the gateway-* or master-* tests need.
import { execFileSync, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
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

// A self-signed certificate for 127.0.0.1 and localhost, made now with
// openssl(1) in dir; returns {cert, key, pem}.
export function makeCert(dir) {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes",
    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
  { stdio: ["ignore", "ignore", "pipe"] });
  return { cert, key, pem: readFileSync(cert) };
}

// The configuration file of a test gateway: listen, run_dir, spool_dir and
// the secret, then the test's own lines.
export function confText(port, dir, conf = "") {
  return `listen 127.0.0.1:${port}\nrun_dir "${dir}"\n` +
    `spool_dir "${dir}/spool"\njwt_secret "${SECRET}"\n${conf}\n`;
}

// Start socket-gatewayd on a free loopback port, with the test's
// configuration lines (conf) after the fixed ones (confText), in dir (a new
// temporary directory unless given; shutdown() removes it).
//   workers: passed as -w unless null (then the file's `workers` rules,
//     and a reload may change it);
//   env: added to the environment; args: more command-line arguments;
//   tls: make a certificate (makeCert) and set tls_cert and tls_key;
//   launcher(port): a command that executes socket-gatewayd in its own
//     process (prlimit, socket-activate), put before it;
//   ready: what "started" means, waited for up to readyMs:
//     "health"  /health answers 200 (a worker serves; the default),
//     "http"    /health answers at all (a test of what it answers),
//     "master"  the master's ready line (every worker serves),
//     false     the process was spawned.
// Resolves {url, port, proc, pid, logs, file, dir, ca, tls, exited, ...}:
// exited resolves {code, sig} (exitedAt is the time of the exit), logs
// holds the log lines (JSON, or {raw}) each with the time it was `seen`.
export async function startGateway({ workers = 4, conf = "", env = {}, args = [],
  tls = false, ready = "health", readyMs = 15000, launcher = null, dir } = {}) {
  const port = await freePort();
  dir ??= mkdtempSync(join(tmpdir(), "sgw-test-"));
  const file = join(dir, "socket-gateway.conf");
  let ca = null, fixed = "";
  if (tls) {
    const c = makeCert(dir);
    ca = c.pem;
    fixed = `tls_cert "${c.cert}"\ntls_key "${c.key}"\n`;
  }
  writeFileSync(file, confText(port, dir, fixed + conf));
  const argv = ["-c", file, ...(workers === null ? [] : ["-w", String(workers)]), ...args];
  const cmd = launcher ? [...launcher(port), SGWD, ...argv] : [SGWD, ...argv];
  const logs = [];
  const proc = spawn(cmd[0], cmd.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  track(proc);
  eachLine(proc.stderr, (line) => {
    let l;
    try { l = JSON.parse(line); } catch { l = { raw: line }; }
    l.seen = Date.now();
    logs.push(l);
  });
  let failed = null;
  const exited = new Promise((r) => {
    proc.on("exit", (code, sig) => { gw.exitedAt = Date.now(); r({ code, sig }); });
    proc.on("error", (e) => { failed = `${cmd[0]}: ${e.message}`; r({ code: null, sig: null }); });
  });
  const url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  const gw = {
    url, port, proc, pid: proc.pid, logs, file, dir, ca, tls, exited, exitedAt: null,
    // Lines of the log whose msg contains text (or matches a RegExp), at
    // or after index from.
    logged(text, from = 0) {
      return logs.slice(from).filter((l) => {
        const m = l.msg ?? l.raw ?? "";
        return text instanceof RegExp ? text.test(m) : m.includes(text);
      });
    },
    // Wait for such a line; resolves the line.
    async waitLog(text, ms = 10000, from = 0) {
      return until(() => {
        const l = this.logged(text, from)[0];
        if (l) return l;
        if (proc.exitCode !== null || proc.signalCode !== null)
          throw new Error(`gateway exited while waiting for log "${text}":\n${this.tail()}`);
        return null;
      }, ms, `log line "${text}"\n${this.tail()}`);
    },
    tail(n = 15) {
      return logs.slice(-n).map((l) => JSON.stringify(l)).join("\n");
    },
    // Replace the configuration file (the test lines after the fixed ones).
    rewrite(text) {
      writeFileSync(file, confText(port, dir, fixed + text));
    },
    append(text) {
      appendFileSync(file, text);
    },
    signal(sig) {
      process.kill(proc.pid, sig);
    },
    // SIGHUP, then wait for the outcome; resolves the log line.
    async reload(expect = "reloaded: generation", ms = 15000) {
      const from = logs.length;
      process.kill(proc.pid, "SIGHUP");
      return this.waitLog(expect, ms, from);
    },
    ...stopper(proc, exited, dir),
  };
  if (ready === false) return gw;
  const what = { health: "/health to answer 200", http: "/health to answer",
    master: "the master's ready line" }[ready];
  if (what === undefined) throw new Error(`startGateway: ready ${ready}?`);
  await until(async () => {
    if (failed) throw new Error(`cannot start the gateway: ${failed} (set SGWD)`);
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`socket-gatewayd exited at start (status ${proc.exitCode}):\n${gw.tail()}`);
    if (ready === "master") return gw.logged("socket-gatewayd ready").length > 0;
    const r = await probe(url, "/health", { ca });
    return ready === "http" ? r.error === undefined : r.status === 200;
  }, readyMs, `${what}\n${gw.tail()}`);
  return gw;
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
function stopper(proc, exited, dir) {
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
  // Stopped first: a master that saw its workers die before its own
  // SIGKILL would respawn one that nobody then kills.
  try { process.kill(pid, "SIGSTOP"); } catch { /* gone */ }
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

// One HTTP(S) request on a connection of its own (agent: false, so it is
// accepted anew by whichever worker the kernel picks; fetch would reuse
// one connection).  Never rejects: resolves {status, body, headers} or
// {error} (a connection failure or no answer within ms).
export function probe(url, path = "/health", { headers = {}, ms = 5000, ca, agent = false,
  method = "GET", rejectUnauthorized, localAddress } = {}) {
  return new Promise((resolve) => {
    const u = new URL(path, url);
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, {
      method, agent, headers, ca, localAddress,
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
    }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body, headers: res.headers }));
      res.on("error", (e) => resolve({ error: e.code ?? e.message }));
    });
    req.setTimeout(ms, () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (e) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

// GET path as JSON on a fresh connection; rejects on anything but 200.
export async function json(url, path = "/metrics", opts = {}) {
  const r = await probe(url, path, opts);
  if (r.error) throw new Error(`GET ${path}: ${r.error}`);
  if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}: ${r.body}`);
  try {
    return JSON.parse(r.body);
  } catch (e) {
    throw new Error(`GET ${path}: ${e.message}: ${r.body}`);
  }
}

// json() with request headers, and 10 s for the answer.
export function getJSON(url, path = "/metrics", headers = {}) {
  return json(url, path, { headers, ms: 10000 });
}

// The Engine.IO handshake of a raw polling request: the open packet's JSON.
export async function handshake(url, opts = {}) {
  const r = await probe(url, "/socket.io/?EIO=4&transport=polling", opts);
  if (r.error) throw new Error(`handshake: ${r.error}`);
  if (r.status !== 200 || r.body[0] !== "0")
    throw new Error(`handshake: HTTP ${r.status}: ${r.body}`);
  return JSON.parse(r.body.slice(1));
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The worker that owns an Engine.IO session (src/proto/sid.c): the sid's
// first two base64url characters are the 12-bit worker id, generation
// (low 4 bits) << 8 | slot.
export function workerOfSid(sid) {
  const hi = B64.indexOf(sid?.[0]), lo = B64.indexOf(sid?.[1]);
  if (hi < 0 || lo < 0) throw new Error(`not a gateway sid: ${sid}`);
  const wid = hi << 6 | lo;
  return { wid, slot: wid & 0xff, generation: wid >> 8 };
}

// The worker of a recorded client (record()) or of a connected socket.
export function workerOf(c) {
  return workerOfSid(c.sid ?? c.socket?.io.engine.id ?? c.io.engine.id);
}

// A socket.io-client that records everything from the start (the gateway
// emits `connected` in the same packet batch as the CONNECT answer, before
// a listener added after "connect" could see it).  Does not wait.
export function client(url, opts = {}) {
  return record(io(url, { reconnection: false, forceNew: true, ...opts }));
}

// The socket's lifecycle events (socket.io-client's reserved names).
const LIFE = ["connect", "connect_error", "disconnect"];

// The recorder of client(), around a socket made elsewhere (for instance
// manager.socket("/custom") to share a connection, or gwlib's device() of
// a user, named in messages); call before it connects.  Every event is
// recorded as {name, args, at}, with the manager's errors and reconnect
// attempts as manager_error and reconnect_attempt.
export function record(socket, user = null) {
  const events = [];
  const push = (name) => (...args) => events.push({ name, args, at: Date.now() });
  const who = user === null ? "" : `${user}: `;
  const rec = {
    socket,
    user,
    events,
    // The Engine.IO session id, kept after a close.
    sid: socket.io.engine?.id ?? null,
    // Events recorded with this name (and whose first argument matches pred).
    all(name, pred = () => true) {
      return events.filter((e) => e.name === name && pred(e.args[0]));
    },
    // The first argument of those events.
    args(name, pred) {
      return this.all(name, pred).map((e) => e.args[0]);
    },
    // The lifecycle event after which nothing more can come, if any: a
    // connect_error before any connect or, without reconnection, the
    // disconnect or connect_error that followed the last connect.
    ended() {
      const life = events.filter((e) => LIFE.includes(e.name));
      if (!life.some((e) => e.name === "connect"))
        return life.find((e) => e.name === "connect_error") ?? null;
      const last = life.at(-1);
      return last.name === "connect" || socket.io.reconnection() ? null : last;
    },
    // Wait until the n-th event of this name (matching pred) was recorded;
    // resolves its args.  Rejects at once if the socket ended before it.
    async wait(name, { n = 1, ms = 10000, pred = () => true } = {}) {
      const got = await until(() => {
        const l = this.all(name, pred);
        if (l.length >= n) return l[n - 1];
        const end = this.ended();
        if (end && end.name !== name)
          throw new Error(`${who}${end.name} while waiting for ${name}: ` +
            `${end.args[0]?.message ?? end.args[0]}`);
        return null;
      }, ms, `${who}event ${name} #${n} (transport ${socket.io.engine?.transport?.name}, ` +
        `recorded: ${events.map((e) => e.name).join(",").slice(-300)})`);
      return got.args;
    },
    // The position of the next event to be recorded.
    mark() {
      return events.length;
    },
    // Wait for an event of this name (matching pred) recorded at or after
    // mark; resolves its args.
    async next(mark, name, { ms = 10000, pred = () => true } = {}) {
      const e = await until(() => events.slice(mark).find((x) =>
        x.name === name && pred(x.args[0])), ms,
        `${who}${name} after #${mark} (recorded: ` +
        `${events.slice(mark).map((x) => x.name).join(",").slice(-300)})`);
      return e.args;
    },
    // The gateway's greeting has arrived: connected and online_users.
    async ready(ms = 15000) {
      await this.wait("online_users", { ms });
      return this;
    },
    // The worker owning this session (once it opened): its id, slot
    // (0..255) and generation.
    get wid() {
      return workerOfSid(this.sid).wid;
    },
    get slot() {
      return workerOfSid(this.sid).slot;
    },
    // An acked emit; resolves the ack's argument.
    ack(event, ...args) {
      return socket.timeout(15000).emitWithAck(event, ...args);
    },
    close() {
      socket.close();
    },
  };
  socket.io.on("open", () => { rec.sid = socket.io.engine.id; });
  socket.onAny((name, ...args) => events.push({ name, args, at: Date.now() }));
  for (const name of LIFE) socket.on(name, push(name));
  socket.io.on("error", push("manager_error"));
  socket.io.on("reconnect_attempt", push("reconnect_attempt"));
  return rec;
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
