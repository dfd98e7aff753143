// Golden bytes for test_sioredis.c, made by the real Node.js modules the
// gateway must interoperate with (versions pinned in ../package-lock.json):
// socket.io 4.8.1, @socket.io/redis-adapter 8.3.0 (notepack.io 3.0.1),
// @socket.io/redis-emitter 5.1.0, socket.io-parser 4.2.4+.
//
//	cd tests && node unit/sioredis-golden.mjs > unit/sioredis_golden.h
//
// Each adapter runs on a fake Redis client that records what it publishes.
// For every message a Node.js server would act on, the header also holds
// what that server writes to its clients (socket.io-parser's Encoder on
// the packet notepack decodes), which sior_decode() must give byte for
// byte, and for every request the response a Node.js server publishes.
import { createRequire } from "node:module";
import { encode, decode } from "notepack.io";
import { Server } from "socket.io";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";

const require = createRequire(import.meta.url);
const { Encoder } = require("socket.io-parser");

let out = [];
function fakeRedis(numsub = 2) {
	return {
		on() {}, off() {}, pSubscribe() {}, subscribe() {},
		sSubscribe() {}, sUnsubscribe() {},
		publish(ch, m) { out.push([ch, m]); return Promise.resolve(1); },
		sPublish(ch, m) { out.push([ch, m]); return Promise.resolve(1); },
		sendCommand() { return Promise.resolve(["x", String(numsub)]); },
	};
}
const tick = () => new Promise((r) => setTimeout(r, 20));
async function take(fn) {
	out = [];
	fn();
	await tick();
	const r = out;
	out = [];
	return r;
}

const lines = [];
function cstr(buf) {
	let s = "";
	for (const b of buf) {
		if (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c && b !== 0x3f)
			s += String.fromCharCode(b);
		else
			s += "\\x" + b.toString(16).padStart(2, "0") + '""';
	}
	return '"' + s + '"';
}
function emit(name, fields) {
	lines.push(`static const struct golden ${name} = {`);
	for (const [k, v] of Object.entries(fields)) {
		const b = v === undefined ? null :
		    Buffer.isBuffer(v) ? v : Buffer.from(String(v));
		lines.push(b === null ? `\t.${k} = NULL, .${k}_len = 0,` :
		    `\t.${k} = ${cstr(b)}, .${k}_len = ${b.length},`);
	}
	lines.push("};");
}
// What a Node.js server writes to its clients for a broadcast packet.
function clientText(packet, nsp) {
	const enc = new Encoder().encode({ ...packet, nsp });
	return { text: enc[0], att: enc.slice(1) };
}
function recordBcast(name, [ch, msg], extra = {}) {
	const [, packet] = decode(msg);
	const { text, att } = clientText(packet, packet.nsp ?? "/");
	emit(name, { channel: ch, msg, text, att0: att[0], att1: att[1],
	    ...extra });
}

// Classic adapter and emitter.
const pub = fakeRedis(), io = new Server({
	adapter: createAdapter(pub, fakeRedis(), { requestsTimeout: 50 }) });
io.of("/").adapter.uid = "gwuid1";
io.of("/chat").adapter.uid = "gwuid2";
const emitter = new Emitter(fakeRedis());

recordBcast("c_room_except", (await take(() => io.to("room1")
    .except("abcdefghij0123456789").emit("ev", 1, 1.5, "\u00e9",
    { b: 2, 1: 3 })))[0]);
recordBcast("c_all_volatile", (await take(() => io.volatile.emit("v")))[0]);
recordBcast("c_numbers", (await take(() => io.to(["a", "b"]).emit("n",
    0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296,
    2 ** 53 + 2, -1, -32, -33, -128, -129, -32768, -32769, -2147483648,
    -2147483649, -(2 ** 60), 0.1, -2.5, 1e21, 1e-7, 5e-324,
    [[{ deep: { er: [null, true, false] } }]], "\u20ac\ud83d\ude00",
    "a string that is longer than thirty-two bytes", "\n\"\\")))[0]);
recordBcast("c_binary_chat", (await take(() => io.of("/chat").to("r")
    .compress(true).emit("bin", Buffer.from([1, 2, 3]),
    { z: 1, 2: Buffer.from("hi"), a: [Buffer.alloc(0)] })))[0]);
recordBcast("e_user", (await take(() => emitter.to("user:42")
    .emit("msg", { text: "hi", n: 7 })))[0]);
recordBcast("e_admin_dates", (await take(() => emitter.of("/admin")
    .except(["x", "y"]).volatile.emit("d", new Date(0), new Date(-1000),
    new Date(Date.UTC(2020, 0, 1, 0, 0, 0, 123)), new Date(8.64e15),
    new Date(-8.64e15), [undefined, 1], { u: undefined, v: 2 })))[0]);

// What our encoder must write: the adapter's own bytes for the same call.
const gw = (await take(() => io.to("room1").except("sid1").emit("ev",
    { "b": 1, "1": [2.5, "x"] }, 3)))[0];
emit("c_gw_encode", { channel: gw[0], msg: gw[1],
    args: JSON.stringify(["ev", { "b": 1, "1": [2.5, "x"] }, 3]) });
// (notepack garbles integral doubles past 2^64, 1e300: not here.)
const gwv = (await take(() => io.volatile.compress(true).emit("e", -0,
    1.0, 1e-300, 2 ** 63)))[0];
emit("c_gw_encode_volatile", { channel: gwv[0], msg: gwv[1],
    args: '["e",-0,1.0,1e-300,9223372036854775807]' });

const gwm = (await take(() => io.to(["a", "b"]).emit("u", "\u20ac\ud83d\ude00",
    -1, -129, -40000, -3000000000, 70000, 5000000000, 0.5,
    [null, true, false, {}], { "\u00e9": { "10": 1, "9": 2 } })))[0];
emit("c_gw_encode_misc", { channel: gwm[0], msg: gwm[1],
    args: '["u","\u20ac\ud83d\ude00",-1,-129,-40000,-3000000000,70000,' +
    '5000000000,0.5,[null,true,false,{}],{"\u00e9":{"10":1,"9":2}}]' });

// Requests 0-9 and the answers a Node.js server publishes.
const io2 = new Server({ adapter: createAdapter(fakeRedis(),
    fakeRedis()) });
const a2 = io2.of("/").adapter;
a2.uid = "nodeb1";
io2.on("ping", (x, cb) => cb("pong"));
async function answer(msg) {
	const r = await take(() => a2.onrequest("socket.io-request#/#",
	    Buffer.isBuffer(msg) ? msg : Buffer.from(msg)));
	await tick();
	return r[0] ? r[0][1] : undefined;
}
async function request(name, fn) {
	const [[ch, msg]] = await take(fn);
	emit(name, { channel: ch, msg, response: await answer(msg) });
}
const hand = async (name, obj) => {
	const msg = JSON.stringify(obj);
	emit(name, { channel: "socket.io-request#/#", msg,
	    response: await answer(msg) });
};
await hand("r0_sockets", { uid: "nodea1", requestId: "rq0", type: 0,
    rooms: ["a", 5] });
await request("r1_all_rooms", () => io.of("/").adapter.allRooms()
    .catch(() => {}));
await request("r2_join", () => io.in("a").except("b").socketsJoin(["c", 7]));
await request("r3_leave", () => io.in("a").socketsLeave("c"));
await request("r4_disconnect", () => io.in("a").disconnectSockets(true));
await request("r5_fetch", () => io.in("a").except("b").fetchSockets()
    .catch(() => {}));
await request("r6_emit", () => io.serverSideEmit("hello", 1, { a: 2 }));
await request("r6_emit_ack", () => io.serverSideEmit("ping", 1,
    () => {}));
await request("r7_bcast_ack", () => io.to("r").timeout(50).emit("q", 1,
    () => {}));
await hand("r8_client_count", { type: 8, requestId: "rq8",
    clientCount: 2 });
emit("r9_bcast_ack", { channel: "socket.io-response#/#",
    msg: encode({ type: 9, requestId: "rq9", packet: [1] }) });
await hand("r2_one", { uid: "old1", requestId: "rq2", type: 2,
    sid: "abcdefghij0123456789", room: 12 });
await hand("r4_one", { uid: "old1", requestId: "rq4", type: 4,
    sid: "abcdefghij0123456789", close: 1 });
await request("e_join", () => emitter.in("a").socketsJoin("b"));
await request("e_disconnect", () => emitter.disconnectSockets());
await request("e_emit", () => emitter.serverSideEmit("x", 1));

// The sharded adapter: every message type it publishes.
const so = new Server({ adapter: createShardedAdapter(fakeRedis(),
    fakeRedis()) });
so.of("/").adapter.uid = "shardeduid000001";
const so2 = new Server({ adapter: createShardedAdapter(fakeRedis(),
    fakeRedis()) });
const b2 = so2.of("/").adapter;
b2.uid = "shardeduid000002";
so2.on("ping", (x, cb) => cb({ pong: x }));
async function sanswer(msg) {
	const m = msg[0] === 0x7b ? JSON.parse(msg) : decode(msg);
	const r = await take(() => b2.onMessage(m));
	await tick();
	return r[0] ? r[0][1] : undefined;
}
async function srequest(name, fn) {
	const [[ch, msg]] = await take(fn);
	const m = typeof msg === "string" ? Buffer.from(msg) : msg;
	let text, att = [];
	const d = m[0] === 0x7b ? JSON.parse(m) : decode(m);
	if (d.type === 3)
		({ text, att } = clientText(d.data.packet, d.nsp));
	emit(name, { channel: ch, msg: m, text, att0: att[0],
	    response: await sanswer(m) });
}
await srequest("s3_room", () => so.to("room1").emit("ev", 1, "\u00e9"));
await srequest("s3_sid", () => so.to("abcdefghij0123456789").emit("ev"));
await srequest("s3_binary", () => so.of("/").except("x").volatile
    .emit("b", Buffer.from([9])));
await srequest("s3_ack", () => so.to("r").timeout(50).emit("q", () => {}));
await srequest("s4_join", () => so.in("a").socketsJoin(["b", "c"]));
await srequest("s5_leave", () => so.in("a").socketsLeave("b"));
await srequest("s6_disconnect", () => so.except("a").disconnectSockets());
await srequest("s7_fetch", () => so.in("a").fetchSockets().catch(() => {}));
await srequest("s9_emit", () => so.serverSideEmit("hello", [1]));
await srequest("s9_emit_ack", () => so.serverSideEmit("ping", 2,
    () => {}));

console.log("/*\n * Generated by tests/unit/sioredis-golden.mjs: do not edit.\n */");
console.log("struct golden {\n\tconst char\t*channel;\n\tsize_t\t\t channel_len;\n" +
    "\tconst char\t*msg;\n\tsize_t\t\t msg_len;\n\tconst char\t*text;\n" +
    "\tsize_t\t\t text_len;\n\tconst char\t*att0;\n\tsize_t\t\t att0_len;\n" +
    "\tconst char\t*att1;\n\tsize_t\t\t att1_len;\n\tconst char\t*args;\n" +
    "\tsize_t\t\t args_len;\n\tconst char\t*response;\n" +
    "\tsize_t\t\t response_len;\n};");
console.log(lines.join("\n"));
process.exit(0);
