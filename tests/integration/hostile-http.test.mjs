// Guards issue 11 (hostile clients), item 11: a request line or headers
// too long for the header buffer are answered 414 or 431 (they were closed
// without a word), a Bearer token as long as auth accepts (8,192 bytes)
// fits, and lws's log line for each such request is rate limited.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { client, getJSON, startGateway, token, until } from "./lib.mjs";

const EIO = "/socket.io/?EIO=4&transport=polling";

// One raw request; resolves with everything read until the server closes
// (or the guard's deadline).
function rawRequest(port, text, ms = 10000) {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    let data = "";
    const done = () => { clearTimeout(timer); sock.destroy(); resolve(data); };
    const timer = setTimeout(done, ms);
    sock.setEncoding("latin1");
    sock.on("data", (d) => { data += d; });
    sock.on("error", () => {});
    sock.on("close", done);
    sock.write(text);
  });
}

function status(resp) {
  const m = /^HTTP\/1\.[01] (\d+)/.exec(resp);
  return m ? Number(m[1]) : null;
}

function asanReports(gw) {
  return gw.logs.filter((l) => /AddressSanitizer|runtime error/.test(l.raw ?? ""));
}

describe("requests too long for the header buffer (11.11)", () => {
  let gw;
  before(async () => { gw = await startGateway({ workers: 1 }); });
  after(async () => { await gw?.shutdown(); });

  test("a GET whose sid is 20,000 characters long is answered 414", { timeout: 60000 }, async () => {
    const pids = (await getJSON(gw.url)).workers.map((w) => w.pid);
    const resp = await rawRequest(gw.port,
      `GET ${EIO}&sid=${"A".repeat(20000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.equal(status(resp), 414, JSON.stringify(resp.slice(0, 200)));
    // The 5,000 characters now fit: an unknown sid.
    const resp5k = await rawRequest(gw.port,
      `GET ${EIO}&sid=${"A".repeat(5000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.equal(status(resp5k), 400, JSON.stringify(resp5k.slice(0, 200)));
    // Headers too long, the same.
    const resp2 = await rawRequest(gw.port,
      `GET ${EIO} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ${"p".repeat(30000)}\r\n\r\n`);
    assert.equal(status(resp2), 431, JSON.stringify(resp2.slice(0, 200)));
    await until(async () => (await getJSON(gw.url)).totals.header_overflows >= 2, 5000,
      "header_overflows in /metrics");
    assert.deepEqual(asanReports(gw), []);
    assert.deepEqual((await getJSON(gw.url)).workers.map((w) => w.pid), pids);
  });

  test("a handshake with a 8 KB Bearer token connects", { timeout: 60000 }, async () => {
    const tok = token("long-token-user", { pad: "x".repeat(5900) });
    assert.ok(tok.length > 7900 && tok.length <= 8192, `token of ${tok.length} bytes`);
    const c = client(gw.url, {
      transports: ["polling"],
      extraHeaders: { authorization: `Bearer ${tok}` },
    });
    try {
      const [hello] = await c.wait("connected", { ms: 15000 });
      assert.equal(hello.user_id, "long-token-user");
    } finally {
      c.socket.close();
    }
  });

  test("many oversized requests do not flood the log", { timeout: 120000 }, async () => {
    const lws = () => gw.logs.filter((l) => (l.msg ?? "").startsWith("libwebsockets:") &&
      (l.level === "error" || l.level === "warn")).length;
    const before = lws();
    for (let i = 0; i < 60; i++) {
      const resp = await rawRequest(gw.port,
        `GET ${EIO}&sid=${"B".repeat(20000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      assert.equal(status(resp), 414);
    }
    assert.ok(lws() - before <= 21, `${lws() - before} lines of lws's log for 60 requests`);
    assert.deepEqual(asanReports(gw), []);
  });
});
