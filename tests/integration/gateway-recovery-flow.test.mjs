// Guards issue 15 (connection state recovery): the recovery's own flow,
// with the real socket.io-client (which recovers by itself: it sends back
// the pid and the last offset it saw) against a gateway of 2 workers.
// A client whose TCP connection is lost (a proxy in the test cuts it: no
// DISCONNECT, as when a network goes) while a group's messages are sent
// comes back with socket.recovered true, the same socket.id, every missed
// message once and in order, still in its group, and nobody hears it go
// offline; across workers too, over long-polling (the lost waiting GET
// closes the session at once), and when the auth service verifies the
// token (the CONNECT answered later).  A socket whose rooms pass its slot,
// or that missed more than recovery_max_replay packets, gets a new socket.
// Another user's token with its pid, a token that does not verify or that
// expired, recovers nothing (refused as any CONNECT); nor does a pid older
// than max_disconnection_duration (no stale replay).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { io } from "socket.io-client";
import { getJSON, online, sleep, startGateway, token, until } from "./gwlib.mjs";
import { freePort, record } from "./lib.mjs";
import { startStub } from "./stubs.mjs";

const GROUP = "rf-group";

// A TCP proxy to the gateway that the test cuts: every connection through
// it is destroyed on both sides at once, and while it is down new ones are
// destroyed as they come (the client keeps trying, as on a dead network).
async function proxy(port) {
  const pairs = new Set();
  let down = false;
  const server = net.createServer((c) => {
    if (down) {
      c.destroy();
      return;
    }
    const up = net.connect(port, "127.0.0.1");
    const pair = [c, up];
    pairs.add(pair);
    // A long-poll GET sent on, its answer not back yet.
    c.on("data", (b) => { if (b.subarray(0, 4).toString() === "GET ") pair.get = true; });
    up.on("data", () => { pair.get = false; });
    const end = () => { c.destroy(); up.destroy(); pairs.delete(pair); };
    c.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
    c.pipe(up);
    up.pipe(c);
  });
  const at = await freePort();
  await new Promise((r) => server.listen(at, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${at}`,
    cut() {
      down = true;
      for (const [c, up] of pairs) { c.destroy(); up.destroy(); }
      pairs.clear();
    },
    restore() { down = false; },
    // A GET waits at the gateway (long-polling): cut now, and the
    // gateway hears its connection end; cut between two, and nothing.
    polling() { return [...pairs].some((p) => p.get); },
    close() {
      this.cut();
      return new Promise((r) => server.close(r));
    },
  };
}

// Stop the gateway; under ASan any report of a worker or the master is a
// failure.
async function stop(gw) {
  if (!gw) return;
  await gw.shutdown();
  assert.deepEqual(gw.logged(/Sanitizer|runtime error:/).map((l) => l.raw ?? l.msg), [],
    "sanitizer reports");
}

// A device of user through the proxy that reconnects by itself.
function roaming(url, user, auth = { token: token(user) }, transports = ["websocket"]) {
  const socket = io(url, {
    forceNew: true,
    transports,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
    auth,
  });
  return record(socket, user);
}

// The summed figures, once both workers reported and pred holds.
function figures(url, pred, what) {
  return until(async () => {
    const m = await getJSON(url, "/metrics");
    return m.workers?.length === 2 && pred(m.totals ?? m) ? (m.totals ?? m) : null;
  }, 15000, what);
}

// n messages from sender to the group, each acked; their contents.
async function send(sender, tag, n) {
  const sent = [];
  for (let i = 0; i < n; i++) {
    const content = `${tag}-${i}`;
    const ack = await sender.ack("send_message", { group_id: GROUP, content });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    sent.push(content);
  }
  return sent;
}

// The contents of the group messages d got whose tag is tag, in order.
function got(d, tag) {
  return d.args("receive_message", (m) => m.content?.startsWith(`${tag}-`))
    .map((m) => m.content);
}

// Cut d's connection (no ghost before: the last recovery dropped it) and
// wait until the gateway parked its session: its ghost is counted.
async function cut(gw, px, d) {
  await figures(gw.url, (t) => t.recovery_parked === 0, "no ghost");
  if (d.socket.io.engine.transport.name === "polling")
    await until(() => px.polling(), 10000, "a waiting GET");
  const mark = d.mark();
  px.cut();
  await d.next(mark, "disconnect");
  await figures(gw.url, (t) => t.recovery_parked === 1, "the session parked");
}

// Cut d's connection, wait until the gateway parked its session (its
// ghost counted), send n messages meanwhile, let it come back: resolves
// once it is connected again.
async function cutAndSend(gw, px, d, sender, tag, n) {
  await cut(gw, px, d);
  const sent = await send(sender, tag, n);
  const back = d.mark();
  px.restore();
  await d.next(back, "connect", { ms: 15000 });
  return sent;
}

describe("recovery across a lost connection", () => {
  let gw, px, alice, bob, carol;

  before(async () => {
    gw = await startGateway({ workers: 2 });
    px = await proxy(gw.port);
    alice = roaming(px.url, "rf-alice");
    await alice.ready();
    assert.equal((await alice.ack("join_room", { group_id: GROUP })).ok, true);
    bob = await online(gw.url, "rf-bob");
    assert.equal((await bob.ack("join_room", { group_id: GROUP })).ok, true);
    carol = await online(gw.url, "rf-carol");	// watches presence
  });
  after(async () => {
    for (const d of [alice, bob, carol]) d?.close();
    await px?.close();
    await stop(gw);
  });

  test("recovered, same id, every message once in order, no offline", async () => {
    const id = alice.socket.id;
    assert.equal(typeof alice.socket._pid, "string");
    // Some traffic first: the client holds an offset.
    assert.deepEqual(got(alice, "live").length, 0);
    const live = await send(bob, "live", 3);
    await until(() => got(alice, "live").length === 3, 10000, "live messages");
    const workers = new Set([alice.wid]);
    let round = 0;
    // Until a reconnect lands on the other worker (bounded): each one
    // must recover, on the same worker or the other.
    for (; round < 12 && (round < 2 || workers.size < 2); round++) {
      const tag = `gap${round}`;
      const sent = await cutAndSend(gw, px, alice, bob, tag, 20);
      assert.equal(alice.socket.recovered, true, `round ${round}`);
      assert.equal(alice.socket.id, id);
      await until(() => got(alice, tag).length >= sent.length, 10000,
        `round ${round}: the missed messages`);
      assert.deepEqual(got(alice, tag), sent);
      workers.add(alice.wid);
    }
    assert.equal(workers.size, 2, "a reconnect reached the other worker");
    // Still in the group: a message after the recovery comes live, once.
    const after = await send(bob, "after", 2);
    await until(() => got(alice, "after").length === 2, 10000, "after");
    assert.deepEqual(got(alice, "after"), after);
    assert.deepEqual(got(alice, "live"), live);
    // Nobody heard alice go.
    await sleep(300);
    assert.equal(carol.all("user_disconnected", (u) => u?.user_id === "rf-alice").length, 0);
    assert.equal(bob.all("user_disconnected", (u) => u?.user_id === "rf-alice").length, 0);
    // Counted; and every ghost gone (dropped when recovered, not expired).
    const t = await figures(gw.url, (x) => x.recovery_ok >= round &&
      x.recovery_parked === 0, "recovery_ok, no ghost left");
    assert.ok(t.recovery_attempts >= round);
    assert.ok(t.recovery_replayed >= 20 * round);
  });

  test("over long-polling: the lost poll closes the session, which recovers", async () => {
    // Its own proxy: alice's connections stay.
    const ppx = await proxy(gw.port);
    const paula = roaming(ppx.url, "rf-paula", undefined, ["polling"]);
    try {
      await paula.ready();
      assert.equal((await paula.ack("join_room", { group_id: GROUP })).ok, true);
      const id = paula.socket.id;
      const sent = await cutAndSend(gw, ppx, paula, bob, "poll", 10);
      assert.equal(paula.socket.io.engine.transport.name, "polling");
      assert.equal(paula.socket.recovered, true);
      assert.equal(paula.socket.id, id);
      await until(() => got(paula, "poll").length >= 10, 10000, "the missed messages");
      assert.deepEqual(got(paula, "poll"), sent);
      assert.equal(carol.all("user_disconnected", (u) => u?.user_id === "rf-paula").length, 0);
    } finally {
      // Her DISCONNECT through the proxy first: a deliberate close, no
      // ghost left for the next test.
      paula.close();
      await figures(gw.url, (t) => t.recovery_parked === 0, "paula's close").catch(() => {});
      await ppx.close();
    }
  });

  test("another user's token with the pid recovers nothing", async () => {
    const pid = alice.socket._pid, offset = alice.socket._lastOffset;
    const before = (await getJSON(gw.url, "/metrics")).totals;
    await cut(gw, px, alice);
    const sent = await send(bob, "stolen", 3);
    // mallory's own token: she connects, as herself, with nothing of alice's.
    const mallory = record(io(gw.url, {
      forceNew: true, reconnection: false, transports: ["websocket"],
      auth: { token: token("rf-mallory"), pid, offset },
    }), "rf-mallory");
    // A token that does not verify, or alice's own that expired: refused,
    // as any CONNECT.
    const forger = record(io(gw.url, {
      forceNew: true, reconnection: false, transports: ["websocket"],
      auth: { token: token("rf-alice", {}, { secret: "not-the-secret-0123456789abcdef" }), pid, offset },
    }), "rf-forger");
    const expired = record(io(gw.url, {
      forceNew: true, reconnection: false, transports: ["websocket"],
      auth: { token: token("rf-alice", { exp: Math.floor(Date.now() / 1000) - 600 }), pid, offset },
    }), "rf-expired");
    try {
      await mallory.ready();
      assert.equal(mallory.socket.recovered, false);
      assert.notEqual(mallory.socket.id, alice.socket.id);
      await forger.wait("connect_error");
      assert.equal(forger.all("connect").length, 0);
      const [why] = await expired.wait("connect_error");
      assert.match(why.message, /expired/);
      assert.equal(expired.all("connect").length, 0);
      await figures(gw.url, (t) => t.recovery_failed_user > (before.recovery_failed_user ?? 0),
        "recovery_failed_user");
      // alice herself still recovers the session afterwards.
      const back = alice.mark();
      px.restore();
      await alice.next(back, "connect", { ms: 15000 });
      assert.equal(alice.socket.recovered, true);
      await until(() => got(alice, "stolen").length >= 3, 10000, "alice's messages");
      assert.deepEqual(got(alice, "stolen"), sent);
      await sleep(200);
      assert.equal(got(mallory, "stolen").length, 0);
      assert.equal(got(forger, "stolen").length, 0);
      assert.equal(got(expired, "stolen").length, 0);
    } finally {
      mallory.close();
      forger.close();
      expired.close();
      px.restore();
    }
  });
});

describe("past the bounds: a slot's rooms, recovery_max_replay", () => {
  let gw, px, dora;

  before(async () => {
    gw = await startGateway({ workers: 2, conf: "recovery_max_replay 5\n" });
    px = await proxy(gw.port);
    dora = roaming(px.url, "rr-dora");
    await dora.ready();
  });
  after(async () => {
    dora?.close();
    await px?.close();
    await stop(gw);
  });

  test("more missed packets than recovery_max_replay: a new socket", async () => {
    const epx = await proxy(gw.port);	// eve's alone: dora stays
    const eve = roaming(epx.url, "rr-eve");
    const sender = await online(gw.url, "rr-sender");
    try {
      await eve.ready();
      assert.equal((await eve.ack("join_room", { group_id: GROUP })).ok, true);
      assert.equal((await sender.ack("join_room", { group_id: GROUP })).ok, true);
      await send(sender, "few", 1);
      await until(() => got(eve, "few").length === 1, 10000, "a first message");
      const id = eve.socket.id;
      await cut(gw, epx, eve);
      await send(sender, "many", 6);
      const back = eve.mark();
      epx.restore();
      await eve.next(back, "connect", { ms: 15000 });
      assert.equal(eve.socket.recovered, false);
      assert.notEqual(eve.socket.id, id);
      await figures(gw.url, (t) => t.recovery_failed_toomany >= 1, "recovery_failed_toomany");
      await eve.next(back, "online_users");
      await sleep(300);
      assert.equal(got(eve, "many").length, 0);
    } finally {
      eve.close();
      sender.close();
      await epx.close();
    }
  });

  test("is not recoverable: counted, and its client gets a new socket", async () => {
    // 8 groups of 40 characters: past the slot's 256 bytes of names.
    for (let i = 0; i < 8; i++)
      assert.equal((await dora.ack("join_room", { group_id: `rr-${i}-`.padEnd(40, "x") })).ok, true);
    await figures(gw.url, (t) => t.recovery_failed_rooms >= 1, "recovery_failed_rooms");
    const id = dora.socket.id;
    const mark = dora.mark();
    px.cut();
    await dora.next(mark, "disconnect");
    await sleep(300);
    px.restore();
    await dora.next(mark, "connect", { ms: 15000 });
    assert.equal(dora.socket.recovered, false);
    assert.notEqual(dora.socket.id, id);
  });
});

describe("recovery past max_disconnection_duration", () => {
  let gw, px, alice, bob;

  before(async () => {
    gw = await startGateway({ workers: 2, conf: "max_disconnection_duration 1s\n" });
    px = await proxy(gw.port);
    alice = roaming(px.url, "rx-alice");
    await alice.ready();
    assert.equal((await alice.ack("join_room", { group_id: GROUP })).ok, true);
    bob = await online(gw.url, "rx-bob");
    assert.equal((await bob.ack("join_room", { group_id: GROUP })).ok, true);
  });
  after(async () => {
    for (const d of [alice, bob]) d?.close();
    await px?.close();
    await stop(gw);
  });

  test("a gap longer than the window: recovered false, no stale replay", async () => {
    await send(bob, "early", 2);
    await until(() => got(alice, "early").length === 2, 10000, "early");
    const id = alice.socket.id;
    const mark = alice.mark();
    px.cut();
    await alice.next(mark, "disconnect");
    const sent = await send(bob, "stale", 5);
    assert.equal(sent.length, 5);
    await sleep(2500);		// past the window (1 s)
    const back = alice.mark();
    px.restore();
    await alice.next(back, "connect", { ms: 15000 });
    assert.equal(alice.socket.recovered, false);
    assert.notEqual(alice.socket.id, id);
    await alice.next(back, "online_users");
    await figures(gw.url, (t) => t.recovery_failed_expired + t.recovery_failed_nosession >= 1,
      "the expiry counted");
    await sleep(300);
    assert.equal(got(alice, "stale").length, 0);
  });
});

// The auth service verifies tokens: a CONNECT is answered later (its
// auth kept meanwhile); a fresh token at each connect, so none is cached.
describe("recovery when the auth service verifies", () => {
  let gw, px, auth, alice, bob, n = 0, refuse = false;
  const fresh = (user) => `good-${user}-${Date.now()}-${n++}`;

  before(async () => {
    auth = await startStub({
      route: (call) => {
        if (call.method !== "POST" || call.path !== "/api/auth/verify") return undefined;
        const t = String(call.body?.token ?? "");
        if (!t.startsWith("good-") || (refuse && t.startsWith("good-rsalice-")))
          return { status: 401, body: { valid: false, error: "revoked" } };
        return { status: 200, body: { valid: true, user_id: t.split("-")[1],
          exp: Math.floor(Date.now() / 1000) + 3600 } };
      },
    });
    gw = await startGateway({
      workers: 2,
      conf: `auth_mode service\nauth_service_url "${auth.url}"\nservice_timeout 2s\n`,
    });
    px = await proxy(gw.port);
    alice = roaming(px.url, "rsalice", (cb) => cb({ token: fresh("rsalice") }));
    await alice.ready();
    assert.equal((await alice.ack("join_room", { group_id: GROUP })).ok, true);
    bob = await online(gw.url, "rsbob", { auth: { token: fresh("rsbob") } });
    assert.equal((await bob.ack("join_room", { group_id: GROUP })).ok, true);
  });
  after(async () => {
    for (const d of [alice, bob]) d?.close();
    await px?.close();
    await auth?.close();
    await stop(gw);
  });

  test("recovered after the service's answer; a revoked token is refused", async () => {
    const id = alice.socket.id;
    const sent = await cutAndSend(gw, px, alice, bob, "svc", 10);
    assert.equal(alice.socket.recovered, true);
    assert.equal(alice.socket.id, id);
    await until(() => got(alice, "svc").length >= 10, 10000, "the missed messages");
    assert.deepEqual(got(alice, "svc"), sent);
    // The service now refuses alice's tokens: her pid recovers nothing.
    refuse = true;
    await cut(gw, px, alice);
    const late = await send(bob, "svc2", 3);
    const mark = alice.mark(), connects = alice.all("connect").length;
    px.restore();
    await alice.next(mark, "connect_error", { ms: 15000 });
    assert.equal(alice.all("connect").length, connects);
    assert.equal(got(alice, "svc2").length, 0);
    // Accepted again: the session is still there, and recovers.
    refuse = false;
    const back = alice.mark();
    alice.socket.connect();
    await alice.next(back, "connect", { ms: 15000 });
    assert.equal(alice.socket.recovered, true);
    assert.equal(alice.socket.id, id);
    await until(() => got(alice, "svc2").length >= 3, 10000, "the later messages");
    assert.deepEqual(got(alice, "svc2"), late);
  });
});
