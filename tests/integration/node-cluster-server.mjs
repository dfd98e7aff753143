// A Node.js socket.io 4.8 server in a Redis-adapter cluster with the
// gateways (issue 14): the seed's minimal contract, as
// bench/anchor-node/server.js serves it (HS256 token in auth.token,
// verified with node:crypto; joins user:<id>; `connected`; send_message
// to user:<receiver> or, for a group, the group's room but the sender;
// join_room), with @socket.io/redis-adapter 8.3.0's createAdapter, or
// createShardedAdapter (subscriptionMode "dynamic") when ADAPTER=sharded.
//
// Test hooks, over HTTP on the same port (GET, answers JSON):
//   /admin/fetch?room=R        fetchSockets() of room R (of everyone: no R)
//   /admin/join?room=R&to=T,U  socketsJoin([T, U]) of room R's sockets
//   /admin/disconnect?room=R   disconnectSockets(true) of room R's sockets
//   /admin/emit?event=E        serverSideEmitWithAck(E): {err, responses}
//   /admin/rooms               allRooms()
//   /admin/send?room=R&content=C[&bin=1]  io.to(R).emit("receive_message",
//                              {content: C[, blob: a Buffer]})
// Environment: PORT, REDIS_URL, JWT_SECRET, KEY (socket.io), ADAPTER.
// It prints {"msg":"listening","port":N} on stdout when ready.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";

const PORT = Number(process.env.PORT);
const SECRET = process.env.JWT_SECRET;
const KEY = process.env.KEY ?? "socket.io";
const SHARDED = process.env.ADAPTER === "sharded";

function verify(token) {
  const [head, body, sig] = String(token ?? "").split(".");
  if (!head || !body || !sig) return null;
  let h, claims;
  try {
    h = JSON.parse(Buffer.from(head, "base64url"));
    claims = JSON.parse(Buffer.from(body, "base64url"));
  } catch {
    return null;
  }
  if (h.alg !== "HS256") return null;
  const want = createHmac("sha256", SECRET).update(`${head}.${body}`).digest();
  const got = Buffer.from(sig, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) return null;
  const user = String(claims.sub ?? claims.user_id ?? "");
  return /^[^:]{1,128}$/.test(user) ? user : null;
}

const pub = createClient({ url: process.env.REDIS_URL });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on("error", () => {});	// it reconnects
await Promise.all([pub.connect(), sub.connect()]);

const server = createServer(admin);
const io = new Server(server, {
  adapter: SHARDED ?
    createShardedAdapter(pub, sub, { channelPrefix: KEY, subscriptionMode: "dynamic" }) :
    createAdapter(pub, sub, { key: KEY, requestsTimeout: 5000 }),
});

io.use((socket, next) => {
  const user = verify(socket.handshake.auth?.token);
  if (user === null) return next(new Error("Invalid authentication token"));
  socket.data.user_id = user;
  next();
});

io.on("connection", (socket) => {
  const user = socket.data.user_id;
  socket.join(`user:${user}`);
  socket.emit("connected", { socket_id: socket.id, user_id: user });
  socket.emit("online_users", [user]);
  socket.on("send_message", (p, ack) => {
    const m = { id: randomBytes(12).toString("base64url"), sender_id: user,
      content: p?.content, message_type: "text", created_at: new Date().toISOString() };
    if (p?.group_id !== undefined) {
      m.group_id = p.group_id;
      socket.to(`group:${p.group_id}`).emit("receive_message", m);
    } else {
      m.receiver_id = p?.receiver_id;
      io.to(`user:${p?.receiver_id}`).emit("receive_message", m);
    }
    if (typeof ack === "function") ack({ ok: true, message: { ...m, status: "sent" } });
  });
  socket.on("join_room", (p, ack) => {
    const room = p?.group_id !== undefined ? `group:${p.group_id}` : String(p?.room ?? "");
    socket.join(room);
    if (typeof ack === "function") ack({ ok: true, room });
  });
});

// The test hooks.
async function admin(req, res) {
  const u = new URL(req.url, "http://x");
  if (!u.pathname.startsWith("/admin/")) return;	// socket.io's
  const room = u.searchParams.get("room");
  const sel = room ? io.in(room) : io;
  let out;
  try {
    switch (u.pathname) {
    case "/admin/fetch":
      out = (await sel.fetchSockets()).map((s) => ({ id: s.id, rooms: [...s.rooms],
        data: s.data, handshake: s.handshake }));
      break;
    case "/admin/join":
      sel.socketsJoin(u.searchParams.get("to").split(","));
      out = { ok: true };
      break;
    case "/admin/disconnect":
      sel.disconnectSockets(true);
      out = { ok: true };
      break;
    case "/admin/emit":
      out = await io.serverSideEmitWithAck(u.searchParams.get("event"), { at: Date.now() })
        .then((responses) => ({ err: null, responses }),
          (e) => ({ err: e.message, responses: e.responses ?? null }));
      break;
    case "/admin/send": {
      const m = { content: u.searchParams.get("content") };
      if (u.searchParams.get("bin")) m.blob = Buffer.from([1, 2, 3, 250]);
      io.to(room).emit("receive_message", m);
      out = { ok: true };
      break;
    }
    case "/admin/rooms":
      out = [...await io.of("/").adapter.allRooms()];
      break;
    default:
      res.writeHead(404).end();
      return;
    }
  } catch (e) {
    out = { error: e.message };
  }
  res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(out));
}

server.listen(PORT, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ msg: "listening", port: PORT }) + "\n");
});
process.on("SIGTERM", () => process.exit(0));
