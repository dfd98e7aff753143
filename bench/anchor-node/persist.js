'use strict';
/*
 * The anchor's chat-service client, made the way the seed makes its
 * inter-service calls (its README: "Axios - Inter-service HTTP
 * communication", "Circuit breaker pattern"): one axios instance with a
 * keep-alive agent and a timeout, each call through an opossum circuit
 * breaker.  The breaker's thresholds are the ones issue 13 takes from
 * opossum for the gateway (50% failures over a rolling 10 s window with
 * at least 20 calls; open 30 s); opossum's other defaults stay, its
 * rolling latency percentiles included, as a seed using it would have
 * them.
 *
 *   const p = require('./persist.js')({url, path, token, timeout,
 *       maxSockets});
 *   await p.message(m);   // POST <url><path> m, Idempotency-Key: m.id
 *   p.stats();            // {calls, ok, failed, breaker}
 */
const http = require('node:http');
const https = require('node:https');
const axios = require('axios');
const CircuitBreaker = require('opossum');

module.exports = function persistClient(o) {
  const agent = { keepAlive: true, maxSockets: o.maxSockets };
  const headers = { 'Content-Type': 'application/json' };
  if (o.token)
    headers.Authorization = 'Bearer ' + o.token;
  const api = axios.create({
    baseURL: o.url.replace(/\/+$/, ''),
    timeout: o.timeout,
    headers,
    /* 409: the chat service has it already (a retry): persisted. */
    validateStatus: (s) => (s >= 200 && s < 300) || s === 409,
    proxy: false,	/* straight to the service, whatever HTTP_PROXY says */
    httpAgent: new http.Agent(agent),
    httpsAgent: new https.Agent(agent),
  });
  const breaker = new CircuitBreaker((m) => api.post(o.path, m,
      { headers: { 'Idempotency-Key': m.id } }), {
    timeout: o.timeout,
    errorThresholdPercentage: 50,
    rollingCountTimeout: 10000,
    volumeThreshold: 20,
    resetTimeout: 30000,
  });
  const n = { calls: 0, ok: 0, failed: 0 };

  return {
    message(m) {
      n.calls++;
      return breaker.fire(m).then((res) => {
        n.ok++;
        return res.data;
      }, (err) => {
        n.failed++;
        throw err;
      });
    },
    stats() {
      return Object.assign({ breaker: breaker.opened ? 'open' :
        breaker.halfOpen ? 'half-open' : 'closed' }, n);
    },
  };
};
