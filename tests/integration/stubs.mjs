// Stub HTTP services for the downstream-services tests (issue 13): real
// HTTP on 127.0.0.1, port 0, started by the test.  Each stub records every
// request (method, path, headers, JSON body, when) and answers by its mode,
// which the test may change at any time:
//   ok      200 {"ok":true}
//   slow    200 after `delay` ms
//   hang    never answers (until the stub closes)
//   fail    500
//   flap    500 and 200 in turn, 500 first
//   down    the connection is cut without an answer
// route(call), if given (or set later as stub.route), answers in place of
// the 200 {"ok":true} of ok, slow and flap: it returns {status, body} for a
// call it knows, or undefined for the default.  The other modes win over it.
import { createServer } from "node:http";

export async function startStub({ mode = "ok", delay = 200, route = null } = {}) {
  const calls = [];
  const hung = new Set();
  const stub = {
    mode, delay, route, calls, url: null, port: 0,
    flip: 0,        // flap: the next answer is 500 when even
    // Requests whose path starts with prefix.
    on(prefix = "/") {
      return calls.filter((c) => c.path.startsWith(prefix));
    },
    hanging() {
      return hung.size;
    },
    close() {
      for (const res of hung) res.socket?.destroy();
      hung.clear();
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (d) => { text += d; });
    req.on("end", () => {
      let body = null;
      try { body = text ? JSON.parse(text) : null; } catch { body = text; }
      const call = { method: req.method, path: req.url, headers: req.headers, body, at: Date.now() };
      calls.push(call);
      const answer = (status) => {
        const routed = status < 300 && stub.route ? stub.route(call) : undefined;
        if (routed !== undefined) {
          res.writeHead(routed.status ?? 200, { "content-type": "application/json" });
          return res.end(JSON.stringify(routed.body ?? { ok: true }));
        }
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(status < 300 ? { ok: true } : { error: "stub" }));
      };
      switch (stub.mode) {
        case "ok": return answer(200);
        case "slow": return void setTimeout(() => answer(200), stub.delay);
        case "hang": hung.add(res); res.on("close", () => hung.delete(res)); return;
        case "fail": return answer(500);
        case "flap": return answer(stub.flip++ % 2 === 0 ? 500 : 200);
        case "down": return void req.socket.destroy();
        default: return answer(200);
      }
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  stub.port = server.address().port;
  stub.url = `http://127.0.0.1:${stub.port}`;
  return stub;
}
