// The browser test's web server (transport-browser.test.mjs): page.html
// and the browser bundle of socket.io-client, on 127.0.0.1 and a port of
// its own, so that the page is cross-origin to the gateway.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const bundle = join(dirname(require.resolve("socket.io-client/package.json")),
  "dist", "socket.io.min.js");

export function servePage() {
  const files = {
    "/": ["text/html; charset=utf-8", readFileSync(join(here, "page.html"))],
    "/socket.io.min.js": ["text/javascript", readFileSync(bundle)],
  };
  const srv = createServer((req, res) => {
    const f = files[new URL(req.url, "http://x").pathname];
    if (f === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": f[0], "Cache-Control": "no-store" }).end(f[1]);
  });
  return new Promise((resolve, reject) => {
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => resolve({
      url: `http://127.0.0.1:${srv.address().port}`,
      close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }),
    }));
  });
}
