// Guards issue 13 (downstream services): group membership.  A join_room of
// a group, a group message and a group typing event of a user who is not a
// member are refused (`not_a_member`) and nothing else happens, in the
// three modes of group_membership:
//   service  the chat service says (GET /api/groups/<g>/members/<u>), with
//            a per-worker cache (a second join makes no second call), one
//            call for concurrent checks, held events that keep their order,
//            and a chat service that is down or hung failing closed
//            (`membership_unavailable`); a client gone while its check is
//            pending costs nothing (the answer looks the session up again);
//   token    the token's groups claim says, and refresh_token replaces it;
//   open     anyone may join (the seed's way), and the master warns once.
//
// The chat service is a Node stub (stubs.mjs): real HTTP on loopback.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PRESENCE, closeAll, getJSON, online, rejected, sleep, startGateway, token, uid, until } from "./gwlib.mjs";
import { probe } from "./lib.mjs";
import { startStub } from "./stubs.mjs";

const WORKERS = 2;
const MEMBERS = /^\/api\/groups\/([^/]+)\/members\/([^/]+)$/;

// A chat service that knows the groups in `groups` (id -> Set of users):
// 200 {member} for a known group, 404 for an unknown one.
function chatRoute(groups) {
  return (call) => {
    const m = MEMBERS.exec(call.path);
    if (call.method !== "GET" || !m) return undefined;
    const g = groups.get(decodeURIComponent(m[1]));
    if (!g) return { status: 404, body: { error: "no such group" } };
    return { status: 200, body: { member: g.has(decodeURIComponent(m[2])) } };
  };
}

// The membership calls the stub had for (group, user).
function checks(stub, group, user) {
  return stub.calls.filter((c) => c.path === `/api/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(user)}`);
}

// The gateway's /metrics totals once pred holds of them.
async function totals(url, pred, what) {
  return until(async () => {
    const m = await getJSON(url, "/metrics");
    return m.workers?.length === WORKERS && pred(m.totals) ? m.totals : null;
  }, 15000, `/metrics totals: ${what}`);
}

// No worker died (ASan aborts, crashes): no respawn in the log.
function noCrash(gw) {
  const bad = gw.logs.filter((l) => /exited on signal|exited with code|Sanitizer/
    .test(l.msg ?? l.raw ?? ""));
  assert.deepEqual(bad, [], "a worker died");
}

describe("group_membership service", () => {
  let gw, chat, alice, bob, mallory;
  const groups = new Map();

  before(async () => {
    chat = await startStub({ route: chatRoute(groups) });
    gw = await startGateway({
      workers: WORKERS,
      // The default mode with a chat service is service.
      conf: `chat_service_url "${chat.url}"\nservice_timeout 1500ms\n` +
        "service_retries 0\nbreaker_threshold 1000\nbreaker_min_calls 100000\n",
    });
    alice = await online(gw.url, "alice");
    bob = await online(gw.url, "bob");
    mallory = await online(gw.url, "mallory");
  });

  after(async () => {
    await closeAll([alice, bob, mallory]);
    await gw?.shutdown();
    await chat?.close();
    if (gw) noCrash(gw);	// leaks too, under ASan, at the workers' exit
  });

  test("a member joins and posts; a non-member's join, message and typing are refused", async () => {
    const g = uid("g");
    groups.set(g, new Set(["alice", "bob"]));
    for (const d of [alice, bob])
      assert.deepEqual(await d.ack("join_room", { group_id: g }), { ok: true, room: `group:${g}` });
    const call = checks(chat, g, "alice")[0];
    assert.ok(call, "the chat service was asked");
    assert.equal(call.method, "GET");

    await rejected(mallory, "not_a_member", "join_room", { room: `group:${g}` });
    await rejected(mallory, "not_a_member", "join_room", { group_id: g });
    const mark = [alice.mark(), bob.mark()];
    const bad = uid("bad");
    await rejected(mallory, "not_a_member", "send_group_message", { group_id: g, content: bad });
    await rejected(mallory, "not_a_member", "send_message", { group_id: g, content: bad });
    await rejected(mallory, "not_a_member", "typing", { group_id: g });
    await rejected(mallory, "not_a_member", "stop_typing", { group_id: g });

    // A member's message goes out as before; the refused ones never did.
    const good = uid("good");
    assert.equal((await alice.ack("send_group_message", { group_id: g, content: good })).ok, true);
    await bob.wait("receive_message", { pred: (m) => m.content === good });
    assert.equal((await alice.ack("typing", { group_id: g })).ok, true);
    await bob.next(mark[1], "user_typing", { pred: (t) => t.user_id === "alice" });
    for (const [i, d] of [alice, bob].entries()) {
      // (Presence of mallory may come late from another worker.)
      const heard = d.events.slice(mark[i]).filter((e) => !PRESENCE.includes(e.name) &&
        (JSON.stringify(e.args).includes(bad) || e.args[0]?.user_id === "mallory"));
      assert.deepEqual(heard, [], `${d.user} heard mallory's refused events`);
    }
    // An unknown group (404) is no one's.
    await rejected(alice, "not_a_member", "join_room", { group_id: uid("nogroup") });
    await totals(gw.url, (t) => t.membership_refused >= 7, "membership_refused");
  });

  test("the cache: a second join of the same user and group makes no second call", async () => {
    const g = uid("g");
    groups.set(g, new Set(["alice"]));
    assert.equal((await alice.ack("join_room", { group_id: g })).ok, true);
    assert.equal((await alice.ack("leave_room", { group_id: g })).ok, true);
    assert.equal((await alice.ack("join_room", { group_id: g })).ok, true);
    const c = uid("c");
    assert.equal((await alice.ack("send_group_message", { group_id: g, content: c })).ok, true);
    assert.equal(checks(chat, g, "alice").length, 1);
    const t = await totals(gw.url, (x) => x.membership_hits >= 2 && x.membership_entries >= 1, "hits");
    assert.ok(t.membership_calls >= 1);
    // Both formats.
    const prom = await probe(gw.url, "/metrics", { headers: { accept: "text/plain" } });
    assert.match(prom.body, /# TYPE socketgw_membership_hits_total counter/);
    assert.match(prom.body, /# TYPE socketgw_membership_entries gauge/);
    assert.match(prom.body, /socketgw_membership_held\{worker="\d+"\} \d+/);
  });

  test("held events keep their order and concurrent checks share one call", async () => {
    const g = uid("g");
    groups.set(g, new Set(["alice", "bob"]));
    assert.equal((await bob.ack("join_room", { group_id: g })).ok, true);
    chat.mode = "slow";
    chat.delay = 400;
    try {
      // Sent at once: the join waits for the chat service, and the
      // message and the other joins wait behind it instead of overtaking
      // it (which would be refused: not_in_group).
      const c = uid("c");
      const acks = await Promise.all([
        alice.ack("join_room", { group_id: g }),
        alice.ack("send_group_message", { group_id: g, content: c }),
        alice.ack("join_room", { group_id: g }),
        alice.ack("typing", { group_id: g }),
      ]);
      for (const a of acks) assert.equal(a.ok, true, JSON.stringify(acks));
      await bob.wait("receive_message", { pred: (m) => m.content === c });
      assert.equal(checks(chat, g, "alice").length, 1);

      // An event that needs no check waits its turn behind a held one:
      // the acks come in the order the events were sent.
      const g2 = uid("g");
      groups.set(g2, new Set(["alice"]));
      const order = [];
      const tag = (p, name) => p.then((a) => { order.push(name); return a; });
      const both = await Promise.all([
        tag(alice.ack("join_room", { group_id: g2 }), "join"),
        tag(alice.ack("send_message", { receiver_id: "bob", content: uid("d") }), "direct"),
      ]);
      for (const a of both) assert.equal(a.ok, true, JSON.stringify(both));
      assert.deepEqual(order, ["join", "direct"]);
    } finally {
      chat.mode = "ok";
    }
  });

  test("a client gone while its check is pending: no crash, and the answer still fills the cache", async () => {
    const g = uid("g");
    groups.set(g, new Set(["carol"]));
    chat.mode = "slow";
    chat.delay = 500;
    try {
      const carol = await online(gw.url, "carol");
      carol.socket.emit("join_room", { group_id: g });
      carol.socket.emit("send_group_message", { group_id: g, content: "x" });
      await until(() => checks(chat, g, "carol").length === 1, 10000, "the check");
      carol.close();
      await sleep(900);	// past the answer
    } finally {
      chat.mode = "ok";
    }
    const again = await online(gw.url, "carol");
    try {
      assert.equal((await again.ack("join_room", { group_id: g })).ok, true);
    } finally {
      again.close();
    }
    noCrash(gw);
  });

  test("a chat service that is down or hung: refused, membership_unavailable (fail closed)", async () => {
    const g = uid("g");
    groups.set(g, new Set(["alice"]));
    chat.mode = "down";
    try {
      const ack = await rejected(alice, "membership_unavailable", "join_room", { group_id: g });
      assert.match(ack.error.message, /membership could not be checked: chat service unavailable/);
      chat.mode = "hang";
      // No answer within service_timeout: refused at the deadline, and
      // the message held behind the join is refused with it.
      const [j, m] = await Promise.all([
        alice.ack("join_room", { group_id: g }),
        alice.ack("send_group_message", { group_id: g, content: uid("c") }),
      ]);
      assert.equal(j.error?.code, "membership_unavailable", JSON.stringify(j));
      assert.equal(m.ok, false, JSON.stringify(m));
      // A user's message to a user does not need the chat service.
      assert.equal((await alice.ack("send_message", { receiver_id: "bob", content: uid("d") })).ok, true);
    } finally {
      chat.mode = "ok";
    }
    await totals(gw.url, (t) => t.membership_unavailable >= 2, "membership_unavailable");
    // Back up: the same join passes.
    const back = await alice.ack("join_room", { group_id: g });
    assert.equal(back.ok, true, JSON.stringify(back));
    noCrash(gw);
  });
});

describe("group_membership token", () => {
  let gw;

  before(async () => {
    gw = await startGateway({ workers: WORKERS, conf: "group_membership token\n" });
  });

  after(async () => {
    await gw?.shutdown();
    if (gw) noCrash(gw);
  });

  test("the groups claim says who may join, post and type; refresh_token replaces it", async () => {
    const [g1, g2] = [uid("g"), uid("g")];
    const alice = await online(gw.url, "alice", { auth: { token: token("alice", { groups: [g1, "other"] }) } });
    const bob = await online(gw.url, "bob", { auth: { token: token("bob", { groups: [g1, g2] }) } });
    const eve = await online(gw.url, "eve");	// no claim: no group
    try {
      for (const d of [alice, bob])
        assert.equal((await d.ack("join_room", { group_id: g1 })).ok, true);
      await rejected(alice, "not_a_member", "join_room", { group_id: g2 });
      await rejected(eve, "not_a_member", "join_room", { group_id: g1 });
      const mark = bob.mark();
      const bad = uid("bad");
      await rejected(eve, "not_a_member", "send_group_message", { group_id: g1, content: bad });
      await rejected(eve, "not_a_member", "typing", { group_id: g1 });
      const good = uid("good");
      assert.equal((await alice.ack("send_group_message", { group_id: g1, content: good })).ok, true);
      await bob.wait("receive_message", { pred: (m) => m.content === good });
      // (eve's user_connected may come late from another worker.)
      assert.deepEqual(bob.events.slice(mark).filter((e) => !PRESENCE.includes(e.name) &&
        (JSON.stringify(e.args).includes(bad) || e.args[0]?.user_id === "eve")), []);

      // The new token's groups replace the old ones.
      assert.equal((await alice.ack("refresh_token", { token: token("alice", { groups: [g2] }) })).ok, true);
      assert.equal((await alice.ack("join_room", { group_id: g2 })).ok, true);
      await rejected(alice, "not_a_member", "send_group_message", { group_id: g1, content: uid("c") });
    } finally {
      await closeAll([alice, bob, eve]);
    }
  });
});

describe("group_membership open", () => {
  let gw;

  before(async () => {
    gw = await startGateway({ workers: WORKERS });
  });

  after(async () => {
    await gw?.shutdown();
  });

  test("anyone may join (the seed's way), and the master warns once at start", async () => {
    const d = await online(gw.url, "anyone");
    try {
      assert.equal((await d.ack("join_room", { group_id: uid("g") })).ok, true);
    } finally {
      d.close();
    }
    const w = await gw.waitLog("group membership is not checked");
    assert.equal(w.level, "warn");
    assert.equal(w.mode, "open");
    assert.equal(w.key, "group_membership");
    assert.equal(gw.logged("group membership is not checked").length, 1);
  });
});
