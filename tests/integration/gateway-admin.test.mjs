// Guards issue 18 (A live dashboard: the Socket.IO Admin UI, in a browser,
// against the gateway): the Admin UI of @socket.io/admin-ui 0.5.1 (its
// ui/dist, served by the gateway at admin_ui_path), in headless Chromium,
// logs in with basic auth (bcrypt hash) and shows the sockets of real
// socket.io-clients on both of 2 workers with their transport, a room
// they joined, each worker as a server (server_stats per worker); drops a
// socket that disconnects; disconnects a client from the socket's page
// (the client hears "io server disconnect"); refuses a wrong password
// (and /metrics counts it); and in read-only mode offers no operation
// while a raw `_disconnect`, `join` or `emit` on /admin changes nothing
// (and /metrics counts them refused).  A raw socket.io-client on /admin
// checks the protocol under the UI: config, all_sockets,
// socket_connected / socket_updated / socket_disconnected across workers,
// room_joined / room_left, the join, leave and _disconnect operations,
// and that no token is ever shown.
//
// Every case runs twice: first against Node's reference (socket.io 4.8 +
// instrument(), admin-reference-server.mjs), which proves the page-driving
// code and the expectations on the real thing, then against the gateway.
// gateway-admin-access.test.mjs has what Node's module lacks (the JWT
// claim, origins, the files' refusals, bounds).
// SCREENSHOT=path writes the Sockets page of the gateway's dashboard
// there (doc/admin-dashboard.png); SCREENSHOT_OF=reference takes it of
// the reference instead.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { io } from "socket.io-client";
import { UI_DIR, bcryptHash, startReference } from "./admin-reference-server.mjs";
import { SECRET, getJSON, online, placed, sleep, startGateway, uid, until }
  from "./gwlib.mjs";
import { record, workerOfSid } from "./lib.mjs";

const CHROMIUM = "/usr/bin/chromium";
const USER = "admin";
const PASSWORD = "dashboard-secret-18";
const HASH = bcryptHash(PASSWORD);
const WORKERS = 2;
const UI_PATH = "/admin/";
const SLOW = 20000;	// hang guard for what the dashboard shows

// The two servers the cases run against.  start({readOnly}) resolves
// {url, uiUrl, close(), servers, spread(user, n), away(user, admin),
// counted(name)}: servers is how many servers the UI lists (the gateway
// sends server_stats per worker), spread places n devices on distinct
// workers (n <= WORKERS), away one device on a worker other than the
// admin socket's, counted(name) is a counter of /metrics' totals
// (admin_logins_refused, admin_ops_refused; null where nothing counts).
const TARGETS = {
  reference: {
    async start({ readOnly = false } = {}) {
      const r = await startReference({ secret: SECRET, username: USER, passwordHash: HASH,
        readOnly, uiPath: UI_PATH });
      return {
        ...r,
        async spread(user, n) {
          const ds = [];
          for (let i = 0; i < n; i++) ds.push(await online(r.url, user));
          return ds;
        },
        servers: 1,
        away: (user) => online(r.url, user),
        counted: async () => null,
      };
    },
  },
  gateway: {
    async start({ readOnly = false } = {}) {
      const gw = await startGateway({ workers: WORKERS, conf: [
        "admin on",
        `admin_username "${USER}"`,
        `admin_password_hash "${HASH}"`,
        `admin_ui_dir "${UI_DIR}"`,
        `admin_ui_path "${UI_PATH}"`,
        `admin_read_only ${readOnly ? "yes" : "no"}`,
        // Two logins may come within a second (a wrong password from the
        // UI, then from a raw client): not what the default of 2 guards.
        "admin_login_rate 20",
      ].join("\n") });
      return {
        url: gw.url,
        uiUrl: `${gw.url}${UI_PATH}`,
        gw,
        // Under ASan (tests/ci.sh's second build) a report, or a worker
        // that died, fails the case that stops it.
        async close() {
          await gw.shutdown();
          assert.deepEqual(gw.logs.filter((l) =>
            /Sanitizer|runtime error:|exited on signal|exited with code/
              .test(l.raw ?? l.msg ?? "")).map((l) => l.raw ?? l.msg), [],
          "sanitizer reports or workers that died");
        },
        servers: WORKERS,
        spread: (user, n) => placed(gw.url, user, n),
        async away(user, admin) {
          const slot = workerOfSid(admin.sid).slot;
          return (await placed(gw.url, user, 1, { avoid: new Set([slot]) }))[0];
        },
        async counted(name) {
          const m = await getJSON(gw.url, "/metrics");
          return m.totals?.[name] ?? 0;
        },
      };
    },
  },
};

let browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: ` +
    "run `sh packaging/install-deps.sh --tests` (it installs chromium)");
  assert.ok(existsSync(`${UI_DIR}/index.html`), `${UI_DIR}: run npm ci in tests/`);
  // As transport-browser.test.mjs launches it; a context per login, so
  // that no login is remembered (the UI keeps a session id in
  // localStorage) from one case to the next.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
      "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
});

// A raw socket.io-client on /admin, recorded (lib.mjs's record()).
function adminClient(url, { password = PASSWORD, transports = ["websocket"] } = {}) {
  return record(io(`${url}/admin`, {
    reconnection: false,
    forceNew: true,
    transports,
    auth: { username: USER, password },
  }));
}

// The sockets an admin client knows of, folded from what it heard as the
// UI's store folds it (src/store/modules/main.js): id -> socket.
function adminView(admin) {
  const view = new Map();
  for (const { name, args } of admin.events) {
    if (name === "all_sockets") {
      view.clear();
      for (const s of args[0]) if (s.nsp === "/") view.set(s.id, structuredClone(s));
    } else if (name === "socket_connected" && args[0].nsp === "/") {
      view.set(args[0].id, structuredClone(args[0]));
    } else if (name === "socket_updated" && view.has(args[0].id)) {
      Object.assign(view.get(args[0].id), args[0]);
    } else if (name === "socket_disconnected" && args[0] === "/") {
      view.delete(args[1]);
    } else if (name === "room_joined" && args[0] === "/") {
      const s = view.get(args[2]);
      if (s && !s.rooms.includes(args[1])) s.rooms.push(args[1]);
    } else if (name === "room_left" && args[0] === "/") {
      const s = view.get(args[2]);
      if (s) s.rooms = s.rooms.filter((r) => r !== args[1]);
    }
  }
  return view;
}

// Wait until the admin's view of socket id satisfies pred (undefined:
// the socket is gone); resolves that socket.
async function seen(admin, id, pred, what) {
  let last;
  await until(() => {
    last = adminView(admin).get(id);
    return pred(last);
  }, SLOW, `the admin to see ${id} ${what}; it sees ${JSON.stringify(last)}`);
  return last;
}

// A new page of a fresh context; external requests (the UI's fonts on
// CDNs) refused, page errors collected.
async function newPage(target) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await ctx.newPage();
  page.problems = [];
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  await page.route((u) => !u.href.startsWith(target.url), (r) => r.abort());
  page.done = () => ctx.close().catch(() => {});
  return page;
}

// Fill the UI's connection modal and submit it.
async function login(page, target, { password = PASSWORD, wsOnly = false } = {}) {
  await page.goto(target.uiUrl, { timeout: 30000 });
  const modal = page.locator(".v-dialog--active");
  await modal.waitFor({ timeout: SLOW });
  await modal.getByLabel("Server URL").fill(target.url);
  await modal.getByLabel("Username").fill(USER);
  await modal.getByLabel("Password").fill(password);
  if (wsOnly) {
    await modal.getByText("Advanced options").click();
    await modal.getByText("WebSocket only?").click();
    assert.equal(await modal.getByLabel("WebSocket only?").isChecked(), true);
  }
  await modal.getByRole("button", { name: "Connect" }).click();
}

// Logged in: the modal gone and the app bar's status connected.
async function loggedIn(page) {
  await page.locator(".v-dialog--active").waitFor({ state: "detached", timeout: SLOW })
    .catch(async () => {
      throw new Error(`still in the connection modal: ${
        await page.locator(".v-dialog--active").innerText()}`);
    });
  await page.locator("header").getByText(/^connected$/i).first().waitFor({ timeout: SLOW });
}

// The UI's pages, through its navigation drawer.
async function open(page, title) {
  await page.locator("nav").getByText(title, { exact: true }).click();
  const want = new RegExp(`#/${title.toLowerCase()}/?$`);
  await until(() => want.test(page.url()), SLOW, `the ${title} page (at ${page.url()})`);
}

// The row that shows text in the table of the Sockets or Rooms page: a
// visible one (the page sliding out stays in the DOM for a moment, and a
// socket's page lists its own room, named by its id).
function row(page, text) {
  return page.locator("main .row-pointer tbody tr:visible", { hasText: text });
}

// Wait until no such row is shown.
async function gone(page, text) {
  await until(async () => (await row(page, text).count()) === 0, SLOW,
    `the row of ${text} to go`);
}

for (const [name, T] of Object.entries(TARGETS)) {
  describe(`${name}: the Admin UI 0.5.1 and its /admin protocol`, () => {
    let target;
    before(async () => {
      target = await T.start();
    });
    after(async () => {
      await target?.close();
    });

    test("protocol: config, all_sockets, connected/updated/disconnected across workers, " +
      "rooms, join/leave/_disconnect, no token", { timeout: 120000 }, async () => {
      const user = uid("proto");
      const group = uid("g");
      const ds = await target.spread(user, WORKERS);
      const admin = adminClient(target.url);
      const extra = [];
      try {
        const [cfg] = await admin.wait("config", { ms: SLOW });
        for (const f of ["EMIT", "JOIN", "LEAVE", "DISCONNECT"])
          assert.ok(cfg.supportedFeatures.includes(f), JSON.stringify(cfg));
        await admin.wait("all_sockets", { ms: SLOW });
        // Both workers' sockets, as the UI reads them; no token anywhere.
        for (const d of ds) {
          const s = await seen(admin, d.socket.id, (x) => x !== undefined, "listed");
          assert.equal(s.nsp, "/");
          assert.equal(s.transport, "websocket");
          assert.equal(typeof s.clientId, "string");
          assert.equal(typeof s.handshake?.address, "string");
          assert.ok(s.rooms.includes(`user:${user}`), JSON.stringify(s.rooms));
          assert.ok(!JSON.stringify(s).includes(d.socket.auth.token), "a token is shown");
        }
        // A socket connected later, on the worker the admin is not on.
        const d3 = await target.away(user, admin);
        extra.push(d3);
        await seen(admin, d3.socket.id, (x) => x?.transport === "websocket", "connected");
        assert.equal(admin.all("socket_connected", (s) => s.id === d3.socket.id).length, 1,
          "socket_connected for the new socket");
        // It joins and leaves a room.
        assert.equal((await d3.ack("join_room", { group_id: group })).ok, true);
        await seen(admin, d3.socket.id, (x) => x?.rooms.includes(`group:${group}`), "join");
        assert.ok(admin.all("room_joined", (n) => n === "/")
          .some((e) => e.args[1] === `group:${group}` && e.args[2] === d3.socket.id));
        assert.equal((await d3.ack("leave_room", { group_id: group })).ok, true);
        await seen(admin, d3.socket.id, (x) => x && !x.rooms.includes(`group:${group}`),
          "leave");
        // A socket that starts on long-polling and upgrades.
        const up = await online(target.url, user, { transports: ["polling", "websocket"] });
        extra.push(up);
        await seen(admin, up.socket.id, (x) => x?.transport === "websocket", "upgraded");
        // The admin's operations: join and leave a socket on the other
        // worker, then disconnect it.
        const ops = `group:${group}-ops`;
        admin.socket.emit("join", "/", ops, d3.socket.id);
        await seen(admin, d3.socket.id, (x) => x?.rooms.includes(ops), "joined by the admin");
        admin.socket.emit("leave", "/", ops, d3.socket.id);
        await seen(admin, d3.socket.id, (x) => x && !x.rooms.includes(ops),
          "removed by the admin");
        const id3 = d3.socket.id;	// socket.io-client forgets it at the end
        admin.socket.emit("_disconnect", "/", false, id3);
        const [reason] = await d3.wait("disconnect", { ms: SLOW });
        assert.equal(reason, "io server disconnect");
        await seen(admin, id3, (x) => x === undefined, "disconnected");
        // A socket that leaves by itself.
        const idUp = up.socket.id;
        up.close();
        await seen(admin, idUp, (x) => x === undefined, "gone");
        assert.ok(admin.all("socket_disconnected", (n) => n === "/")
          .some((e) => e.args[1] === idUp));
        for (const d of ds) assert.equal(d.socket.connected, true);
      } finally {
        admin.close();
        for (const d of [...ds, ...extra]) d.close();
      }
    });

    test("the dashboard lists the sockets of both workers with their transport, each " +
      "server, a room, and drops a socket that leaves", { timeout: 120000 }, async () => {
      const user = uid("ui");
      const group = uid("g");
      const ds = await target.spread(user, WORKERS);
      const poller = await online(target.url, user, { transports: ["polling"] });
      for (const d of ds)
        assert.equal((await d.ack("join_room", { group_id: group })).ok, true);
      const page = await newPage(target);
      try {
        await login(page, target);
        await loggedIn(page);
        await open(page, "Sockets");
        for (const d of ds)
          await row(page, d.socket.id).getByText("WebSocket").waitFor({ timeout: SLOW });
        await row(page, poller.socket.id).getByText("HTTP long-polling")
          .waitFor({ timeout: SLOW });
        // Disconnect buttons, which read-only mode takes away.
        assert.ok(await page.locator("main .row-pointer .mdi-logout").count() >= WORKERS + 1);
        const shot = process.env.SCREENSHOT;
        if (shot && name === (process.env.SCREENSHOT_OF ?? "gateway")) {
          await sleep(1500);	// the page's slide-in and the click's ripple end
          await page.screenshot({ path: shot });
        }
        // Each server of the gateway (a worker) reports.
        await open(page, "Servers");
        await until(async () => {
          const rows = await page.locator("main tbody tr:visible").allInnerTexts();
          return rows.length === target.servers && rows.every((t) => !/no data/i.test(t));
        }, SLOW, `${target.servers} servers on the Servers page`);
        await open(page, "Rooms");
        const r = row(page, `group:${group}`);
        await r.waitFor({ timeout: SLOW });
        assert.equal((await r.locator("td").nth(2).innerText()).trim(), String(WORKERS));
        await open(page, "Sockets");
        const left = poller.socket.id;
        poller.close();
        await gone(page, left);
        for (const d of ds) await row(page, d.socket.id).waitFor({ timeout: SLOW });
        assert.deepEqual(page.problems, []);
      } finally {
        await page.done();
        poller.close();
        for (const d of ds) d.close();
      }
    });

    test("the dashboard disconnects a socket from its page; the client hears it",
      { timeout: 120000 }, async () => {
      const user = uid("kick");
      const ds = await target.spread(user, WORKERS);
      const page = await newPage(target);
      try {
        await login(page, target, { wsOnly: true });
        await loggedIn(page);
        await open(page, "Sockets");
        // Each socket, whichever worker it is on.
        for (const d of ds) {
          const id = d.socket.id;
          await row(page, id).click({ timeout: SLOW });
          await until(() => page.url().includes("/sockets/"), SLOW, `the socket's page`);
          const socketTable = page.locator("main table", { hasText: "Creation date" });
          await socketTable.getByText(id, { exact: true }).waitFor({ timeout: SLOW });
          await socketTable.locator("tr", { hasText: "Status" }).getByRole("button").click();
          const [reason] = await d.wait("disconnect", { ms: SLOW });
          assert.equal(reason, "io server disconnect");
          await open(page, "Sockets");
          await gone(page, id);
        }
        assert.deepEqual(page.problems, []);
      } finally {
        await page.done();
        for (const d of ds) d.close();
      }
    });

    test("a wrong password is refused (the gateway counts it)", { timeout: 120000 }, async () => {
      const before = await target.counted("admin_logins_refused");
      const page = await newPage(target);
      try {
        await login(page, target, { password: `${PASSWORD}-wrong`, wsOnly: true });
        await page.locator(".v-dialog--active").getByText("Invalid credentials")
          .waitFor({ timeout: SLOW });
        const raw = adminClient(target.url, { password: "" });
        try {
          const [err] = await raw.wait("connect_error", { ms: SLOW });
          assert.equal(err.message, "invalid credentials");
          assert.equal(raw.all("all_sockets").length, 0);
        } finally {
          raw.close();
        }
        if (before !== null) {
          await until(async () => (await target.counted("admin_logins_refused")) >= before + 2,
            SLOW,
            "admin_logins_refused to count both refusals");
        }
        await page.locator("header").getByText(/^disconnected$/i).first()
          .waitFor({ timeout: SLOW });
      } finally {
        await page.done();
      }
    });

    test("read-only: no operation offered; a raw _disconnect, join or emit changes nothing",
      { timeout: 120000 }, async () => {
      const ro = await T.start({ readOnly: true });
      const user = uid("ro");
      const ds = [];
      const page = await newPage(ro);
      let admin;
      try {
        ds.push(...await ro.spread(user, WORKERS));
        admin = adminClient(ro.url);
        const [cfg] = await admin.wait("config", { ms: SLOW });
        const ops = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"];
        for (const f of ops)
          assert.ok(!cfg.supportedFeatures.includes(f), JSON.stringify(cfg));
        await login(page, ro, { wsOnly: true });
        await loggedIn(page);
        await open(page, "Sockets");
        for (const d of ds) await row(page, d.socket.id).waitFor({ timeout: SLOW });
        assert.equal(await page.locator("main .row-pointer .mdi-logout").count(), 0,
          "a disconnect button on the Sockets page");
        await row(page, ds[0].socket.id).click();
        await page.locator("main table", { hasText: "Creation date" })
          .getByText(ds[0].socket.id, { exact: true }).waitFor({ timeout: SLOW });
        assert.equal(await page.locator("main .mdi-logout").count(), 0,
          "a disconnect button on the socket's page");
        // The protocol refuses what the UI does not offer.
        for (const d of ds) {
          await seen(admin, d.socket.id, (x) => x !== undefined, "listed");
          admin.socket.emit("_disconnect", "/", false, d.socket.id);
          admin.socket.emit("join", "/", "group:ro-forced", d.socket.id);
          admin.socket.emit("emit", "/", d.socket.id, "receive_message", { content: "x" });
        }
        // Nothing comes of it: the gateway counts the refusals; then a
        // generous moment, and a round trip on each socket after it.
        const refused = await ro.counted("admin_ops_refused");
        if (refused !== null) {
          await until(async () => (await ro.counted("admin_ops_refused")) >= 3 * WORKERS, SLOW,
            `admin_ops_refused to count ${3 * WORKERS} operations (${refused})`);
        }
        await sleep(2000);
        for (const d of ds) {
          assert.equal(d.socket.connected, true);
          assert.equal((await d.ack("join_room", { group_id: uid("g") })).ok, true);
          assert.equal(d.all("receive_message").length, 0);
          assert.ok(!adminView(admin).get(d.socket.id)?.rooms.includes("group:ro-forced"));
        }
        assert.equal(admin.socket.connected, true);
        assert.deepEqual(page.problems, []);
      } finally {
        await page.done();
        admin?.close();
        for (const d of ds) d.close();
        await ro.close();
      }
    });
  });
}
