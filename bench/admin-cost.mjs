// bench/admin-cost.mjs URL SECONDS: what one Admin UI costs (issue 18).
// Logs in on /admin as admin-cost.sh configured it, measures the time to
// all_sockets, its size and the sockets in it, then counts for SECONDS
// what the dashboard receives (packets and bytes by event), and prints
// one JSON line.  socket.io-client comes from tests/node_modules.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "tests", "package.json"));
const { io } = require("socket.io-client");

const [url, seconds = "10"] = process.argv.slice(2);
const t0 = Date.now();
const s = io(`${url}/admin`, {
  forceNew: true, reconnection: false, transports: ["websocket"],
  auth: { username: "admin", password: "cost" },
});
const out = { events: {}, bytes: 0 };
s.io.engine?.on?.("data", () => {});
s.on("connect_error", (e) => { console.error(e.message); process.exit(1); });
const listed = new Promise((resolve) => s.once("all_sockets", (list) => {
  out.list_ms = Date.now() - t0;
  out.listed = list.length;
  out.list_bytes = JSON.stringify(list).length;
  resolve();
}));
s.onAny((ev, ...args) => {
  if (!out.counting) return;
  const e = (out.events[ev] ??= { packets: 0, bytes: 0 });
  const n = JSON.stringify([ev, ...args]).length;
  e.packets++;
  e.bytes += n;
  out.bytes += n;
});
await listed;
process.stdout.write(JSON.stringify({ phase: "listed", list_ms: out.list_ms,
  listed: out.listed, list_bytes: out.list_bytes }) + "\n");
out.counting = true;
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
out.counting = false;
process.stdout.write(JSON.stringify({ phase: "counted", seconds: Number(seconds),
  bytes_per_s: Math.round(out.bytes / Number(seconds)), events: out.events }) + "\n");
s.close();
process.exit(0);
