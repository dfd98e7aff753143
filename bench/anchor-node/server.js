'use strict';
/*
 * The anchor for socket-gateway-bench: the Node.js system the gateway
 * replaces, reduced to the events the benchmark drives, with the same
 * contract as socket-gatewayd (README.md, "The event contract"):
 *
 *   CONNECT {token}      HS256 JWT verified with jsonwebtoken; the user is
 *                        sub (then user_id, userId, id); joins user:<id>;
 *                        emits connected {socket_id, user_id}, then
 *                        online_users (mode all: every user; scoped: self)
 *   send_message         {receiver_id | group_id, content, message_type?}
 *                        -> receive_message to user:<receiver> (or the group
 *                        room but the sender), message_sent to the sender
 *   send_group_message   {group_id, content}: the sender must have joined
 *   join_room/leave_room {room} or {group_id}: group:<id>, presence:<user>
 *   presence             user_connected / user_disconnected on a user's
 *                        first / last socket: to everyone (mode all) or to
 *                        presence:<user> (mode scoped), as the gateway does
 *   persistence          with CHAT_SERVICE_URL, the way the seed persists
 *                        a message: an axios instance (keep-alive agent,
 *                        timeout) behind an opossum circuit breaker POSTs
 *                        it to <url>/api/messages with Idempotency-Key: id;
 *                        the handler awaits that call, then delivers
 *                        receive_message and sends message_sent with
 *                        status "persisted" (on failure: an error event
 *                        persist_failed, nothing delivered).
 *
 * Environment: PORT (3002), HOST (127.0.0.1), JWT_SECRET (required),
 * PRESENCE_MODE (all | scoped, default all), CHAT_SERVICE_URL (none: no
 * persistence, status "sent"), CHAT_MESSAGES_PATH (/api/messages),
 * SERVICE_TOKEN (a bearer token for the chat service, none by default),
 * SERVICE_TIMEOUT_MS (5000, as the gateway's service_timeout),
 * SERVICE_MAX_SOCKETS (64, as the gateway's service_max_inflight),
 * PERSIST_ORDER (after: deliver once persisted, as the seed; before:
 * deliver first, then persist, as the gateway does), RECOVERY (1:
 * connectionStateRecovery, as the gateway's; default off, as the seed).
 * Socket.IO runs on
 * its default engine (ws), with the defaults of socket.io 4.8
 * (pingInterval 25 s, maxHttpBufferSize 1 MB, no per-message deflate).
 *
 * Several anchors as one (issue 14): with REDIS_URL set, the anchor uses
 * @socket.io/redis-adapter 8.3.0 over the `redis` 4.7.1 client (two
 * connections: one publishes, one subscribes), as the seed's "Scaling"
 * does: REDIS_ADAPTER=classic (default) is createAdapter (PSUBSCRIBE
 * <prefix>#/#*: every node gets every room's traffic), sharded is
 * createShardedAdapter with subscriptionMode "dynamic" (SSUBSCRIBE per
 * room: a node gets the traffic of the rooms it has members in).
 * REDIS_KEY_PREFIX (socket.io) is the adapter's key / channelPrefix.  The
 * anchor listens only once both connections are up; Redis lost later is
 * the redis client's business (it reconnects), as in the seed.
 */
const http = require('node:http');
const crypto = require('node:crypto');
const jwt = require('jsonwebtoken');
const { Server } = require('socket.io');

const PORT = parseInt(process.env.PORT || '3002', 10);
const HOST = process.env.HOST || '127.0.0.1';
const SECRET = process.env.JWT_SECRET;
const SCOPED = (process.env.PRESENCE_MODE || 'all') === 'scoped';
const TYPES = new Set(['text', 'image', 'file', 'audio', 'video', 'system']);
const CHAT_URL = process.env.CHAT_SERVICE_URL || '';
const DELIVER_FIRST = (process.env.PERSIST_ORDER || 'after') === 'before';
const REDIS_URL = process.env.REDIS_URL || '';
const REDIS_ADAPTER = process.env.REDIS_ADAPTER || 'classic';
const REDIS_KEY_PREFIX = process.env.REDIS_KEY_PREFIX || 'socket.io';
const persist = CHAT_URL ? require('./persist.js')({
  url: CHAT_URL,
  path: process.env.CHAT_MESSAGES_PATH || '/api/messages',
  token: process.env.SERVICE_TOKEN || '',
  timeout: parseInt(process.env.SERVICE_TIMEOUT_MS || '5000', 10),
  maxSockets: parseInt(process.env.SERVICE_MAX_SOCKETS || '64', 10),
}) : null;

if (!SECRET) {
  console.error('anchor: JWT_SECRET is required');
  process.exit(1);
}
if (REDIS_ADAPTER !== 'classic' && REDIS_ADAPTER !== 'sharded') {
  console.error('anchor: REDIS_ADAPTER is classic or sharded');
  process.exit(1);
}

const online = new Map();	/* user id -> number of sockets */
let messages = 0;

const server = http.createServer((req, res) => {
  if (req.url === '/health' || req.url === '/metrics') {
    const m = process.memoryUsage();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({
      status: 'ok', service: 'socket-gateway-anchor',
      connections: io.engine.clientsCount, onlineUsers: online.size,
      messages, persistence: persist === null ? null : persist.stats(),
      redis: REDIS_URL ? { adapter: REDIS_ADAPTER, uid: io.of('/').adapter.uid,
        pub: pubClient !== null && pubClient.isReady,
        sub: subClient !== null && subClient.isReady } : null,
      uptime: Math.round(process.uptime()),
      memory: { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed },
      timestamp: new Date().toISOString(),
    }));
    return;
  }
  res.writeHead(404);
  res.end();
});

/*
 * RECOVERY=1: socket.io's connection state recovery, as the gateway's
 * (max_disconnection_duration 2 minutes; the token is checked again on
 * a recovery, skipMiddlewares false), for the same work on both sides.
 */
const io = new Server(server, {
  cors: { origin: '*' },
  ...(process.env.RECOVERY === '1' ? {
    connectionStateRecovery: {
      maxDisconnectionDuration: 2 * 60 * 1000,
      skipMiddlewares: false,
    },
  } : {}),
});

function validId(s) {
  return typeof s === 'string' && s.length >= 1 && s.length <= 128 &&
      !s.includes(':');
}

function fail(socket, ack, code, message, event) {
  socket.emit('error', { code, message, event });
  if (typeof ack === 'function')
    ack({ ok: false, error: { code, message } });
}

function presence(event, user) {
  if (SCOPED)
    io.to('presence:' + user).emit(event, { user_id: user });
  else
    io.emit(event, { user_id: user });
}

io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  if (!token)
    return next(new Error('Authentication token required'));
  jwt.verify(token, SECRET, { algorithms: ['HS256'] }, (err, claims) => {
    if (err)
      return next(new Error(err.name === 'TokenExpiredError' ?
          'Authentication token expired' : 'Invalid authentication token'));
    const user = claims.sub || claims.user_id || claims.userId || claims.id;
    if (!validId(String(user || '')))
      return next(new Error('Invalid authentication token'));
    socket.data.user = String(user);
    next();
  });
});

function onMessage(socket, event, p, ack) {
  const user = socket.data.user;

  if (p === null || typeof p !== 'object')
    return fail(socket, ack, 'invalid_payload', 'expected an object', event);
  const group = event === 'send_group_message' ? p.group_id :
      p.group_id !== undefined && p.receiver_id === undefined ?
      p.group_id : undefined;
  const receiver = group === undefined ? p.receiver_id : undefined;
  if (group === undefined && !validId(receiver))
    return fail(socket, ack, 'missing_field', 'receiver_id is required',
        event);
  if (group !== undefined && !validId(group))
    return fail(socket, ack, 'missing_field', 'group_id is required', event);
  if (typeof p.content !== 'string' || p.content.length === 0)
    return fail(socket, ack, 'missing_field', 'content is required', event);
  const type = p.message_type === undefined ? 'text' : p.message_type;
  if (!TYPES.has(type))
    return fail(socket, ack, 'invalid_field', 'bad message_type', event);
  if (group !== undefined && !socket.rooms.has('group:' + group))
    return fail(socket, ack, 'not_in_group', 'join the group\'s room first',
        event);

  const m = { id: crypto.randomBytes(12).toString('base64url'),
    sender_id: user };
  if (receiver !== undefined)
    m.receiver_id = receiver;
  else
    m.group_id = group;
  m.content = p.content;
  m.message_type = type;
  m.created_at = new Date().toISOString();
  if (typeof p.client_msg_id === 'string')
    m.client_msg_id = p.client_msg_id;
  messages++;
  if (persist === null) {
    deliver(socket, receiver, group, m);
    confirm(socket, ack, m, 'sent');
    return;
  }
  if (DELIVER_FIRST)
    deliver(socket, receiver, group, m);
  persist.message(m).then(() => {
    if (!DELIVER_FIRST)
      deliver(socket, receiver, group, m);
    confirm(socket, ack, m, 'persisted');
  }, (err) => fail(socket, ack, 'persist_failed',
      'the chat service did not take the message: ' + err.message, event));
}

function deliver(socket, receiver, group, m) {
  if (receiver !== undefined)
    io.to('user:' + receiver).emit('receive_message', m);
  else
    socket.to('group:' + group).emit('receive_message', m);
}

function confirm(socket, ack, m, status) {
  const sent = Object.assign({}, m, { status });
  socket.emit('message_sent', sent);
  if (typeof ack === 'function')
    ack({ ok: true, message: sent });
}

function roomOf(p) {
  if (p === null || typeof p !== 'object')
    return null;
  if (validId(p.group_id))
    return 'group:' + p.group_id;
  return typeof p.room === 'string' ? p.room : null;
}

function mayJoin(room, user) {
  const [kind, a, b] = room.split(':');
  if (kind === 'group' || kind === 'presence')
    return validId(a) && b === undefined;
  if (kind === 'chat')
    return validId(a) && validId(b) && (a === user || b === user);
  return false;	/* user:<id> is joined automatically, by nobody else */
}

io.on('connection', (socket) => {
  const user = socket.data.user;

  socket.join('user:' + user);
  const n = online.get(user) || 0;
  online.set(user, n + 1);
  if (n === 0)
    presence('user_connected', user);
  socket.emit('connected', { socket_id: socket.id, user_id: user });
  socket.emit('online_users', SCOPED ? [user] : Array.from(online.keys()));

  socket.on('send_message', (p, ack) =>
    onMessage(socket, 'send_message', p, ack));
  socket.on('send_group_message', (p, ack) =>
    onMessage(socket, 'send_group_message', p, ack));
  socket.on('join_room', (p, ack) => {
    const room = roomOf(p);
    if (room === null || !mayJoin(room, user))
      return fail(socket, ack, 'forbidden_room', 'this room is not yours',
          'join_room');
    socket.join(room);
    if (typeof ack === 'function')
      ack(room.startsWith('presence:') ? { ok: true, room,
        online: online.has(room.slice(9)) } : { ok: true, room });
  });
  socket.on('leave_room', (p, ack) => {
    const room = roomOf(p);
    if (room === null || room.startsWith('user:'))
      return fail(socket, ack, 'forbidden_room', 'this room is not yours',
          'leave_room');
    socket.leave(room);
    if (typeof ack === 'function')
      ack({ ok: true, room });
  });
  socket.on('disconnect', () => {
    const k = (online.get(user) || 1) - 1;
    if (k === 0) {
      online.delete(user);
      presence('user_disconnected', user);
    } else
      online.set(user, k);
  });
});

let pubClient = null;
let subClient = null;

/* With REDIS_URL: both Redis connections up and the adapter in place. */
async function redisAdapter() {
  if (!REDIS_URL)
    return;
  const { createClient } = require('redis');
  const { createAdapter, createShardedAdapter } =
      require('@socket.io/redis-adapter');
  pubClient = createClient({ url: REDIS_URL });
  subClient = pubClient.duplicate();
  for (const c of [pubClient, subClient])
    c.on('error', (err) => console.error(JSON.stringify({
      msg: 'anchor: redis error', error: err.message })));
  await Promise.all([pubClient.connect(), subClient.connect()]);
  io.adapter(REDIS_ADAPTER === 'sharded' ?
    createShardedAdapter(pubClient, subClient, {
      channelPrefix: REDIS_KEY_PREFIX, subscriptionMode: 'dynamic' }) :
    createAdapter(pubClient, subClient, { key: REDIS_KEY_PREFIX }));
}

redisAdapter().then(() => server.listen(PORT, HOST, () => {
  console.error(JSON.stringify({ msg: 'anchor listening', host: HOST,
    port: PORT, presence_mode: SCOPED ? 'scoped' : 'all', pid: process.pid,
    node: process.version, chat_service: CHAT_URL || null,
    persist_order: DELIVER_FIRST ? 'before' : 'after',
    redis_adapter: REDIS_URL ? REDIS_ADAPTER : null,
    uid: REDIS_URL ? io.of('/').adapter.uid : null }));
}), (err) => {
  console.error(JSON.stringify({ msg: 'anchor: Redis unreachable',
    error: err.message }));
  process.exit(1);
});

function stop() {
  io.close();
  server.close();
  for (const c of [pubClient, subClient])
    if (c !== null)
      c.disconnect().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
