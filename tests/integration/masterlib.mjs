// Helpers of the master-process tests (tests/integration/master-*.test.mjs,
// issue 5): a socket-gatewayd started with the options those tests need
// (TLS, no -w so that a reload may change `workers`, the master's exit
// status kept), fresh-connection HTTP probes that count connection failures
// apart from HTTP statuses, the worker a Socket.IO client landed on, and
// the process table of the master from /proc.
//
// The process helpers (kill, track, line reader, stop and shutdown) are
// lib.mjs's.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import { SECRET, SGWD, children, deadline, eachLine, freePort, sleep, stopper, token, track,
  until } from "./lib.mjs";

export { SECRET, SGWD, children, deadline, freePort, sleep, token, until };

// A promise, or a rejection naming `what` after ms.
export function within(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(t));
}

// Is pid a live process (not gone, not a zombie)?
export function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

// The master's workers as /proc sees them, and the end of the log: for
// the message of a failure that may be a stuck worker.
export function diagnose(gw, lines = 20) {
  const ps = children(gw.pid).map((p) => {
    try {
      const st = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      let wchan = "?";
      try { wchan = readFileSync(`/proc/${p}/wchan`, "utf8"); } catch { /* not allowed */ }
      return `pid ${p}: state ${f[0]}, utime ${f[11]}, stime ${f[12]}, wchan ${wchan}`;
    } catch {
      return `pid ${p}: gone`;
    }
  });
  return `workers: ${ps.join("; ")}\nlog:\n${gw.tail(lines)}`;
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

// Start socket-gatewayd.  workers: passed as -w unless null (then the
// file's `workers` rules, and a reload may change it); tls: make a
// certificate (makeCert) and set tls_cert and tls_key; ready: wait for the
// master's "ready" log line (false: only for the process to start).
// Resolves {url, port, proc, pid, logs, file, dir, ca, exited, ...}.
export async function startMaster({ workers = 4, conf = "", env = {}, args = [],
  tls = false, ready = true, readyMs = 15000, launcher = null } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sgw-master-"));
  const file = join(dir, "socket-gateway.conf");
  let ca = null, fixed = "";
  if (tls) {
    const c = makeCert(dir);
    ca = c.pem;
    fixed = `tls_cert "${c.cert}"\ntls_key "${c.key}"\n`;
  }
  writeFileSync(file, confText(port, dir, fixed + conf));
  const argv = ["-c", file, ...(workers === null ? [] : ["-w", String(workers)]), ...args];
  const logs = [];
  // launcher(port): a command that executes socket-gatewayd (same pid).
  const cmd = launcher ? [...launcher(port), SGWD, ...argv] : [SGWD, ...argv];
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
  const exited = new Promise((r) => proc.on("exit", (code, sig) =>
    r({ code, sig, at: Date.now() })));
  const url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  const gw = {
    url, port, proc, pid: proc.pid, logs, file, dir, ca, exited, tls,
    // Lines of the log whose msg contains text (or matches a RegExp).
    logged(text, from = 0) {
      return logs.slice(from).filter((l) => {
        const m = l.msg ?? l.raw ?? "";
        return text instanceof RegExp ? text.test(m) : m.includes(text);
      });
    },
    // Wait for such a line, at or after index from; resolves the line.
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
  if (ready) {
    await until(() => {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`socket-gatewayd exited at start:\n${gw.tail()}`);
      return gw.logged("socket-gatewayd ready").length > 0;
    }, readyMs, `the master's ready line\n${gw.tail()}`);
  }
  return gw;
}

// One HTTP(S) request on a connection of its own (agent: false, so it is
// accepted anew by whichever worker the kernel picks).  Never rejects:
// resolves {status, body, headers} or {error} (a connection failure or no
// answer within ms).
export function probe(url, path = "/health", { headers = {}, ms = 5000, ca, agent = false,
  method = "GET", rejectUnauthorized } = {}) {
  return new Promise((resolve) => {
    const u = new URL(path, url);
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, {
      method, agent, headers, ca, ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
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
  return JSON.parse(r.body);
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

// The worker that owns an Engine.IO session: the sid's first two base64url
// characters are the 12-bit worker id, generation (low 4 bits) << 8 | slot.
export function workerOfSid(sid) {
  const wid = B64.indexOf(sid[0]) << 6 | B64.indexOf(sid[1]);
  return { wid, slot: wid & 0xff, generation: wid >> 8 };
}

// The worker of a client (see client()) or of a connected socket.
export function workerOf(c) {
  return workerOfSid(c.sid ?? c.socket?.io.engine.id ?? c.io.engine.id);
}

// A Socket.IO client recording its events from the start (`connected`
// comes in the same batch as the CONNECT answer).  Does not wait.
export function client(url, opts = {}) {
  const socket = io(url, { reconnection: false, forceNew: true, ...opts });
  const events = [];
  const rec = {
    socket,
    events,
    sid: null,		// the Engine.IO session id, kept after a close
    all(name) {
      return events.filter((e) => e.name === name);
    },
    // Resolves the args of the first `name`; rejects on connect_error or
    // a disconnect before it, or after ms.
    wait(name, ms = 10000) {
      return until(() => {
        const e = events.find((x) => x.name === name);
        if (e) return e;
        const bad = events.find((x) => x.name === "connect_error" ||
          (x.name === "disconnect" && name !== "disconnect"));
        if (bad) throw new Error(`${bad.name} while waiting for ${name}: ` +
          `${bad.args[0]?.message ?? bad.args[0]}`);
        return null;
      }, ms, `event ${name}`).then((e) => e.args);
    },
    close() {
      socket.close();
    },
  };
  socket.io.on("open", () => { rec.sid = socket.io.engine.id; });
  socket.onAny((name, ...args) => events.push({ name, args, at: Date.now() }));
  for (const name of ["connect", "connect_error", "disconnect"])
    socket.on(name, (...args) => events.push({ name, args, at: Date.now() }));
  return rec;
}

// n clients for users `${prefix}${i}`, connected in batches of `batch`
// (each batch waits for `connected`); rejects if one fails.
export async function connectMany(url, n, { prefix = "user-", batch = 25, opts = {}, ms = 20000 } = {}) {
  const cs = [];
  try {
    for (let i = 0; i < n; i += batch) {
      const part = [];
      for (let j = i; j < Math.min(n, i + batch); j++)
        part.push(client(url, { auth: { token: token(`${prefix}${j}`) }, ...opts }));
      cs.push(...part);
      await Promise.all(part.map((c) => c.wait("connected", ms)));
    }
  } catch (e) {
    for (const c of cs) c.close();
    throw e;
  }
  return cs;
}

// A count per key of an array's elements.
export function histogram(xs, key) {
  const h = new Map();
  for (const x of xs) {
    const k = key(x);
    h.set(k, (h.get(k) ?? 0) + 1);
  }
  return new Map([...h.entries()].sort((a, b) => a[0] - b[0]));
}
