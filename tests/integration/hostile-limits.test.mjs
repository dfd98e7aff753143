// Guards issue 11 (hostile clients), item 7: connection limits.
//   - max_connections_per_address: past it, a new connection from the same
//     address is answered 503 with a JSON body and closed, counted as
//     conns_refused_addr; once the address's connections close it is
//     served again (the count goes down when lws closes them);
//   - max_connections: the gateway never holds more connections than the
//     limit, each worker enforcing its share; the refused ones get the 503
//     and are counted as conns_refused;
//   - max_unconnected_per_address: polling handshakes keep no connection,
//     so each opens a session that lives until connect_timeout; past the
//     limit a handshake (polling or WebSocket) gets 503 and is counted as
//     sessions_refused_addr, and a session that sends its CONNECT (or
//     closes) makes room.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import WebSocket from "ws";
import { getJSON, sleep, startGateway, token, until } from "./lib.mjs";

const gws = [];
after(async () => { await Promise.all(gws.map((g) => g.shutdown())); });

// A keep-alive GET /health on a connection of its own: resolves with the
// status line and body of the first answer and the socket, left open.
function hold(port) {
  return new Promise((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    let got = "";
    const done = (why) => resolve({ s, got, status: Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 0), why });
    s.on("connect", () => s.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    s.on("data", (d) => {
      got += d;
      const i = got.indexOf("\r\n\r\n");
      const len = /content-length: (\d+)/i.exec(got)?.[1];
      if (i >= 0 && len !== undefined && got.length >= i + 4 + Number(len)) done("answer");
    });
    s.on("error", () => done("error"));
    s.on("close", () => done("close"));
    s.setTimeout(10000, () => { s.destroy(); done("timeout"); });
  });
}

test("max_connections_per_address: the next connection gets 503 JSON, and room comes back",
  { timeout: 60000 }, async () => {
    const gw = await startGateway({ workers: 1, conf: "max_connections_per_address 5" });
    gws.push(gw);
    const held = [];
    try {
      // Until one is refused (startGateway's fetch may still hold one).
      let r;
      for (let i = 0; i < 10; i++) {
        r = await hold(gw.port);
        held.push(r);
        if (r.status !== 200) break;
      }
      const fit = held.length - 1;
      assert.ok(fit >= 4 && fit <= 5, `${fit} connections fit`);
      assert.equal(r.status, 503, `the refused one: ${r.why} ${r.got}`);
      const body = JSON.parse(r.got.slice(r.got.indexOf("\r\n\r\n") + 4));
      assert.equal(body.code, 5);
      assert.match(body.message, /too many connections/i);
      for (const h of held) h.s.destroy();
      // Served again once they are gone (lws closed them: the count fell).
      await until(async () => {
        try { return (await getJSON(gw.url)).totals.conns_refused_addr >= 1; } catch { return false; }
      }, 10000, "the address to be served again, conns_refused_addr in /metrics");
      // And as many as before fit again.
      held.length = 0;
      await sleep(200);
      for (let i = 0; i < fit; i++) {
        const h = await hold(gw.port);
        assert.equal(h.status, 200, `again, connection ${i}: ${h.why}`);
        held.push(h);
      }
    } finally {
      for (const h of held) h.s.destroy();
    }
  });

test("max_connections: the gateway never holds more, the rest get 503", { timeout: 60000 }, async () => {
  const gw = await startGateway({ workers: 2, conf: "max_connections 4" });
  gws.push(gw);
  const held = [];
  try {
    for (let i = 0; i < 12; i++) held.push(await hold(gw.port));
    const ok = held.filter((h) => h.status === 200).length;
    const refused = held.filter((h) => h.status === 503).length;
    assert.ok(ok <= 4, `${ok} connections served at once`);
    assert.ok(ok >= 2, `${ok} connections served: the limit is the gateway's, not less`);
    assert.equal(ok + refused, 12, held.map((h) => `${h.status}/${h.why}`).join(" "));
    for (const h of held) h.s.destroy();
    const m = await until(async () => {
      try { return await getJSON(gw.url); } catch { return null; }
    }, 10000, "the gateway to serve again");
    await until(async () => (await getJSON(gw.url)).totals.conns_refused >= refused, 5000,
      "conns_refused in /metrics");
    assert.ok(m);
  } finally {
    for (const h of held) h.s.destroy();
  }
});

// A polling handshake on a fresh connection: [status, body].
async function handshake(url) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`,
    { headers: { connection: "close" }, signal: AbortSignal.timeout(10000) });
  return [res.status, await res.text()];
}

test("max_unconnected_per_address: handshakes past it get 503, a CONNECT makes room",
  { timeout: 60000 }, async () => {
    const gw = await startGateway({ workers: 1,
      conf: "max_unconnected_per_address 4\nconnect_timeout 60s" });
    gws.push(gw);
    const sids = [];
    for (let i = 0; i < 4; i++) {
      const [status, body] = await handshake(gw.url);
      assert.equal(status, 200, `handshake ${i}: ${body}`);
      sids.push(JSON.parse(body.slice(1)).sid);
    }
    // Four sessions without a CONNECT, none holding a connection.
    const [status, body] = await handshake(gw.url);
    assert.equal(status, 503, `the fifth handshake: ${body}`);
    assert.equal(JSON.parse(body).code, 5);
    assert.match(JSON.parse(body).message, /without a CONNECT/);
    // A WebSocket handshake is refused too, before the upgrade.
    const ws = new WebSocket(`${gw.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const refused = await new Promise((resolve) => {
      ws.on("unexpected-response", (req, res) => { resolve(res.statusCode); ws.terminate(); });
      ws.on("open", () => { resolve("open"); ws.close(); });
      ws.on("error", () => {});
    });
    assert.equal(refused, 503, "the WebSocket handshake is refused with 503");

    // One session sends its CONNECT: it no longer counts.
    const res = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling&sid=${sids[0]}`, {
      method: "POST", body: `40${JSON.stringify({ token: token("unheld") })}`,
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    assert.equal(res.status, 200);
    await res.text();
    const get = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling&sid=${sids[0]}`);
    assert.match(await get.text(), /^40\{"sid"/, "the CONNECT was answered");
    const [again, body2] = await handshake(gw.url);
    assert.equal(again, 200, `a handshake after the CONNECT: ${body2}`);

    const t = await until(async () => {
      const m = (await getJSON(gw.url)).totals;
      return m.sessions_refused_addr >= 2 ? m : null;
    }, 10000, "sessions_refused_addr in /metrics");
    assert.equal(t.sessions_refused_addr, 2);
  });
