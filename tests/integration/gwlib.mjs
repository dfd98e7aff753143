// Helpers of the gateway-*.test.mjs files (issue 6: gateway semantics):
// devices (a socket.io-client of a user, with its token, recorded by
// lib.mjs's record()), placing a user's devices on distinct workers, a bad
// input's answer, and a check that nobody heard anything they should not
// have.
//
// lib.mjs (startGateway, record, token, getJSON, ...) is shared with the
// other integration tests.
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { getJSON, record, sleep, token, until } from "./lib.mjs";

export { SECRET, getJSON, sleep, startGateway, token, until } from "./lib.mjs";

// A device of user (a token for it unless opts.auth is given); not awaited.
// Websocket only unless opts.transports says otherwise: one TCP
// connection, so one worker, and fewer requests on a loaded machine.
export function device(url, user, opts = {}) {
  const socket = io(url, {
    reconnection: false,
    forceNew: true,
    transports: ["websocket"],
    auth: user === null ? undefined : { token: token(user) },
    ...opts,
  });
  return record(socket, user);
}

// A connected device (greeting received).
export async function online(url, user, opts = {}) {
  const d = device(url, user, opts);
  try {
    return await d.ready();
  } catch (e) {
    d.close();
    throw e;
  }
}

// n devices of user on n distinct workers, none of them in avoid (a set of
// slots).  Devices that land on a taken worker stay open until the choice
// is made (so the user never goes offline in between) and are then
// closed.  Bounded: at most `tries` connections.
export async function placed(url, user, n, { avoid = new Set(), tries = 60, opts = {} } = {}) {
  const kept = [], extra = [];
  const slots = new Set(avoid);
  try {
    for (let i = 0; i < tries && kept.length < n; i++) {
      const d = await online(url, user, opts);
      if (slots.has(d.slot)) {
        extra.push(d);
        continue;
      }
      slots.add(d.slot);
      kept.push(d);
    }
  } finally {
    if (kept.length < n) for (const d of kept) d.close();
    for (const d of extra) d.close();
  }
  if (kept.length < n)
    throw new Error(`could not place ${n} devices of ${user} on distinct workers ` +
      `avoiding ${[...avoid]} in ${tries} connections`);
  return kept;
}

// The gateway's aggregated figures once every one of `workers` workers
// has reported (they are up to a second old).
export async function metrics(url, workers = 4, ms = 15000) {
  return until(async () => {
    const m = await getJSON(url, "/metrics");
    return m.workers?.length === workers ? m : null;
  }, ms, `/metrics listing ${workers} workers`);
}

// The figures of downstream service `name` in /metrics (summed over the
// workers), once all `workers` workers have reported and pred holds of
// them (issue 13).
export async function serviceFigures(url, workers, name, pred = () => true, what = "", ms = 15000) {
  return until(async () => {
    const m = await getJSON(url, "/metrics");
    if (m.workers?.length !== workers) return null;
    const s = m.services?.[name];
    return s && pred(s) ? s : null;
  }, ms, `/metrics services.${name} ${what}`);
}

// from sends a message (to `to`, unless args say where) and resolves with
// its content once `to` has it.
export async function sendAndWait(from, to, args = { receiver_id: to.user }, content = uid("m")) {
  const ack = await from.ack("send_message", { ...args, content });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  await to.wait("receive_message", { pred: (m) => m.content === content });
  return content;
}

// A bad input's answer: the ack {ok:false, error:{code, message}} and an
// `error` event {code, message, event} right before it.  Returns the ack.
export async function rejected(d, code, event, ...args) {
  const before = d.all("error").length;
  const ack = await d.ack(event, ...args);
  const what = `${event} ${JSON.stringify(args)}`;
  assert.equal(ack?.ok, false, `${what}: ack ${JSON.stringify(ack)}`);
  assert.equal(ack.error?.code, code, `${what}: ack ${JSON.stringify(ack)}`);
  assert.equal(typeof ack.error.message, "string");
  assert.ok(ack.error.message.length > 0, `${what}: empty message`);
  // The error event is written before the ack on the same socket.
  const errs = d.all("error").slice(before);
  assert.equal(errs.length, 1, `${what}: ${errs.length} error events`);
  assert.deepEqual(errs[0].args[0], { code, message: ack.error.message, event },
    `${what}: error event`);
  return ack;
}

// The event names d recorded since mark (an index into d.events), less
// the ones in `ignore`, with their arguments but the offset that
// connection state recovery (issue 15) adds as the last one: what was
// heard is compared, not where in the host's log it was.
export function heardSince(d, mark, ignore = []) {
  return d.events.slice(mark).filter((e) => !ignore.includes(e.name))
    .map((e) => `${e.name} ${JSON.stringify(withoutOffset(e.args))}`);
}

// An event's arguments without a trailing recovery offset (8 hex of the
// log's epoch, 16 of its sequence number).
export function withoutOffset(args) {
  const last = args.at(-1);
  return args.length > 1 && typeof last === "string" &&
    /^[0-9a-f]{24}$/.test(last) ? args.slice(0, -1) : args;
}

export const PRESENCE = ["user_connected", "user_disconnected"];

// Every device in ds closed, and a moment for the gateway to notice.
export async function closeAll(ds) {
  for (const d of ds) d?.close();
  await sleep(50);
}

// A message id unique in this run.
let seq = 0;
export function uid(prefix = "m") {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

// A TCP proxy on a free loopback port in front of a gateway's port
// (issue 15): cut() destroys every proxied pair of sockets, so the gateway
// sees its connection close with no DISCONNECT and the client sees a
// transport close; cut({silent: true}) closes only the client's side and
// leaves the gateway's open and unread (a client whose network went away:
// the gateway hears nothing until its heartbeat gives up); while `held` is
// set a new connection is closed as soon as accepted (the client's
// reconnection attempts fail and it retries); `target` (a port) may change
// between connections (another instance).
// Resolves {url, port, target, held, accepted, cut(), close()}.
import { connect as netConnect, createServer as netServer } from "node:net";

export async function tcpProxy(target) {
  const pairs = new Set();
  const silent = new Set();	// gateway sides left open by a silent cut
  const p = { target, held: false, accepted: 0, refused: 0 };
  const srv = netServer((c) => {
    if (p.held) {
      p.refused++;
      c.destroy();
      return;
    }
    p.accepted++;
    const u = netConnect(p.target, "127.0.0.1");
    const pair = [c, u];
    pairs.add(pair);
    const end = () => {
      c.destroy();
      if (!silent.has(u)) u.destroy();
      pairs.delete(pair);
    };
    for (const s of pair) {
      s.setNoDelay(true);
      s.on("error", end);
      s.on("close", end);
    }
    c.pipe(u);
    u.pipe(c);
  });
  await new Promise((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", resolve);
  });
  p.port = srv.address().port;
  p.url = `http://127.0.0.1:${p.port}`;
  p.cut = ({ silent: quiet = false } = {}) => {
    const n = pairs.size;
    for (const [c, u] of pairs) {
      if (quiet) {
        silent.add(u);
        u.unpipe(c);
        c.unpipe(u);
        u.pause();
      } else {
        u.destroy();
      }
      c.destroy();
    }
    pairs.clear();
    return n;
  };
  p.close = () => new Promise((resolve) => {
    p.cut();
    for (const u of silent) u.destroy();
    silent.clear();
    srv.close(() => resolve());
  });
  return p;
}
