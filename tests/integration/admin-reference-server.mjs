// The reference of gateway-admin.test.mjs (issue 18): Node's socket.io
// 4.8 with @socket.io/admin-ui's instrument() on /admin (basic auth with
// a bcrypt hash, read-only or not, mode "development" so that it lists
// the sockets), and the Admin UI's ui/dist served at /admin/ on the same
// port, as the gateway serves it at admin_ui_path.  The default
// namespace speaks the seed's minimal contract, as node-cluster-server.mjs
// does (HS256 token in auth.token; joins user:<id>; `connected`,
// `online_users`; join_room/leave_room with an ack), so that the test's
// clients and the UI-driving code run unchanged against both servers.
//
// In the test's process: startReference() resolves {url, uiUrl, io,
// close()}.  From a shell (to look at the UI by hand):
//   node admin-reference-server.mjs [port]   user admin, password "secret"
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { instrument } from "@socket.io/admin-ui";
import { Server } from "socket.io";

const require = createRequire(import.meta.url);

// The Admin UI's static files, from the pinned npm package.
export const UI_DIR = join(dirname(require.resolve("@socket.io/admin-ui/package.json")),
  "ui", "dist");

// A bcrypt hash of password, made with the bcryptjs the admin-ui package
// depends on (cost 10, as the package's README suggests).
export function bcryptHash(password, rounds = 10) {
  const bcrypt = require(require.resolve("bcryptjs",
    { paths: [dirname(require.resolve("@socket.io/admin-ui/package.json"))] }));
  return bcrypt.hashSync(password, rounds);
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript",
  ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
  ".map": "application/json" };

// GET prefix + file of dir (index.html for the prefix itself), else 404.
function serveDir(dir, prefix) {
  return (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (!path.startsWith(prefix) || req.method !== "GET") return false;
    const rel = path.slice(prefix.length) || "index.html";
    const file = normalize(join(dir, rel));
    if (!file.startsWith(dir + sep) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end();
      return true;
    }
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" })
      .end(readFileSync(file));
    return true;
  };
}

// The user of an HS256 token signed with secret, or null.
function verify(token, secret) {
  const [head, body, sig] = String(token ?? "").split(".");
  if (!head || !body || !sig) return null;
  let claims;
  try {
    claims = JSON.parse(Buffer.from(body, "base64url"));
  } catch {
    return null;
  }
  const want = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  const got = Buffer.from(sig, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  const user = String(claims.sub ?? "");
  return /^[^:]{1,128}$/.test(user) ? user : null;
}

// Rooms a client may name in join_room: {group_id} or {room} of a kind.
function roomOf(p) {
  if (typeof p?.group_id === "string") return `group:${p.group_id}`;
  if (typeof p?.room === "string" && /^(group|chat):/.test(p.room)) return p.room;
  return null;
}

export async function startReference({ secret, username = "admin", passwordHash,
  readOnly = false, port = 0, uiPath = "/admin/" } = {}) {
  const files = serveDir(UI_DIR, uiPath);
  const http = createServer((req, res) => {
    if (!files(req, res) && !req.url.startsWith("/socket.io/")) res.writeHead(404).end();
  });
  const io = new Server(http);
  instrument(io, {
    auth: { type: "basic", username, password: passwordHash },
    readonly: readOnly,
    mode: "development",
  });
  const main = io.of("/");
  main.use((socket, next) => {
    const user = verify(socket.handshake.auth?.token, secret);
    if (user === null) return next(new Error("Invalid authentication token"));
    socket.data.user_id = user;
    next();
  });
  main.on("connection", (socket) => {
    const user = socket.data.user_id;
    socket.join(`user:${user}`);
    socket.emit("connected", { socket_id: socket.id, user_id: user });
    socket.emit("online_users", [user]);
    for (const [event, act] of [["join_room", "join"], ["leave_room", "leave"]]) {
      socket.on(event, (p, ack) => {
        const room = roomOf(p);
        if (room !== null) socket[act](room);
        const answer = room === null ?
          { ok: false, error: { code: "invalid_room", message: "no such room" } } :
          { ok: true, room };
        if (typeof ack === "function") ack(answer);
      });
    }
  });
  await new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${http.address().port}`;
  return {
    url,
    uiUrl: `${url}${uiPath}`,
    io,
    close: () => new Promise((r) => {
      io.close();
      http.closeAllConnections();
      http.close(() => r());
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ref = await startReference({ secret: "integration-test-secret-0123456789abcdef",
    passwordHash: bcryptHash("secret"), port: Number(process.argv[2] ?? 0) });
  console.log(JSON.stringify({ msg: "listening", url: ref.url, ui: ref.uiUrl }));
}
