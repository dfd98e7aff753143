// Guards issue 6 (gateway semantics): presence_mode scoped, across 4
// workers.  online_users lists only the user itself; nobody hears of
// unrelated users coming and going; a socket that joined presence:<user>
// hears that user's user_connected / user_disconnected (from any worker),
// and the join's ack says whether the user is online.  A user's going
// offline reaches every room its devices shared, whichever workers they
// were on.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PRESENCE, closeAll, heardSince, online, placed, sleep, startGateway } from "./gwlib.mjs";

let gw;
before(async () => { gw = await startGateway({ workers: 4, conf: "presence_mode scoped\n" }); });
after(async () => { await gw?.shutdown(); });

test("online_users lists only the user itself", async () => {
  const others = [await online(gw.url, "s-x"), await online(gw.url, "s-y")];
  const me = await online(gw.url, "s-me");
  try {
    assert.deepEqual(me.args("online_users"), [["s-me"]]);
    assert.deepEqual(others[0].args("online_users"), [["s-x"]]);
    // A second device of the same user: still only itself.
    const me2 = await online(gw.url, "s-me");
    assert.deepEqual(me2.args("online_users"), [["s-me"]]);
    me2.close();
  } finally {
    await closeAll([...others, me]);
  }
});

test("only room peers and subscribers hear a user's presence", async () => {
  const [a] = await placed(gw.url, "s-alone", 1);
  const [b] = await placed(gw.url, "s-alone2", 1, { avoid: new Set([a.slot]) });
  const marks = [a.mark(), b.mark()];
  const comers = [];
  try {
    // Strangers on every worker come and go; a shares a group with one.
    assert.equal((await a.ack("join_room", { group_id: "s-g" })).ok, true);
    for (let i = 0; i < 6; i++) comers.push(await online(gw.url, `s-stranger-${i}`));
    assert.equal((await comers[0].ack("join_room", { group_id: "s-g" })).ok, true);
    await closeAll(comers);
    // A subscription made afterwards shows the deltas reached a's worker.
    await sleep(1500);
    assert.deepEqual(await a.ack("join_room", { room: "presence:s-stranger-1" }),
      { ok: true, room: "presence:s-stranger-1", online: false });
    // a shares the group with stranger 0 only: it hears that one join the
    // room (online) and go offline; b shares nothing and hears nothing.
    const heard = (d, i) => heardSince(d, marks[i])
      .filter((x) => PRESENCE.some((p) => x.startsWith(p)));
    assert.deepEqual(heard(a, 0), [
      'user_connected [{"user_id":"s-stranger-0"}]',
      'user_disconnected [{"user_id":"s-stranger-0"}]',
    ], "a hears its room peer only");
    assert.deepEqual(heard(b, 1), [], "b heard of strangers");
  } finally {
    await closeAll([a, b, ...comers]);
  }
});

test("presence:<user> subscribers hear that user, from any worker", async () => {
  const [sub] = await placed(gw.url, "s-sub", 1);
  const [sub2] = await placed(gw.url, "s-sub2", 1, { avoid: new Set([sub.slot]) });
  const [other] = await placed(gw.url, "s-other", 1);
  const isBob = (a) => a.user_id === "s-bob";
  let bobs = [];
  try {
    // Subscribed while bob is offline.
    assert.deepEqual(await sub.ack("join_room", { room: "presence:s-bob" }),
      { ok: true, room: "presence:s-bob", online: false });

    // bob comes online with two devices, neither on sub's worker.
    bobs = await placed(gw.url, "s-bob", 2, { avoid: new Set([sub.slot]) });
    assert.deepEqual((await sub.wait("user_connected", { pred: isBob }))[0], { user_id: "s-bob" });
    assert.deepEqual(bobs[0].args("online_users"), [["s-bob"]]);

    // A later subscriber, on another worker, is told bob is online.
    assert.deepEqual(await sub2.ack("join_room", { room: "presence:s-bob" }),
      { ok: true, room: "presence:s-bob", online: true });

    // One device goes: bob is still online.
    bobs[0].close();
    await sleep(1500);
    for (const d of [sub, sub2]) assert.equal(d.all("user_disconnected", isBob).length, 0);

    // The last one goes: both subscribers hear it once; the unsubscribed do not.
    bobs[1].close();
    for (const d of [sub, sub2])
      assert.deepEqual((await d.wait("user_disconnected", { pred: isBob, ms: 10000 }))[0],
        { user_id: "s-bob" });
    assert.deepEqual(await sub.ack("join_room", { room: "presence:s-bob" }),
      { ok: true, room: "presence:s-bob", online: false });

    // After leave_room, sub2 hears no more of bob; sub still does.
    assert.deepEqual(await sub2.ack("leave_room", { room: "presence:s-bob" }),
      { ok: true, room: "presence:s-bob" });
    // bob comes back on sub's own worker (the local announcement): each
    // try on another worker is a full online/offline round for sub.
    let k = 1, local = null;
    for (let i = 0; i < 40 && !local; i++) {
      const d = await online(gw.url, "s-bob");
      bobs.push(d);
      k++;
      await sub.wait("user_connected", { pred: isBob, n: k });
      if (d.slot === sub.slot) local = d;
      else {
        d.close();
        await sub.wait("user_disconnected", { pred: isBob, n: k });
      }
    }
    assert.ok(local, "bob never landed on sub's worker");
    local.close();
    await sub.wait("user_disconnected", { pred: isBob, n: k });
    await sleep(500);
    assert.equal(sub.all("user_connected", isBob).length, k);
    assert.equal(sub.all("user_disconnected", isBob).length, k);
    assert.equal(sub2.all("user_connected", isBob).length, 0, "sub2 subscribed only once bob was on");
    assert.equal(sub2.all("user_disconnected", isBob).length, 1);
    assert.deepEqual(other.all("user_connected").concat(other.all("user_disconnected")), []);
    // bob never heard of his subscribers either.
    for (const b of bobs) assert.deepEqual(b.all("user_connected"), []);
  } finally {
    await closeAll([sub, sub2, other, ...bobs]);
  }
});

test("a user going offline is told to every room its devices shared, on every worker", async () => {
  const [d1, d2] = await placed(gw.url, "s-o-x", 2);
  const [o1] = await placed(gw.url, "s-o-1", 1, { avoid: new Set([d1.slot, d2.slot]) });
  const [o2] = await placed(gw.url, "s-o-2", 1, { avoid: new Set([d1.slot, d2.slot, o1.slot]) });
  const all = [d1, d2, o1, o2];
  try {
    for (const [d, g] of [[d1, "s-o-g1"], [o1, "s-o-g1"], [d2, "s-o-g2"], [o2, "s-o-g2"]])
      assert.equal((await d.ack("join_room", { group_id: g })).ok, true);
    // A barrier, not a sleep: d1's worker must know that s-o-x is still
    // online through d2 when d1 goes.  d2's worker put d2's arrival on
    // the bus before this message to s-o-x, and the bus keeps each
    // worker's order: once d1 has the message, its worker has seen d2.
    const via = `s-o-x-barrier-${process.pid}`;
    assert.equal((await d2.ack("send_message", { receiver_id: "s-o-x", content: via })).ok, true);
    await d1.wait("receive_message", { pred: (m) => m.content === via });
    const marks = [o1.mark(), o2.mark()];
    const gone = (d, i) => heardSince(d, marks[i]).filter((e) => e.startsWith("user_disconnected"));
    d1.close();		// s-o-x is still online through d2
    await sleep(700);
    assert.deepEqual(gone(o1, 0), [], "o1 heard s-o-x go while d2 was on");
    d2.close();
    const isX = (a) => a.user_id === "s-o-x";
    await o1.next(marks[0], "user_disconnected", { pred: isX });
    await o2.next(marks[1], "user_disconnected", { pred: isX });
    await sleep(300);
    assert.deepEqual([gone(o1, 0), gone(o2, 1)].map((l) => l.length), [1, 1]);
  } finally {
    await closeAll(all);
  }
});
