// Guards issue 16 (cross-worker direct messages): io_collect_interval
// makes a woken worker collect I/O for a while before it works (fewer
// wakes and task switches where workers share a CPU; bench/RESULTS.md's
// dmcost prices it).  With it set, nothing changes but the timing: every
// message still arrives, once, in order, across workers both ways, and
// the configuration shows the key.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeAll, placed, startGateway, uid } from "./gwlib.mjs";

let gw, alice, bob;

before(async () => {
  gw = await startGateway({ workers: 2, conf: "io_collect_interval 20ms\n" });
  [alice] = await placed(gw.url, "alice", 1);
  [bob] = await placed(gw.url, "bob", 1, { avoid: new Set([alice.slot]) });
});

after(async () => {
  await closeAll([alice, bob]);
  await gw?.shutdown();
});

test("the configuration shows io_collect_interval", () => {
  const out = execFileSync(process.env.SGWD, ["-t", "-c", gw.file],
    { encoding: "utf8" });
  assert.match(out, /^io_collect_interval 20ms$/m);
});

test("messages cross workers both ways, each once and in order", async () => {
  const n = 100;
  const sent = { alice: [], bob: [] };
  for (let i = 0; i < n; i++) {
    for (const [from, to] of [[alice, bob], [bob, alice]]) {
      const content = uid(`${from.user}-${i}-`);
      sent[from.user].push(content);
      const ack = await from.ack("send_message", { receiver_id: to.user, content });
      assert.equal(ack.ok, true, JSON.stringify(ack));
    }
  }
  for (const [from, to] of [[alice, bob], [bob, alice]]) {
    await to.wait("receive_message", {
      pred: (m) => m.content === sent[from.user][n - 1],
    });
    const got = to.args("receive_message").filter((m) => m.sender_id === from.user)
      .map((m) => m.content);
    assert.deepEqual(got, sent[from.user]);
  }
});
