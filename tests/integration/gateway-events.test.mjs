// Guards issue 6 (gateway semantics): the event contract of README.md and
// src/gateway/events.c, across 4 workers.  Every event does what the table says
// and reaches exactly whom it should; every bad input gets an ack
// {ok:false, error:{code, message}} and an `error` event {code, message,
// event}, and nothing reaches anybody else.
//
// Cast: alice (the actor) on one worker, her second device alice2 on
// another, bob (the usual target) on a third, olga (a bystander who shares
// the group with them) on a worker other than alice's.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  PRESENCE, closeAll, heardSince, online, placed, rejected, sleep, startGateway, uid,
} from "./gwlib.mjs";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const GROUP = "g-events";

let gw, alice, alice2, bob, olga;
const cast = () => [alice, alice2, bob, olga];

before(async () => {
  gw = await startGateway({ workers: 4 });
  [alice, alice2] = await placed(gw.url, "alice", 2);
  [bob] = await placed(gw.url, "bob", 1, { avoid: new Set([alice.slot]) });
  [olga] = await placed(gw.url, "olga", 1, { avoid: new Set([alice.slot]) });
  for (const d of cast())
    assert.deepEqual(await d.ack("join_room", { group_id: GROUP }),
      { ok: true, room: `group:${GROUP}` });
});

after(async () => {
  await closeAll(cast());
  await gw?.shutdown();
});

// Nobody in ds heard anything since marks (but presence, and the events
// of `allowed`, a list of [device, name] pairs that must each be heard
// once) after a barrier: a message from alice to each of their users
// (herself included), which travels after anything alice's earlier events
// could have sent them.
async function onlyHeard(ds, marks, allowed = [], actor = alice) {
  const tag = uid("barrier");
  for (const user of new Set(ds.map((d) => d.user))) {
    const ack = await alice.ack("send_message", { receiver_id: user, content: tag });
    assert.equal(ack.ok, true);
  }
  for (const d of ds)
    await d.wait("receive_message", { pred: (m) => m.content === tag });
  await sleep(300);
  for (const [i, d] of ds.entries()) {
    const heard = d.events.slice(marks[i]).filter((e) =>
      !PRESENCE.includes(e.name) &&
      !(["receive_message", "message_sent"].includes(e.name) && e.args[0]?.content === tag) &&
      // the actor's own answers to its events (checked by the test)
      !(d === actor && ["message_sent", "error"].includes(e.name)));
    const want = allowed.filter(([x]) => x === d).map(([, n]) => n).sort();
    assert.deepEqual(heard.map((e) => e.name).sort(), want,
      `${d.user} (#${i}) heard: ${heardSince(d, marks[i], PRESENCE)}`);
  }
}

describe("send_message", () => {
  test("to a user: receive_message, message_sent, ack {ok, message}", async () => {
    const marks = cast().map((d) => d.mark());
    const cmid = uid("c");
    const ack = await alice.ack("send_message", {
      receiver_id: "bob", content: "hi bob", message_type: "image", client_msg_id: cmid,
    });
    assert.equal(ack.ok, true);
    const m = ack.message;
    assert.equal(typeof m.id, "string");
    assert.ok(m.id.length > 0);
    assert.match(m.created_at, ISO);
    assert.deepEqual(m, {
      id: m.id, sender_id: "alice", receiver_id: "bob", content: "hi bob",
      message_type: "image", created_at: m.created_at, client_msg_id: cmid, status: "sent",
    });
    const { status, ...plain } = m;
    assert.equal(status, "sent");
    assert.deepEqual((await bob.next(marks[2], "receive_message"))[0], plain);
    assert.deepEqual((await alice.next(marks[0], "message_sent"))[0], m);
    await onlyHeard(cast(), marks, [[bob, "receive_message"]]);
    assert.equal(alice.all("message_sent", (x) => x.id === m.id).length, 1);
  });

  test("defaults and odd but valid input", async () => {
    const mark = bob.mark();
    // message_type defaults to text; no client_msg_id; a null field is absent;
    // content keeps NUL bytes and non-ASCII; unknown fields are ignored.
    const content = "nul\u0000 é 🌍 \"quoted\" \\";
    const ack = await alice.ack("send_message", {
      receiver_id: "bob", content, group_id: null, message_type: null, extra: { x: 1 },
    });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    const [m] = await bob.next(mark, "receive_message", { pred: (x) => x.id === ack.message.id });
    assert.equal(m.content, content);
    assert.equal(m.message_type, "text");
    assert.equal("client_msg_id" in m, false);
    assert.equal("group_id" in m, false);
    for (const t of ["text", "image", "file", "audio", "video", "system"])
      assert.equal((await alice.ack("send_message",
        { receiver_id: "bob", content: t, message_type: t })).message.message_type, t);
    // 128-byte ids are fine; an offline receiver is fine (nobody hears it).
    const long = "r".repeat(128);
    const a2 = await alice.ack("send_message", { receiver_id: long, content: "x" });
    assert.equal(a2.ok, true);
    assert.equal(a2.message.receiver_id, long);
  });

  test("an integer receiver_id names the user of that number", async () => {
    const n42 = await online(gw.url, "42");
    try {
      const ack = await alice.ack("send_message", { receiver_id: 42, content: "to 42" });
      assert.equal(ack.ok, true);
      const [m] = await n42.wait("receive_message");
      assert.equal(m.content, "to 42");
      assert.equal(String(m.receiver_id), "42");
    } finally {
      n42.close();
    }
  });

  test("to a group: every member but the sending socket", async () => {
    const marks = cast().map((d) => d.mark());
    const ack = await alice.ack("send_message", { group_id: GROUP, content: "hi group" });
    assert.equal(ack.ok, true);
    assert.equal(ack.message.group_id, GROUP);
    assert.equal("receiver_id" in ack.message, false);
    for (const [i, d] of [[1, alice2], [2, bob], [3, olga]]) {
      const [m] = await d.next(marks[i], "receive_message", { pred: (x) => x.id === ack.message.id });
      assert.equal(m.sender_id, "alice");
      assert.equal(m.content, "hi group");
    }
    await onlyHeard(cast(), marks,
      [[alice2, "receive_message"], [bob, "receive_message"], [olga, "receive_message"]]);
    assert.equal(alice.all("receive_message", (x) => x.id === ack.message.id).length, 0);
  });
});

describe("send_group_message", () => {
  test("needs the group's room to have been joined by the sending socket", async () => {
    const g = uid("g");
    const carol = await online(gw.url, "carol");
    try {
      const marks = cast().map((d) => d.mark());
      await rejected(carol, "not_in_group", "send_group_message", { group_id: GROUP, content: "x" });
      await rejected(carol, "not_in_group", "send_message", { group_id: GROUP, content: "x" });
      await rejected(alice, "not_in_group", "send_group_message", { group_id: g, content: "x" });
      await onlyHeard(cast(), marks);

      // alice2 joins g: alice's other socket is still not a member.
      assert.equal((await alice2.ack("join_room", { room: `group:${g}` })).ok, true);
      await rejected(alice, "not_in_group", "send_group_message", { group_id: g, content: "x" });
      assert.equal((await bob.ack("join_room", { group_id: g })).ok, true);
      const m2 = [alice2.mark(), bob.mark()];
      const ack = await alice2.ack("send_group_message", { group_id: g, content: "to g" });
      assert.equal(ack.ok, true);
      assert.equal(ack.message.group_id, g);
      assert.equal((await bob.next(m2[1], "receive_message",
        { pred: (x) => x.id === ack.message.id }))[0].content, "to g");
      // Leaving: no more sending, no more hearing.
      assert.deepEqual(await bob.ack("leave_room", { group_id: g }), { ok: true, room: `group:${g}` });
      await rejected(bob, "not_in_group", "send_group_message", { group_id: g, content: "x" });
      const ack2 = await alice2.ack("send_group_message", { group_id: g, content: "after" });
      assert.equal(ack2.ok, true);
      await onlyHeard([bob], [m2[1]], [[bob, "receive_message"]], bob);
      assert.equal(alice2.all("receive_message", (x) => x.group_id === g).length, 0);
      assert.equal((await alice2.ack("leave_room", { room: `group:${g}` })).ok, true);
    } finally {
      carol.close();
    }
  });
});

describe("join_room / leave_room", () => {
  test("allowed rooms", async () => {
    assert.deepEqual(await alice.ack("join_room", { room: "chat:alice:bob" }),
      { ok: true, room: "chat:alice:bob" });
    assert.deepEqual(await bob.ack("join_room", { room: "chat:alice:bob" }),
      { ok: true, room: "chat:alice:bob" });
    assert.deepEqual(await alice.ack("leave_room", { room: "chat:alice:bob" }),
      { ok: true, room: "chat:alice:bob" });
    assert.deepEqual(await alice.ack("join_room", { group_id: 7 }), { ok: true, room: "group:7" });
    assert.deepEqual(await alice.ack("leave_room", { room: "group:7" }), { ok: true, room: "group:7" });
    // Leaving a room one is not in is not an error.
    assert.deepEqual(await olga.ack("leave_room", { room: "group:never" }),
      { ok: true, room: "group:never" });
  });

  test("presence:<user>: the ack says whether the user is online", async () => {
    assert.deepEqual(await olga.ack("join_room", { room: "presence:bob" }),
      { ok: true, room: "presence:bob", online: true });
    assert.deepEqual(await olga.ack("join_room", { room: "presence:nobody-here" }),
      { ok: true, room: "presence:nobody-here", online: false });
    assert.deepEqual(await olga.ack("leave_room", { room: "presence:bob" }),
      { ok: true, room: "presence:bob" });
  });

  test("refused rooms and invalid names", async () => {
    const marks = cast().map((d) => d.mark());
    const bad = [
      ["forbidden_room", { room: "chat:bob:olga" }],
      ["forbidden_room", { room: "user:bob" }],
      ["forbidden_room", { room: "user:alice" }],
      ["invalid_room", { room: "chat:bob:alice" }],
      ["invalid_room", { room: "chat:alice:alice" }],
      ["invalid_room", { room: "chat:alice" }],
      ["invalid_room", { room: "lobby" }],
      ["invalid_room", { room: "" }],
      ["invalid_room", { room: "group:" }],
      ["invalid_room", { room: "group:a:b" }],
      ["invalid_room", { room: "presence:" }],
      ["invalid_room", { room: "Group:x" }],
      ["invalid_room", { room: `group:${"x".repeat(129)}` }],
      ["invalid_room", { room: "group:a\u0001" }],
      ["invalid_field", { room: 5 }],
      ["invalid_field", { room: ["group:x"] }],
      ["invalid_field", { group_id: "" }],
      ["invalid_field", { group_id: "a:b" }],
      ["invalid_field", { group_id: -3 }],
      ["field_too_long", { group_id: "x".repeat(129) }],
      ["missing_field", {}],
      ["missing_field", { room: null }],
      ["conflicting_fields", { room: "group:x", group_id: "x" }],
      ["invalid_payload", "group:x"],
    ];
    for (const [code, payload] of bad)
      await rejected(alice, code, "join_room", payload);
    await rejected(alice, "forbidden_room", "leave_room", { room: "user:alice" });
    await rejected(alice, "invalid_room", "leave_room", { room: "nope" });
    await rejected(alice, "missing_field", "leave_room", {});
    // The refused user room join changed nothing: bob's messages still
    // reach only bob.
    await onlyHeard(cast(), marks);
  });
});

describe("typing / stop_typing", () => {
  test("to a user and to a group", async () => {
    const marks = cast().map((d) => d.mark());
    assert.deepEqual(await alice.ack("typing", { receiver_id: "bob" }), { ok: true });
    assert.deepEqual((await bob.next(marks[2], "user_typing"))[0], { user_id: "alice", receiver_id: "bob" });
    assert.deepEqual(await alice.ack("stop_typing", { receiver_id: "bob" }), { ok: true });
    assert.deepEqual((await bob.next(marks[2], "user_stop_typing"))[0],
      { user_id: "alice", receiver_id: "bob" });
    await onlyHeard(cast(), marks, [[bob, "user_typing"], [bob, "user_stop_typing"]]);

    const m2 = cast().map((d) => d.mark());
    assert.deepEqual(await bob.ack("typing", { group_id: GROUP }), { ok: true });
    for (const [i, d] of [[0, alice], [1, alice2], [3, olga]])
      assert.deepEqual((await d.next(m2[i], "user_typing"))[0], { user_id: "bob", group_id: GROUP });
    assert.deepEqual(await bob.ack("stop_typing", { group_id: GROUP }), { ok: true });
    for (const [i, d] of [[0, alice], [1, alice2], [3, olga]])
      assert.deepEqual((await d.next(m2[i], "user_stop_typing"))[0], { user_id: "bob", group_id: GROUP });
    await onlyHeard(cast(), m2, [[alice, "user_typing"], [alice, "user_stop_typing"],
      [alice2, "user_typing"], [alice2, "user_stop_typing"],
      [olga, "user_typing"], [olga, "user_stop_typing"]]);
  });

  test("bad input", async () => {
    const marks = cast().map((d) => d.mark());
    await rejected(alice, "missing_field", "typing", {});
    await rejected(alice, "conflicting_fields", "typing", { receiver_id: "bob", group_id: GROUP });
    await rejected(alice, "not_in_group", "typing", { group_id: "g-not-joined" });
    await rejected(alice, "invalid_field", "typing", { receiver_id: "b:ob" });
    await rejected(alice, "invalid_payload", "stop_typing", "bob");
    await rejected(alice, "invalid_payload", "stop_typing");
    await rejected(alice, "missing_field", "stop_typing", { group_id: null });
    await onlyHeard(cast(), marks);
  });
});

describe("receipts", () => {
  test("message_read -> message_read_receipt to the original sender", async () => {
    const marks = cast().map((d) => d.mark());
    const id = uid("msg");
    assert.deepEqual(await bob.ack("message_read", { message_id: id, sender_id: "alice" }),
      { ok: true });
    for (const [i, d] of [[0, alice], [1, alice2]]) {
      const [r] = await d.next(marks[i], "message_read_receipt");
      assert.match(r.read_at, ISO);
      assert.deepEqual(r, { message_id: id, reader_id: "bob", read_at: r.read_at });
    }
    await onlyHeard(cast(), marks, [[alice, "message_read_receipt"],
      [alice2, "message_read_receipt"]]);
  });

  test("message_delivered and message_read_status -> message_status_update", async () => {
    const marks = cast().map((d) => d.mark());
    const id = uid("msg");
    assert.deepEqual(await bob.ack("message_delivered", { message_id: id, sender_id: "alice" }),
      { ok: true });
    const [u1] = await alice.next(marks[0], "message_status_update", { pred: (x) => x.status === "delivered" });
    assert.match(u1.at, ISO);
    assert.deepEqual(u1, { message_id: id, status: "delivered", user_id: "bob", at: u1.at });
    assert.deepEqual(await bob.ack("message_read_status",
      { message_id: id, sender_id: "alice", status: "read" }), { ok: true });
    const [u2] = await alice2.next(marks[1], "message_status_update", { pred: (x) => x.status === "read" });
    assert.deepEqual(u2, { message_id: id, status: "read", user_id: "bob", at: u2.at });
    assert.deepEqual(await bob.ack("message_read_status",
      { message_id: 99, sender_id: "alice", status: "delivered" }), { ok: true });
    const [u3] = await alice.next(marks[0], "message_status_update",
      { pred: (x) => String(x.message_id) === "99" });
    assert.equal(u3.status, "delivered");
    await onlyHeard(cast(), marks, [
      [alice, "message_status_update"], [alice, "message_status_update"],
      [alice, "message_status_update"],
      [alice2, "message_status_update"], [alice2, "message_status_update"],
      [alice2, "message_status_update"]]);
  });

  test("bad input", async () => {
    const marks = cast().map((d) => d.mark());
    await rejected(bob, "missing_field", "message_read", { sender_id: "alice" });
    await rejected(bob, "missing_field", "message_read", { message_id: "m" });
    await rejected(bob, "invalid_field", "message_read", { message_id: "", sender_id: "alice" });
    await rejected(bob, "invalid_field", "message_read", { message_id: "m", sender_id: "a:lice" });
    await rejected(bob, "field_too_long", "message_read",
      { message_id: "m".repeat(129), sender_id: "alice" });
    await rejected(bob, "invalid_field", "message_read", { message_id: { id: 1 }, sender_id: "alice" });
    await rejected(bob, "missing_field", "message_delivered", { message_id: "m" });
    await rejected(bob, "invalid_payload", "message_delivered", ["m", "alice"]);
    await rejected(bob, "missing_field", "message_read_status", { message_id: "m", sender_id: "alice" });
    await rejected(bob, "invalid_status", "message_read_status",
      { message_id: "m", sender_id: "alice", status: "seen" });
    await rejected(bob, "invalid_status", "message_read_status",
      { message_id: "m", sender_id: "alice", status: "deleted" });
    await rejected(bob, "invalid_field", "message_read_status",
      { message_id: "m", sender_id: "alice", status: 1 });
    await onlyHeard(cast(), marks, [], bob);
  });
});

describe("delete_message", () => {
  test("to a user: the receiver and the sender's other devices", async () => {
    const marks = cast().map((d) => d.mark());
    const id = uid("msg");
    assert.deepEqual(await alice.ack("delete_message", { message_id: id, receiver_id: "bob" }),
      { ok: true });
    for (const [i, d] of [[1, alice2], [2, bob]]) {
      const [u] = await d.next(marks[i], "message_status_update");
      assert.match(u.at, ISO);
      assert.deepEqual(u, { message_id: id, status: "deleted", user_id: "alice", at: u.at });
    }
    // alice's own socket may hear it too (it is in user:alice); nobody else.
    await sleep(200);
    const own = alice.all("message_status_update", (x) => x.message_id === id).length;
    assert.ok(own <= 1, `alice heard it ${own} times`);
    await onlyHeard(cast(), marks, [[alice2, "message_status_update"],
      [bob, "message_status_update"], ...(own ? [[alice, "message_status_update"]] : [])]);
  });

  test("to a group: its members", async () => {
    const marks = cast().map((d) => d.mark());
    const id = uid("msg");
    assert.deepEqual(await bob.ack("delete_message", { message_id: id, group_id: GROUP }), { ok: true });
    for (const [i, d] of [[0, alice], [1, alice2], [3, olga]]) {
      const [u] = await d.next(marks[i], "message_status_update");
      assert.deepEqual(u, { message_id: id, status: "deleted", user_id: "bob", at: u.at });
    }
    await sleep(200);
    const own = bob.all("message_status_update", (x) => x.message_id === id).length;
    assert.ok(own <= 1);
    await onlyHeard(cast(), marks, [[alice, "message_status_update"],
      [alice2, "message_status_update"], [olga, "message_status_update"],
      ...(own ? [[bob, "message_status_update"]] : [])], bob);
  });

  // on_delete() (gw_events.c) checks in_group() as send_message,
  // send_group_message and typing do: a socket that has not joined the
  // group's room gets not_in_group, and no member hears of the deletion.
  test("to a group the sender has not joined: not_in_group",
    async () => {
      // On alice's worker, so that alice's barrier in onlyHeard() also
      // flushes whatever carol's event sent, pass or fail.
      const [carol] = await placed(gw.url, "carol-del", 1,
        { avoid: new Set([0, 1, 2, 3].filter((x) => x !== alice.slot)) });
      const marks = cast().map((d) => d.mark());
      let err;
      try {
        await rejected(carol, "not_in_group", "delete_message", { message_id: uid("m"), group_id: GROUP });
      } catch (e) {
        err = e;
      }
      try {
        await onlyHeard(cast(), marks, [], carol);
      } catch (e) {
        err ??= e;
      }
      carol.close();
      if (err) throw err;
    });

  test("bad input", async () => {
    const marks = cast().map((d) => d.mark());
    await rejected(alice, "missing_field", "delete_message", { message_id: "m" });
    await rejected(alice, "missing_field", "delete_message", { receiver_id: "bob" });
    await rejected(alice, "conflicting_fields", "delete_message",
      { message_id: "m", receiver_id: "bob", group_id: GROUP });
    await rejected(alice, "invalid_field", "delete_message", { message_id: "m", receiver_id: "" });
    await rejected(alice, "invalid_payload", "delete_message", 5);
    await onlyHeard(cast(), marks);
  });
});

describe("bad input everywhere: an ack error, an error event, nothing else", () => {
  test("send_message", async () => {
    const marks = cast().map((d) => d.mark());
    const ok = { receiver_id: "bob", content: "x" };
    const bad = [
      ["invalid_payload", []],
      ["invalid_payload", ["a string"]],
      ["invalid_payload", [[1, 2]]],
      ["invalid_payload", [null]],
      ["invalid_payload", [17]],
      ["missing_field", [{ content: "x" }]],
      ["conflicting_fields", [{ ...ok, group_id: GROUP }]],
      ["invalid_field", [{ ...ok, receiver_id: "" }]],
      ["invalid_field", [{ ...ok, receiver_id: "a:b" }]],
      ["invalid_field", [{ ...ok, receiver_id: "bo\nb" }]],
      ["invalid_field", [{ ...ok, receiver_id: -1 }]],
      ["invalid_field", [{ ...ok, receiver_id: 1.5 }]],
      ["invalid_field", [{ ...ok, receiver_id: {} }]],
      ["invalid_field", [{ ...ok, receiver_id: true }]],
      ["field_too_long", [{ ...ok, receiver_id: "b".repeat(129) }]],
      ["missing_field", [{ receiver_id: "bob" }]],
      ["missing_field", [{ receiver_id: "bob", content: null }]],
      ["invalid_field", [{ ...ok, content: "" }]],
      ["invalid_field", [{ ...ok, content: 5 }]],
      ["invalid_field", [{ ...ok, content: { text: "x" } }]],
      ["invalid_field", [{ ...ok, content: Buffer.from("binary") }]],
      ["invalid_field", [{ ...ok, receiver_id: Buffer.from("bob") }]],
      ["invalid_message_type", [{ ...ok, message_type: "sticker" }]],
      ["invalid_message_type", [{ ...ok, message_type: "TEXT" }]],
      ["invalid_field", [{ ...ok, message_type: 3 }]],
      ["invalid_field", [{ ...ok, client_msg_id: "" }]],
      ["invalid_field", [{ ...ok, client_msg_id: 12 }]],
      ["invalid_field", [{ ...ok, client_msg_id: "a\u0000b" }]],
      ["field_too_long", [{ ...ok, client_msg_id: "c".repeat(129) }]],
      ["missing_field", [{ group_id: GROUP }]],
    ];
    for (const [code, args] of bad)
      await rejected(alice, code, "send_message", ...args);
    await rejected(alice, "missing_field", "send_group_message", { content: "x" });
    await rejected(alice, "missing_field", "send_group_message", { receiver_id: "bob", content: "x" });
    await rejected(alice, "invalid_field", "send_group_message", { group_id: GROUP, content: "" });
    assert.equal(alice.all("message_sent").length,
      alice.events.slice(0, marks[0]).filter((e) => e.name === "message_sent").length,
      "a rejected message was reported sent");
    await onlyHeard(cast(), marks);
  });

  test("unknown events", async () => {
    const marks = cast().map((d) => d.mark());
    for (const name of ["hack", "connected", "online_users", "receive_message", "SEND_MESSAGE",
      "send_message ", "user_connected"]) {
      const ack = await rejected(alice, "unknown_event", name, { receiver_id: "bob", content: "x" });
      assert.ok(ack.error.message.length > 0);
    }
    await rejected(alice, "unknown_event", "hack");
    await onlyHeard(cast(), marks);
    assert.ok(alice.socket.connected);
  });

  test("without an ack, bad input still gets the error event", async () => {
    const mark = alice.mark();
    alice.socket.emit("send_message", { receiver_id: "bob", content: "" });
    const [e] = await alice.next(mark, "error");
    assert.equal(e.code, "invalid_field");
    assert.equal(e.event, "send_message");
    assert.equal(typeof e.message, "string");
    alice.socket.emit("nope");
    const [e2] = await alice.next(mark, "error", { pred: (x) => x.event === "nope" });
    assert.equal(e2.code, "unknown_event");
    const marks = cast().map((d) => d.mark());
    await onlyHeard(cast(), marks);
  });
});
