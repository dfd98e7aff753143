// Guards issue 11 (hostile clients): items 16 (the relay and hand-off
// sockets accept only this gateway's own workers: a local process is
// refused, counted, logged at a bounded rate, and injects nothing), 17 (a
// token without exp is refused; short HS secrets are refused at -t), 18
// (CORS: Vary: Origin, * with credentials refused at -t; status_allow keeps
// /health and /metrics to listed addresses) and 19 (a second instance on
// the same run_dir exits 1 naming the first's pid; a worker without a bus
// is an error in /health and a gauge in /metrics).
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { device, online } from "./gwlib.mjs";
import {
  SECRET, SGWD, deadline, freePort, getJSON, killTree, probe, sleep, startGateway, token, track,
  until,
} from "./lib.mjs";

const SENDFD = process.env.SENDFD ?? join(dirname(SGWD), "tests/systemd/sendfd");

// Worker wid's relay ('w') or hand-off ('h') socket: a path in run_dir, or
// on a gateway from before issue 11.16 the abstract name after the
// master's pid ("@" for sendfd, "\0" for node).
function addr(gw, tag, wid, at = "\0") {
  const p = join(gw.dir, `${tag === "w" ? "relay" : "handoff"}-${wid}.sock`);
  return existsSync(p) ? p : `${at}sgw.${gw.proc.pid}.${tag}${wid}`;
}

// GET from a given local address (opts.localAddress); resolves {status,
// headers, body}, or {error}.
function getFrom(url, path, opts = {}) {
  return probe(url, path, { ms: 10000, ...opts });
}

describe("relay and hand-off sockets accept only the gateway's workers (11.16)", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 2 }); });
  after(() => gw?.shutdown());

  test("a local process on the relay socket is refused and cannot close a client's session",
    async () => {
      const d = await online(gw.url, "victim", { transports: ["polling"] });
      try {
        const wid = d.wid;
        // A relayed POST of the close packet "1" for the victim's sid,
        // then answers for relayed polls that no worker asked for.
        const out = execFileSync(SENDFD, ["relay", addr(gw, "w", wid, "@"), d.sid],
          { encoding: "utf8", timeout: 20000 }).trim();
        // Bounded wait for what must not happen: the session closing.
        await sleep(1500);
        assert.equal(d.all("disconnect").length, 0, "the victim was disconnected");
        assert.ok(d.socket.connected);
        assert.equal(out, "closed", "the gateway kept the connection of a process that is not its worker");
        const m = await until(async () => {
          const x = await getJSON(gw.url, "/metrics");
          return x.totals.peers_refused >= 1 ? x : null;
        }, 5000, "peers_refused in /metrics");
        assert.ok(m.totals.peers_refused >= 1);
        assert.ok(gw.logged("relay: refused pid").length >= 1);
      } finally {
        d.close();
      }
    });

  test("many refused connections: all counted, logged at most once per 10 s per worker",
    async () => {
      const before = (await getJSON(gw.url, "/metrics")).totals.peers_refused;
      const lines = gw.logged("refused pid").length;
      const wid = 256;			// slot 0, generation 1
      for (let i = 0; i < 20; i++) {
        const s = createConnection(addr(gw, "w", wid));
        s.on("error", () => {});
        await new Promise((r) => { s.on("close", r); setTimeout(r, 2000).unref(); });
        s.destroy();
      }
      await until(async () => (await getJSON(gw.url, "/metrics")).totals.peers_refused >=
        before + 20, 5000, "20 more peers_refused");
      assert.ok(gw.logged("refused pid").length - lines <= 2,
        `${gw.logged("refused pid").length - lines} log lines for 20 refusals`);
    });

  test("a descriptor passed to a hand-off socket by a local process is closed unserved",
    async () => {
      const before = (await getJSON(gw.url, "/metrics")).totals.peers_refused;
      for (const kind of ["P", "F"]) {
        const out = execFileSync(SENDFD, [addr(gw, "h", 256, "@"), kind],
          { encoding: "utf8", timeout: 20000 }).trim();
        assert.equal(out, "closed", `kind ${kind}: ${out}`);
      }
      await until(async () => (await getJSON(gw.url, "/metrics")).totals.peers_refused >=
        before + 2, 5000, "2 more peers_refused");
    });
});

describe("one run_dir, one instance (11.19)", () => {
  test("a second gateway on the same run_dir exits 1 naming the first's pid", async () => {
    const a = await startGateway({ workers: 1 });
    const dir = mkdtempSync(join(tmpdir(), "sgw-trust-b-"));
    try {
      const port = await freePort();
      const file = join(dir, "b.conf");
      writeFileSync(file, `listen 127.0.0.1:${port}\nrun_dir "${a.dir}"\n` +
        `spool_dir "${dir}/spool"\njwt_secret "${SECRET}"\n`);
      const b = spawn(SGWD, ["-c", file, "-w", "2"], { stdio: ["ignore", "ignore", "pipe"] });
      track(b);
      let err = "";
      b.stderr.on("data", (x) => { err += x; });
      const r = await Promise.race([
        new Promise((res) => b.on("exit", (code) => res({ code }))),
        deadline(10000).then(() => null),
      ]);
      if (r === null) killTree(b.pid);
      assert.equal(r?.code, 1, `the second instance ran: ${err.slice(-400)}`);
      assert.ok(err.includes(`run_dir ${a.dir} is in use by another socket-gatewayd ` +
        `(pid ${a.proc.pid})`), err);
      assert.equal(readFileSync(join(a.dir, "socket-gatewayd.pid"), "utf8").trim(),
        String(a.proc.pid));
      assert.equal((await getJSON(a.url, "/health")).status, "ok");
    } finally {
      await a.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a worker without a bus: /health says error (503), /metrics shows it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sgw-trust-"));
    // Worker 1 (slot 1, generation 1) cannot listen on its bus address.
    mkdirSync(join(dir, "bus-257.ipc"));
    const gw = await startGateway({ workers: 2, dir, ready: "http" });
    try {
      const h = await until(async () => {
        const r = await fetch(`${gw.url}/health`);
        const j = await r.json();
        return j.workers === 2 && j.isolatedWorkers >= 1 ? { status: r.status, j } : null;
      }, 15000, "/health to report the isolated worker");
      assert.equal(h.status, 503);
      assert.equal(h.j.status, "error");
      assert.equal(h.j.isolatedWorkers, 1);
      const m = await (await fetch(`${gw.url}/metrics`)).json();
      assert.equal(m.isolated_workers, 1);
      assert.deepEqual(m.workers.filter((w) => w.isolated).map((w) => w.worker), [1]);
      const text = await (await fetch(`${gw.url}/metrics`,
        { headers: { accept: "text/plain" } })).text();
      assert.match(text, /^socketgw_isolated\{worker="1"\} 1$/m);
      assert.match(text, /^socketgw_isolated\{worker="0"\} 0$/m);
      assert.ok(gw.logged("no bus").some((l) => l.level === "error"));
    } finally {
      await gw.shutdown();
    }
  });
});

describe("tokens without exp (11.17)", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 1 }); });
  after(() => gw?.shutdown());

  test("a token with no exp is refused by default", async () => {
    const d = device(gw.url, null, { auth: { token: token("forever", { exp: undefined }) } });
    try {
      const [err] = await d.wait("connect_error");
      assert.match(err.message, /no expiry/);
    } finally {
      d.close();
    }
  });

  test("-t refuses an HS secret under 32 bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "sgw-trust-"));
    try {
      writeFileSync(join(dir, "c.conf"), 'jwt_secret "short-secret"\n');
      const env = { ...process.env };
      delete env.JWT_SECRET;
      const r = spawnSync(SGWD, ["-t", "-c", join(dir, "c.conf")], { encoding: "utf8", env });
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, /jwt_secret is 12 bytes; an HS256\/384\/512 secret must be at least 32 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("CORS and the status pages (11.18)", () => {
  test("-t refuses cors_origin * with cors_credentials yes", () => {
    const dir = mkdtempSync(join(tmpdir(), "sgw-trust-"));
    try {
      writeFileSync(join(dir, "c.conf"), `jwt_secret "${SECRET}"\ncors_credentials yes\n`);
      const env = { ...process.env };
      delete env.CORS_ORIGIN;
      const r = spawnSync(SGWD, ["-t", "-c", join(dir, "c.conf")], { encoding: "utf8", env });
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, /cors_origin \* with cors_credentials yes would let any web site/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("answers say Vary: Origin; a listed origin with credentials, others not", async () => {
    const gw = await startGateway({
      workers: 1, conf: "cors_origin https://a.example\ncors_credentials yes\n",
    });
    try {
      for (const path of ["/health", "/socket.io/?EIO=4&transport=polling"]) {
        const good = await getFrom(gw.url, path, { headers: { origin: "https://a.example" } });
        assert.match(good.headers.vary ?? "", /Origin/i, path);
        assert.equal(good.headers["access-control-allow-origin"], "https://a.example");
        assert.equal(good.headers["access-control-allow-credentials"], "true");
        const evil = await getFrom(gw.url, path, { headers: { origin: "https://evil.example" } });
        assert.match(evil.headers.vary ?? "", /Origin/i, path);
        assert.equal(evil.headers["access-control-allow-origin"], undefined);
      }
    } finally {
      await gw.shutdown();
    }
  });

  test("status_allow: a client not listed gets 403 and is counted; others unchanged", async () => {
    const gw = await startGateway({ workers: 1, conf: 'status_allow "127.0.0.2, ::1"\n',
      ready: "http" });
    try {
      for (const path of ["/health", "/metrics"]) {
        const r = await getFrom(gw.url, path);
        assert.equal(r.status, 403, `${path}: ${r.body}`);
      }
      const ok = await getFrom(gw.url, "/health", { localAddress: "127.0.0.2" });
      assert.equal(ok.status, 200, ok.body);
      // The Engine.IO endpoint is not concerned.
      const hs = await getFrom(gw.url, "/socket.io/?EIO=4&transport=polling");
      assert.equal(hs.status, 200);
      const m = await until(async () => {
        const r = await getFrom(gw.url, "/metrics", { localAddress: "127.0.0.2" });
        const j = JSON.parse(r.body);
        return j.totals.status_refused >= 2 ? j : null;
      }, 5000, "status_refused in /metrics");
      assert.ok(m.totals.status_refused >= 2);
    } finally {
      await gw.shutdown();
    }
  });
});
