// Guards issue 18 (A live dashboard: the Socket.IO Admin UI, in a browser,
// against the gateway), with Redis configured: an Admin UI socket on one
// gateway (2 workers) sees the sockets of another gateway joined through
// Redis: in its list (as socket_connected right after all_sockets),
// connecting, joining a room and leaving; both gateways' workers as
// servers (server_stats); and its operations (join, _disconnect) act on
// the other gateway's sockets.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { getJSON, online, startGateway, uid, until } from "./gwlib.mjs";
import { record } from "./lib.mjs";
import { startRedis } from "./redislib.mjs";

const HASH = "$2b$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW";
const SLOW = 20000;

function gateway(r, name) {
  return startGateway({ workers: 2, conf: [
    `redis_url ${r.url}`, `node_id ${name}`, "admin on", "admin_username admin",
    `admin_password_hash "${HASH}"`].join("\n") });
}

// Folded as the UI folds them: id -> socket.
function view(a) {
  const v = new Map();
  for (const { name, args } of a.events) {
    if (name === "all_sockets") {
      v.clear();
      for (const s of args[0]) v.set(s.id, s);
    } else if (name === "socket_connected") v.set(args[0].id, args[0]);
    else if (name === "socket_disconnected") v.delete(args[1]);
    else if (name === "room_joined" && v.has(args[2])) v.get(args[2]).rooms.push(args[1]);
  }
  return v;
}

describe("the Admin UI across two gateways over Redis", () => {
  let r, g1, g2;
  before(async () => {
    r = await startRedis();
    g1 = await gateway(r, "gw-one");
    g2 = await gateway(r, "gw-two");
    for (const g of [g1, g2])
      await until(async () => (await getJSON(g.url, "/metrics")).totals.redis_connects >= 4,
        SLOW, "both workers' Redis connections up");
  });
  after(async () => {
    await g1?.shutdown();
    await g2?.shutdown();
    await r?.stop();
  });

  test("lists, updates, servers and operations of the other gateway", { timeout: 120000 },
    async () => {
    const early = await online(g2.url, uid("early"));
    const a = record(io(`${g1.url}/admin`, { forceNew: true, reconnection: false,
      transports: ["websocket"], auth: { username: "admin", password: "pw" } }));
    let late;
    try {
      await a.wait("all_sockets", { ms: SLOW });
      await until(() => view(a).has(early.socket.id), SLOW, "the other gateway's socket listed");
      // Both gateways' workers as servers.
      await until(() => new Set(a.args("server_stats").map((s) => s.serverId)).size >= 4,
        SLOW, "4 servers");
      late = await online(g2.url, uid("late"));
      await until(() => view(a).has(late.socket.id), SLOW, "a socket connecting there");
      late.socket.emit("join_room", { room: "group:hosts" });
      await until(() => view(a).get(late.socket.id)?.rooms.includes("group:hosts"), SLOW,
        "its room");
      a.socket.emit("join", "/", "group:ops", early.socket.id);
      await until(() => view(a).get(early.socket.id)?.rooms.includes("group:ops"), SLOW,
        "joined by the admin");
      a.socket.emit("_disconnect", "/", false, late.socket.id);
      const [reason] = await late.wait("disconnect", { ms: SLOW });
      assert.equal(reason, "io server disconnect");
      await until(() => !view(a).has(late.socket.id), SLOW, "gone from the list");
    } finally {
      a.socket.close();
      early.close();
      late?.close();
    }
  });
});
