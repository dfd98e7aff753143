// Guards issue 13 (downstream services): each service's own settings.
// A service's own token or header (<svc>_token, <svc>_header) reaches that
// service alone and replaces the shared service_token / service_header
// for it, while the others keep getting the shared ones; a service's own
// timeout (<svc>_timeout) ends its calls while another service, on the
// shared service_timeout, waits on; a service's own max_inflight sheds
// its calls while the others are not; `-t` refuses a bad header naming
// its key, without quoting it.
//
// The services are Node stubs (stubs.mjs): real HTTP on loopback.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeAll, getJSON, online, placed, sendAndWait, serviceFigures, startGateway, uid, until } from "./gwlib.mjs";
import { SECRET, SGWD } from "./lib.mjs";
import { startStub } from "./stubs.mjs";

const WORKERS = 2;

const service = (url, name, pred, what) => serviceFigures(url, WORKERS, name, pred, what, 20000);
// alice sends a message (to bob, or to a group); resolves when bob has it.
const send = sendAndWait;

describe("each service's own credentials", () => {
  let gw, ai, pres, room, alice, bob;

  before(async () => {
    [ai, pres, room] = await Promise.all([startStub(), startStub(), startStub()]);
    gw = await startGateway({
      workers: WORKERS,
      conf: `ai_engine_url "${ai.url}"\npresence_engine_url "${pres.url}"\n` +
        `quantum_room_engine_url "${room.url}"\n` +
        "service_token \"shared-bearer\"\nservice_header \"X-Team: core\"\n" +
        "ai_engine_header \"X-Api-Key: ai-k3y\"\n" +
        "quantum_room_engine_token \"room-bearer\"\n" +
        "engine_batch_max 1\n",
    });
    alice = await online(gw.url, "alice");
    [bob] = await placed(gw.url, "bob", 1, { avoid: new Set([alice.slot]) });
  });

  after(async () => {
    await closeAll([alice, bob].filter(Boolean));
    await gw?.shutdown();
    await Promise.all([ai, pres, room].filter(Boolean).map((s) => s.close()));
  });

  test("a service's own token or header reaches it alone; the others get the shared ones", async () => {
    for (const d of [alice, bob])
      assert.deepEqual(await d.ack("join_room", { group_id: "g-keys" }), { ok: true, room: "group:g-keys" });
    const dm = await send(alice, bob, { receiver_id: "bob" });
    const gm = await send(alice, bob, { group_id: "g-keys" });
    const a = await until(() => ai.calls.find((c) => c.body?.content === dm), 10000, "the AI call");
    const r = await until(() => room.calls.find((c) => c.body?.content === gm), 10000, "the room call");
    const p = await until(() => pres.calls.find((c) => c.body?.userId === "alice"), 10000,
      "alice's presence call");

    // The AI engine: its own header, neither the shared token nor header.
    assert.equal(a.headers["x-api-key"], "ai-k3y");
    assert.equal(a.headers.authorization, undefined);
    assert.equal(a.headers["x-team"], undefined);
    // The room engine: its own token, not the shared header.
    assert.equal(r.headers.authorization, "Bearer room-bearer");
    assert.equal(r.headers["x-team"], undefined);
    assert.equal(r.headers["x-api-key"], undefined);
    // The presence engine: the shared token and header, nobody's own.
    assert.equal(p.headers.authorization, "Bearer shared-bearer");
    assert.equal(p.headers["x-team"], "core");
    assert.equal(p.headers["x-api-key"], undefined);
    // Every call each stub had, not only the first.
    for (const c of ai.calls) assert.equal(c.headers.authorization, undefined);
    for (const c of pres.calls) assert.equal(c.headers["x-api-key"], undefined);
    for (const c of room.calls) assert.equal(c.headers.authorization, "Bearer room-bearer");
  });

  test("-t masks the tokens and headers", () => {
    const r = spawnSync(SGWD, ["-t", "-c", gw.file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ai_engine_header "\*\*\*"$/m);
    assert.match(r.stdout, /^quantum_room_engine_token "\*\*\*"$/m);
    assert.match(r.stdout, /^service_header "\*\*\*"$/m);
    assert.doesNotMatch(r.stdout + r.stderr, /ai-k3y|room-bearer|shared-bearer|X-Team/);
    assert.doesNotMatch(JSON.stringify(gw.logs), /ai-k3y|room-bearer|shared-bearer/);
  });
});

describe("each service's own timeout and limit", () => {
  let gw, ai, pres, room, alice, bob;
  const ROOM_MAX = 1;

  before(async () => {
    // The AI engine hangs, with a timeout of its own; the presence engine
    // answers slower than that, within the shared (long) timeout; the
    // room engine hangs, with a limit of its own.
    [ai, pres, room] = await Promise.all([startStub({ mode: "hang" }),
      startStub({ mode: "slow", delay: 1000 }), startStub({ mode: "hang" })]);
    gw = await startGateway({
      workers: WORKERS,
      conf: `ai_engine_url "${ai.url}"\npresence_engine_url "${pres.url}"\n` +
        `quantum_room_engine_url "${room.url}"\n` +
        "service_timeout 60s\nai_engine_timeout 300ms\n" +
        `service_max_inflight 64\nquantum_room_engine_max_inflight ${ROOM_MAX}\n` +
        "breaker_threshold 1000\nbreaker_min_calls 1000\n" +
        "engine_batch_max 1\n",
    });
    alice = await online(gw.url, "alice");
    [bob] = await placed(gw.url, "bob", 1, { avoid: new Set([alice.slot]) });
  });

  after(async () => {
    await closeAll([alice, bob].filter(Boolean));
    await gw?.shutdown();
    await Promise.all([ai, pres, room].filter(Boolean).map((s) => s.close()));
  });

  test("a hung AI engine's calls fail at ai_engine_timeout; the slower presence engine's do not", async () => {
    const N = 3;
    for (let i = 0; i < N; i++) await send(alice, bob, { receiver_id: "bob" });
    // On service_timeout (60s) none would have failed before the guard.
    const a = await service(gw.url, "ai_engine", (s) => s.errors >= N, `errors >= ${N}`);
    assert.equal(a.shed, 0);
    assert.equal(a.rejected, 0);
    // The presence engine's answers, 1 s late, came within its timeout.
    const p = await service(gw.url, "presence_engine",
      (s) => s.requests >= 2 && s.inflight === 0 && s.latency_ms.buckets["+Inf"] >= 2,
      "two answered calls");
    assert.equal(p.errors, 0, "a presence call failed on another service's timeout");
    assert.ok(p.latency_ms.buckets["500"] < p.latency_ms.buckets["+Inf"], "answered after 500 ms");
  });

  test("the room engine is shed past its own max_inflight; the AI engine is not", async () => {
    for (const d of [alice, bob])
      assert.deepEqual(await d.ack("join_room", { group_id: "g-lim" }), { ok: true, room: "group:g-lim" });
    const N = 4;
    for (let i = 0; i < N; i++) await send(alice, bob, { group_id: "g-lim" });
    // alice's worker makes the calls: one in flight (hung), the others shed.
    const r = await service(gw.url, "quantum_room_engine", (s) => s.shed >= N - ROOM_MAX,
      `shed >= ${N - ROOM_MAX}`);
    assert.ok(r.inflight <= ROOM_MAX * WORKERS, `in flight ${r.inflight}`);
    assert.ok(room.hanging() <= ROOM_MAX * WORKERS, `held by the stub: ${room.hanging()}`);
    const a = await getJSON(gw.url, "/metrics");
    assert.equal(a.services.ai_engine.shed, 0, "the AI engine shed on the room engine's limit");
  });
});

describe("-t and a service's header", () => {
  const dir = mkdtempSync(join(tmpdir(), "sgw-svckeys-"));
  const check = (text) => {
    const file = join(dir, "c.conf");
    writeFileSync(file, `jwt_secret "${SECRET}"\n${text}`);
    return spawnSync(SGWD, ["-t", "-c", file], { encoding: "utf8" });
  };

  after(() => rmSync(dir, { recursive: true, force: true }));

  test("refuses a bad header with a message naming the key, and never quotes it", () => {
    const cases = [
      ["ai_engine_header \"X-Api-Key s3cr3t\"\n", /ai_engine_header is not "Name: value": it has no colon/],
      ["service_header \"X Api: s3cr3t\"\n", /service_header is not "Name: value": a header name is/],
      ["chat_service_header \"X-Api-Key: s3cr3t\rX-Evil: 1\"\n", /chat_service_header has a line break/],
      ["auth_service_header \"Content-Length: 5s3cr3t\"\n", /auth_service_header names a header the gateway sets itself/],
      ["presence_engine_header \"X-Api-Key:   \"\n", /presence_engine_header has an empty value/],
      ["service_token s3cr3t\nquantum_room_engine_header \"Authorization: Basic s3cr3t\"\n" +
        "quantum_room_engine_token s3cr3t\n", /quantum_room_engine would get two Authorization headers/],
      ["chat_service_timeout 50ms\n", /chat_service_timeout \(50ms\) must be 0 \(service_timeout\) or at least 100ms/],
    ];
    for (const [text, want] of cases) {
      const r = check(text);
      assert.equal(r.status, 78, `${JSON.stringify(text)}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, want);
      assert.doesNotMatch(r.stderr + r.stdout, /s3cr3t/);
    }
    const ok = check("ai_engine_header \"X-Api-Key: s3cr3t\"\nchat_service_timeout 2s\n");
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^chat_service_timeout 2s$/m);
    assert.match(ok.stdout, /^ai_engine_header "\*\*\*"$/m);
  });
});
