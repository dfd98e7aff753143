// Helpers of the master-process tests (tests/integration/master-*.test.mjs,
// issue 5): a promise with a deadline, whether a process lives, a stuck
// worker's diagnosis, many clients connected in batches, and a histogram.
//
// The gateway (startGateway with ready: "master"), the recorded clients,
// the probes and the worker of a sid are lib.mjs's.
import { readFileSync } from "node:fs";
import { children, client, token } from "./lib.mjs";

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
      await Promise.all(part.map((c) => c.wait("connected", { ms })));
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
