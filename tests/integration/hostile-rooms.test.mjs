// Guards issue 11 (hostile clients), item 8: rooms per socket.
//   - join_room past max_rooms_per_socket gets an `error` event and an ack
//     error "too_many_rooms", changes nothing else, and is counted in
//     /metrics (rooms_refused);
//   - in scoped presence mode, closing one of a user's sockets that sits in
//     very many rooms (the user online elsewhere, so its rooms are kept to
//     be told later) and then the last one do not stall the worker: another
//     client keeps getting its acks within a generous deadline.  Finding a
//     socket's room and remembering the rooms owed were list scans, so this
//     cost the square of the rooms.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { client, getJSON, startGateway, token, until } from "./lib.mjs";

const MANY = 60000;		// rooms of each of the two sockets
const ANSWER_MS = 5000;		// hang guard for one ack, not a timing

const gws = [];
after(async () => { await Promise.all(gws.map((g) => g.shutdown())); });

async function ack(c, event, arg) {
  return c.socket.timeout(ANSWER_MS).emitWithAck(event, arg);
}

test("join_room past max_rooms_per_socket is refused, counted, and changes nothing",
  { timeout: 60000 }, async () => {
    const gw = await startGateway({ workers: 1, conf: "max_rooms_per_socket 3" });
    gws.push(gw);
    const c = client(gw.url, { auth: { token: token("cap-user") }, transports: ["websocket"] });
    try {
      await c.wait("connected");
      // user:cap-user is the first of the three.
      assert.equal((await ack(c, "join_room", { room: "group:one" })).ok, true);
      assert.equal((await ack(c, "join_room", { room: "group:two" })).ok, true);
      const r = await ack(c, "join_room", { room: "group:three" });
      assert.equal(r.ok, false);
      assert.equal(r.error.code, "too_many_rooms");
      const [e] = await c.wait("error");
      assert.equal(e.code, "too_many_rooms");
      assert.equal(e.event, "join_room");
      // Not in it: typing to the group needs membership.
      const t = await ack(c, "typing", { group_id: "three" });
      assert.equal(t.ok, false);
      assert.equal(t.error.code, "not_in_group");
      // Joining a room it is in is still fine, and leaving makes room.
      assert.equal((await ack(c, "join_room", { room: "group:two" })).ok, true);
      assert.equal((await ack(c, "leave_room", { room: "group:one" })).ok, true);
      assert.equal((await ack(c, "join_room", { room: "group:three" })).ok, true);
      assert.equal((await ack(c, "typing", { group_id: "three" })).ok, true);
      await until(async () => (await getJSON(gw.url)).totals.rooms_refused === 1, 5000,
        "rooms_refused in /metrics");
    } finally {
      c.close();
    }
  });

// Joins MANY rooms without acks, then one with an ack: all are in when it
// comes back (the packets of one socket are handled in order).
async function joinMany(c) {
  for (let i = 0; i < MANY; i++) c.socket.emit("join_room", { room: `group:m${i}` });
  const r = await c.socket.timeout(120000).emitWithAck("join_room", { room: "group:last" });
  assert.equal(r.ok, true);
}

// Another client's acks keep coming while fn runs, each within ANSWER_MS.
async function stillServed(other, fn) {
  let stop = false, answered = 0;
  const pinger = (async () => {
    while (!stop) {
      const r = await ack(other, "typing", { receiver_id: "nobody" });
      assert.equal(r.ok, true);
      answered++;
    }
  })();
  try {
    await fn();
    await until(() => answered >= 3, 3 * ANSWER_MS, "acks after the close");
  } finally {
    stop = true;
  }
  await pinger;
}

test("a socket in very many rooms closes without stalling the worker (scoped presence)",
  { timeout: 300000 }, async () => {
    const gw = await startGateway({
      workers: 1,
      // The joins come flat out, far past event_rate's default.
      conf: `presence_mode scoped\nmax_rooms_per_socket ${MANY + 10}\n` +
        "event_rate 1000000\nevent_burst 1000000",
    });
    gws.push(gw);
    const opts = { auth: { token: token("many-rooms") }, transports: ["websocket"] };
    const a = client(gw.url, opts);
    const b = client(gw.url, opts);
    const other = client(gw.url, { auth: { token: token("bystander") }, transports: ["websocket"] });
    try {
      await Promise.all([a.wait("connected"), b.wait("connected"), other.wait("connected")]);
      await joinMany(a);
      await joinMany(b);
      // a goes while its user stays online with b: a's rooms are owed.
      await stillServed(other, async () => { a.close(); });
      // b goes: the user is offline, every owed room hears it.
      await stillServed(other, async () => { b.close(); });
    } finally {
      a.close();
      b.close();
      other.close();
    }
  });
