// Guards issue 4 (worker transport) as a browser sees it: the browser
// bundle of socket.io-client in headless Chromium, on a page of another
// origin, connects to the gateway (4 workers, cors_origin *) with the
// default transports: CORS on long-polling, the upgrade to WebSocket on
// whichever worker the browser's connections reach, `connected` and acks.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { servePage } from "./transport-browser/serve.mjs";
import { startGateway, token, until } from "./lib.mjs";

const CHROMIUM = "/usr/bin/chromium";
// Several sockets: a probe that only works on the session's own worker
// fails for nearly every run, not one in four.
const SOCKETS = 4;

let gw, web, ctx, profile;
const problems = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: ` +
    "run `sh packaging/install-deps.sh --tests` (it installs chromium)");
  gw = await startGateway({ workers: 4, conf: "cors_origin *" });
  web = await servePage();
  profile = mkdtempSync(join(tmpdir(), "sgw-chromium-"));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
      "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await ctx?.close().catch(() => {});
  await web?.close();
  await gw?.shutdown();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test(`${SOCKETS} sockets from a cross-origin page: polling, upgrade, connected, acks`, async () => {
  const page = await ctx.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  const user = "browser-user";
  const q = new URLSearchParams({ gw: gw.url, token: token(user), n: String(SOCKETS) });
  await page.goto(`${web.url}/?${q}`, { timeout: 30000 });
  assert.notEqual(new URL(page.url()).origin, new URL(gw.url).origin, "cross-origin");

  const state = () => page.evaluate(() => window.results);
  await until(async () => (await state()).every((r) => r.connected && r.ack ||
    r.problems.length > 0), 30000, "connected and an ack on every socket");
  await until(async () => (await state()).every((r) => r.upgraded || r.problems.length > 0),
    15000, "every socket to upgrade").catch(() => {});
  const results = await state();
  for (const [i, r] of results.entries()) {
    assert.deepEqual(r.problems, [], `socket ${i}`);
    assert.equal(r.connected.user_id, user);
    assert.equal(typeof r.connected.socket_id, "string");
    assert.ok(r.online.includes(user), `online_users ${JSON.stringify(r.online)}`);
    assert.equal(r.first, "polling", `socket ${i} starts with long-polling`);
    assert.equal(r.ack.ok, false);
    assert.equal(r.ack.error.code, "unknown_event");
  }
  const stuck = results.flatMap((r, i) => (r.upgraded === "websocket" ? [] : [i]));
  assert.deepEqual(stuck, [], `sockets ${stuck.join(", ")} of ${SOCKETS} stayed on polling`);
  const again = await page.evaluate(() => window.ackAll());
  for (const a of again) {
    assert.equal(a.transport, "websocket");
    assert.equal(a.ack?.error?.code, "unknown_event", JSON.stringify(a));
  }
  assert.deepEqual(problems, []);
  await page.close();
});
