/*
 * The result: a table for people on stdout, then one JSON line (always the
 * last line of stdout) for scripts.  Rates are over the measured window;
 * server CPU is the utime + stime delta of the followed pids in the same
 * window (for `conns`: during the connect phase), divided by what was
 * delivered or set up in it.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static double
ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double
ticks_s(const struct bench_result *r, const struct server_sample *a,
    const struct server_sample *b)
{
	if (!a->ok || !b->ok || b->cpu_ticks < a->cpu_ticks)
		return -1;
	return (double)(b->cpu_ticks - a->cpu_ticks) / (double)r->hz;
}

static double
busy_s(const struct bench_result *r, const struct server_sample *a,
    const struct server_sample *b)
{
	if (r->o->server_cpus == 0 || b->busy_ticks < a->busy_ticks)
		return -1;
	return (double)(b->busy_ticks - a->busy_ticks) / (double)r->hz;
}

static double
per(double cpu_s, double n)
{
	return cpu_s >= 0 && n > 0 ? cpu_s * 1e6 / n : -1;
}

static void
json_str(const char *key, const char *s)
{
	const char	*p;

	printf(",\"%s\":\"", key);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void
json_num(const char *key, double v)
{
	if (v < 0)
		printf(",\"%s\":null", key);
	else if (v == (double)(long long)v && v < 1e15)
		printf(",\"%s\":%lld", key, (long long)v);
	else
		printf(",\"%s\":%.3f", key, v);
}

/*
 * storm: the fewest bytes the clients could read: each the final roster
 * once, 42["online_users",["<prefix>0",...]] (an offset argument aside).
 */
static double
storm_min_bytes(const struct bench_opts *o)
{
	double		roster = 24;
	unsigned	i;
	char		id[32];

	for (i = 0; i < o->conns; i++)
		roster += snprintf(id, sizeof(id), "%u", i) + 3 +
		    (double)strlen(o->user_prefix);
	return roster * o->conns;
}

static void
storm_print(const struct bench_result *r)
{
	const struct bench_opts		*o = r->o;
	const struct bench_counters	*t = &r->total;
	double				 min = storm_min_bytes(o);

	if (r->settle_s >= 0)
		printf("  %-14s every client knows all %u users %.2f s after "
		    "the last connect\n", "settled", o->conns, r->settle_s);
	else
		printf("  %-14s NOT within %.0f s of the last connect: %llu of "
		    "%u clients know every user\n", "settled", o->duration,
		    (unsigned long long)r->w1.settled, o->conns);
	printf("  %-14s %llu clients cut by the server, %llu presence events"
	    "\n", "storm", (unsigned long long)t->dropped,
	    (unsigned long long)t->presence);
	printf("  %-14s %.1f MB read by the clients, %.1f MB at least (each "
	    "the final roster once): %.2fx\n", "bytes",
	    (double)t->bytes_in / 1e6, min / 1e6, (double)t->bytes_in / min);
	printf("  %-14s RSS peak %.1f MB, PSS peak %.1f MB (sampled each "
	    "second)\n", "server memory", (double)r->rss_peak_kb / 1024,
	    (double)r->pss_peak_kb / 1024);
}

static void
storm_json(const struct bench_result *r)
{
	json_num("settle_s", r->settle_s);
	json_num("settled", (double)r->w1.settled);
	json_num("bytes_in", (double)r->total.bytes_in);
	json_num("min_bytes", storm_min_bytes(r->o));
	json_num("rss_peak_bytes", (double)r->rss_peak_kb * 1024);
	json_num("pss_peak_bytes", (double)r->pss_peak_kb * 1024);
}

/* --rejoin: how many left, came back, failed; how long it took. */
static void
rejoin_print(const struct bench_result *r)
{
	const struct bench_counters *a = &r->j0, *b = &r->j1;

	printf("  %-14s %u left at once: %llu back, %llu failed, %llu "
	    "dropped, in %.2f s; p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
	    "rejoin", r->o->rejoin, (unsigned long long)(b->ready - a->ready),
	    (unsigned long long)(b->failed - a->failed),
	    (unsigned long long)(b->dropped - a->dropped), r->rejoin_s,
	    ms(hist_quantile(&r->rejoin, 0.5)),
	    ms(hist_quantile(&r->rejoin, 0.99)), ms(r->rejoin.max));
}

static void
rejoin_json(const struct bench_result *r)
{
	const struct bench_counters *a = &r->j0, *b = &r->j1;

	json_num("rejoin", r->o->rejoin);
	json_num("rejoin_back", (double)(b->ready - a->ready));
	json_num("rejoin_failed", (double)(b->failed - a->failed));
	json_num("rejoin_dropped", (double)(b->dropped - a->dropped));
	json_num("rejoin_s", r->rejoin_s);
	json_num("rejoin_p50_ms", ms(hist_quantile(&r->rejoin, 0.5)));
	json_num("rejoin_p99_ms", ms(hist_quantile(&r->rejoin, 0.99)));
	json_num("rejoin_max_ms", ms(r->rejoin.max));
}

void
report_print(const struct bench_result *r)
{
	const struct bench_opts		*o = r->o;
	const struct bench_counters	*t = &r->total, *a = &r->w0, *b = &r->w1;
	double	 win = r->window_s > 0 ? r->window_s : 1;
	double	 cpu_c, cpu_w, delivered, sent, cycles, presence;
	double	 per_msg = -1, per_conn = -1, per_cycle = -1, rss_per = -1;
	double	 rss = -1, conn_rate, busy_c, busy_w, stub_cpu, stub_win;
	double	 stub_total, persisted, redis_cpu;
	double	 idle_us = -1, pss_per = -1;
	unsigned i;
	uint64_t open, ready;
	const char *scen = bench_scenario_names[o->scenario];

	cpu_c = ticks_s(r, &r->srv_c0, &r->srv_c1);
	cpu_w = ticks_s(r, &r->srv_w0, &r->srv_w1);
	busy_c = busy_s(r, &r->srv_c0, &r->srv_c1);
	busy_w = busy_s(r, &r->srv_w0, &r->srv_w1);
	stub_cpu = ticks_s(r, &r->stub_w0, &r->stub_w1);
	redis_cpu = ticks_s(r, &r->redis_w0, &r->redis_w1);
	stub_win = r->stub_w0n >= 0 && r->stub_w1n >= r->stub_w0n ?
	    (double)(r->stub_w1n - r->stub_w0n) : -1;
	stub_total = r->stub_idle >= 0 && r->stub_end >= r->stub_idle ?
	    (double)(r->stub_end - r->stub_idle) : -1;
	persisted = (double)(b->persisted - a->persisted);
	delivered = (double)(b->delivered - a->delivered);
	sent = (double)(b->sent - a->sent);
	cycles = (double)(b->cycles - a->cycles);
	presence = (double)(b->presence - a->presence);
	open = b->open;
	/* The connect phase's, without a --rejoin's reconnections. */
	ready = o->rejoin > 0 ? r->j0.ready : t->ready;
	conn_rate = r->connect_s > 0 ? (double)ready / r->connect_s : 0;
	if (cpu_c >= 0 && ready > 0 && o->scenario == SCEN_CONNS)
		per_conn = cpu_c * 1e6 / (double)ready;
	if (cpu_w >= 0 && open > 0 && o->scenario == SCEN_CONNS)
		idle_us = cpu_w * 1e6 / win / (double)open;
	if (cpu_w >= 0 && delivered > 0)
		per_msg = cpu_w * 1e6 / delivered;
	if (cpu_w >= 0 && cycles > 0)
		per_cycle = cpu_w * 1e6 / cycles;
	if (r->srv_w1.ok && r->srv_idle.ok) {
		rss = (double)r->srv_w1.rss_kb * 1024;
		if (open > 0 && r->srv_w1.rss_kb > r->srv_idle.rss_kb)
			rss_per = (double)(r->srv_w1.rss_kb -
			    r->srv_idle.rss_kb) * 1024 / (double)open;
		if (open > 0 && r->srv_w1.pss_kb > r->srv_idle.pss_kb)
			pss_per = (double)(r->srv_w1.pss_kb -
			    r->srv_idle.pss_kb) * 1024 / (double)open;
	} else if (r->metrics_rss1 > 0) {
		rss = (double)r->metrics_rss1;
		if (open > 0 && r->metrics_rss1 > r->metrics_rss0)
			rss_per = (double)(r->metrics_rss1 - r->metrics_rss0) /
			    (double)open;
	}

	if (!o->json_only) {
		printf("socket-gateway-bench %s: %s (%s", scen, o->label,
		    o->host);
		for (i = 1; i < o->ntargets; i++)
			printf(" + %s", o->hosts[i]);
		printf("), %u load process%s\n", r->procs, r->procs == 1 ? "" :
		    "es");
		printf("  %-14s %llu ready, %llu failed, %llu dropped",
		    "connections", (unsigned long long)ready,
		    (unsigned long long)t->failed,
		    (unsigned long long)t->dropped);
		if (o->scenario != SCEN_CHURN)
			printf(" in %.2f s (%.0f/s)", r->connect_s, conn_rate);
		printf("\n  %-14s p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
		    "connect time", ms(hist_quantile(&r->conn, 0.5)),
		    ms(hist_quantile(&r->conn, 0.99)), ms(r->conn.max));
		if (o->scenario == SCEN_CONNS) {
			if (cpu_c >= 0)
				printf("  %-14s %.2f s CPU during the connect "
				    "phase: %.0f us per connection\n", "server",
				    cpu_c, per_conn);
			if (busy_c >= 0)
				printf("  %-14s %.2f s busy: %.0f us per "
				    "connection\n", "server CPUs", busy_c,
				    per(busy_c, (double)t->ready));
			if (rss >= 0)
				printf("  %-14s %.1f MB RSS with %llu open, "
				    "%.0f bytes per connection\n", "memory",
				    rss / 1048576, (unsigned long long)open,
				    rss_per);
			if (pss_per >= 0 && r->srv_w1.npids > 1)
				printf("  %-14s %.1f MB PSS (shared memory "
				    "counted once): %.0f bytes per connection\n",
				    "", (double)r->srv_w1.pss_kb / 1024,
				    pss_per);
			if (idle_us >= 0)
				printf("  %-14s %.2f s CPU holding them %.1f s "
				    "(%llu pings answered): %.2f us per "
				    "connection per second\n", "idle server",
				    cpu_w, r->window_s, (unsigned long long)
				    (b->pings - a->pings), idle_us);
			if (o->rejoin > 0)
				rejoin_print(r);
		}
		if (o->scenario == SCEN_STORM) {
			storm_print(r);
			if (cpu_c >= 0 && cpu_w >= 0)
				printf("  %-14s %.2f s CPU connecting, %.2f s "
				    "settling\n", "server", cpu_c, cpu_w);
		} else if (o->scenario != SCEN_CONNS) {
			printf("  %-14s %.2f s after %.1f s warm-up", "measured",
			    r->window_s, o->warmup);
			if (o->rate > 0)
				printf(", target %.0f %s/s", o->rate,
				    o->scenario == SCEN_CHURN ? "cycles" :
				    "messages");
			else
				printf(", flat out (window %u)", o->window);
			putchar('\n');
		}
		if (SCEN_IS_DM(o->scenario) || o->scenario == SCEN_FANOUT) {
			printf("  %-14s %.0f (%.0f/s), skipped %llu\n", "sent",
			    sent, sent / win, (unsigned long long)(b->skipped -
			    a->skipped));
			printf("  %-14s %.0f (%.0f/s), lost %llu in all\n",
			    "delivered", delivered, delivered / win,
			    (unsigned long long)t->lost);
			printf("  %-14s p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms"
			    "  max %.3f ms  (%llu samples)\n", "latency",
			    ms(hist_quantile(&r->lat, 0.5)),
			    ms(hist_quantile(&r->lat, 0.99)),
			    ms(hist_quantile(&r->lat, 0.999)), ms(r->lat.max),
			    (unsigned long long)r->lat.count);
			if (cpu_w >= 0)
				printf("  %-14s %.2f s CPU (%.0f%% of one CPU), "
				    "%.2f us per delivered message\n", "server",
				    cpu_w, cpu_w / win * 100, per_msg);
			if (busy_w >= 0)
				printf("  %-14s %.2f s busy (softirq included), "
				    "%.2f us per delivered message\n",
				    "server CPUs", busy_w, per(busy_w,
				    delivered));
		}
		if (SCEN_IS_DM(o->scenario))
			printf("  %-14s %llu, %.0f persisted; p50 %.3f ms  p99 "
			    "%.3f ms  p99.9 %.3f ms  max %.3f ms\n",
			    "message_sent", (unsigned long long)(b->msg_sent -
			    a->msg_sent), persisted,
			    ms(hist_quantile(&r->ack, 0.5)),
			    ms(hist_quantile(&r->ack, 0.99)),
			    ms(hist_quantile(&r->ack, 0.999)), ms(r->ack.max));
		if (o->stub != NULL)
			printf("  %-14s %.0f messages in the window (%.3f per "
			    "delivery), %.0f in all (%.3f per message sent)"
			    "\n", "stub service", stub_win, delivered > 0 &&
			    stub_win >= 0 ? stub_win / delivered : -1,
			    stub_total, t->sent > 0 && stub_total >= 0 ?
			    stub_total / (double)t->sent : -1);
		if (stub_cpu >= 0)
			printf("  %-14s %.2f s CPU (%.0f%% of one CPU), %.2f us "
			    "per delivered message (not in server CPU)\n",
			    "stub CPU", stub_cpu, stub_cpu / win * 100,
			    per(stub_cpu, delivered));
		if (redis_cpu >= 0)
			printf("  %-14s %.2f s CPU (%.0f%% of one CPU), %.2f us "
			    "per delivered message (not in server CPU)\n",
			    "redis CPU", redis_cpu, redis_cpu / win * 100,
			    per(redis_cpu, delivered));
		if (o->scenario == SCEN_CHURN) {
			printf("  %-14s %.0f (%.0f/s), presence events %.0f "
			    "(%.0f/s, %.1f%% of 2 per cycle)\n", "cycles",
			    cycles, cycles / win, presence, presence / win,
			    cycles > 0 ? presence / cycles * 50 : 0);
			if (cpu_w >= 0)
				printf("  %-14s %.2f s CPU (%.0f%% of one CPU), "
				    "%.1f us per connect+disconnect\n", "server",
				    cpu_w, cpu_w / win * 100, per_cycle);
			if (busy_w >= 0)
				printf("  %-14s %.2f s busy (softirq included), "
				    "%.1f us per connect+disconnect\n",
				    "server CPUs", busy_w, per(busy_w, cycles));
		}
		/* storm: its window (the settling) may be a few ms. */
		if (o->scenario != SCEN_STORM) {
			printf("  %-14s %.2f s CPU in the window (%.0f%%)",
			    "client", r->client_cpu_s, r->client_cpu_s / win *
			    100);
			if (r->client_busy_s >= 0)
				printf("; its CPU%s %.0f%% busy (softirq "
				    "included)", r->client_ncpus > 1 ? "s" : "",
				    r->client_busy_s / win * 100 /
				    r->client_ncpus);
			putchar('\n');
		}
		if (o->scenario == SCEN_CHURN)
			printf("  %-14s %llu cycles in all, %llu presence events"
			    " (%llu missing)\n", "presence",
			    (unsigned long long)t->cycles,
			    (unsigned long long)t->presence,
			    (unsigned long long)(2 * t->cycles > t->presence ?
			    2 * t->cycles - t->presence : 0));
		if (t->errors || r->note[0])
			printf("  %-14s %llu error events; %s\n", "errors",
			    (unsigned long long)t->errors, r->note);
	}

	printf("{\"bench\":\"socket-gateway-bench\"");
	json_str("scenario", scen);
	json_str("label", o->label);
	json_num("procs", r->procs);
	json_num("conns", o->conns);
	json_num("ready", (double)ready);
	json_num("failed", (double)t->failed);
	json_num("dropped", (double)t->dropped);
	json_num("connect_s", r->connect_s);
	json_num("connect_per_s", o->scenario == SCEN_CHURN ? -1 : conn_rate);
	json_num("connect_p50_ms", ms(hist_quantile(&r->conn, 0.5)));
	json_num("connect_p99_ms", ms(hist_quantile(&r->conn, 0.99)));
	json_num("connect_max_ms", ms(r->conn.max));
	json_num("rate", o->rate);
	json_num("window", o->window);
	json_num("size", o->size);
	json_num("groups", o->scenario == SCEN_FANOUT ? (double)o->groups : -1);
	json_num("observers", o->scenario == SCEN_CHURN ? (double)o->observers :
	    -1);
	json_num("churn_users", o->scenario == SCEN_CHURN ?
	    (double)o->churn_users : -1);
	json_num("duration_s", r->window_s);
	json_num("sent", sent);
	json_num("sent_per_s", sent / win);
	json_num("delivered", delivered);
	json_num("delivered_per_s", delivered / win);
	json_num("lost", (double)t->lost);
	json_num("skipped", (double)(b->skipped - a->skipped));
	json_num("message_sent", (double)(b->msg_sent - a->msg_sent));
	json_num("cycles", cycles);
	json_num("cycles_per_s", cycles / win);
	json_num("presence", presence);
	json_num("presence_per_s", presence / win);
	json_num("cycles_total", (double)t->cycles);
	json_num("presence_total", (double)t->presence);
	json_num("presence_missing", o->scenario != SCEN_CHURN ? -1 :
	    2 * t->cycles > t->presence ? (double)(2 * t->cycles -
	    t->presence) : 0);
	printf(",\"lat_ms\":{\"n\":%llu,\"p50\":%.3f,\"p99\":%.3f,"
	    "\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f}",
	    (unsigned long long)r->lat.count, ms(hist_quantile(&r->lat, 0.5)),
	    ms(hist_quantile(&r->lat, 0.99)), ms(hist_quantile(&r->lat, 0.999)),
	    ms(r->lat.max), hist_mean(&r->lat) / 1e6);
	json_num("server_pids", r->srv_w1.npids ? r->srv_w1.npids :
	    r->srv_c1.npids);
	json_num("server_cpu_connect_s", cpu_c);
	json_num("server_cpu_s", cpu_w);
	json_num("server_cpu_pct", cpu_w >= 0 ? cpu_w / win * 100 : -1);
	json_num("cpu_us_per_conn", per_conn);
	json_num("cpu_us_per_delivery", per_msg);
	json_num("cpu_us_per_cycle", per_cycle);
	json_num("server_cpus_busy_connect_s", busy_c);
	json_num("server_cpus_busy_s", busy_w);
	json_num("busy_us_per_conn", o->scenario == SCEN_CONNS ?
	    per(busy_c, (double)t->ready) : -1);
	json_num("busy_us_per_delivery", per(busy_w, delivered));
	json_num("busy_us_per_cycle", per(busy_w, cycles));
	json_num("server_rss_bytes", rss);
	json_num("server_idle_rss_bytes", r->srv_idle.ok ?
	    (double)r->srv_idle.rss_kb * 1024 : -1);
	json_num("rss_per_conn_bytes", rss_per);
	json_num("server_pss_bytes", r->srv_w1.ok ?
	    (double)r->srv_w1.pss_kb * 1024 : -1);
	json_num("pss_per_conn_bytes", pss_per);
	json_num("open", (double)open);
	json_num("client_cpu_s", r->client_cpu_s);
	json_num("client_cpus_busy_pct", r->client_busy_s >= 0 ?
	    r->client_busy_s / win * 100 / r->client_ncpus : -1);
	json_num("errors", (double)t->errors);
	json_num("pings", (double)t->pings);
	if (o->scenario == SCEN_CONNS) {
		json_num("idle_cpu_us_per_conn_s", idle_us);
		json_num("pings_held", (double)(b->pings - a->pings));
	}
	if (o->rejoin > 0)
		rejoin_json(r);
	if (o->scenario == SCEN_STORM)
		storm_json(r);
	printf(",\"ok\":%s", r->timed_out || t->ready == 0 ? "false" : "true");
	json_str("note", r->note);
	if (SCEN_IS_DM(o->scenario)) {
		printf(",\"ack_ms\":{\"n\":%llu,\"p50\":%.3f,\"p99\":%.3f,"
		    "\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f}",
		    (unsigned long long)r->ack.count,
		    ms(hist_quantile(&r->ack, 0.5)),
		    ms(hist_quantile(&r->ack, 0.99)),
		    ms(hist_quantile(&r->ack, 0.999)), ms(r->ack.max),
		    hist_mean(&r->ack) / 1e6);
		json_num("persisted", persisted);
		json_num("persisted_per_delivery", delivered > 0 ?
		    persisted / delivered : -1);
		json_num("sent_total", (double)t->sent);
		json_num("delivered_total", (double)t->delivered);
		json_num("message_sent_total", (double)t->msg_sent);
	}
	if (o->stub != NULL) {
		json_num("stub_messages", stub_win);
		json_num("stub_messages_per_delivery", delivered > 0 &&
		    stub_win >= 0 ? stub_win / delivered : -1);
		json_num("stub_messages_total", stub_total);
		json_num("stub_messages_per_sent", t->sent > 0 &&
		    stub_total >= 0 ? stub_total / (double)t->sent : -1);
	}
	if (o->nstub_pids > 0) {
		json_num("stub_cpu_s", stub_cpu);
		json_num("stub_cpu_pct", stub_cpu >= 0 ? stub_cpu / win * 100 :
		    -1);
		json_num("stub_cpu_us_per_delivery", per(stub_cpu, delivered));
	}
	if (o->ntargets > 1)
		json_num("servers", o->ntargets);
	if (o->nredis_pids > 0) {
		json_num("redis_cpu_s", redis_cpu);
		json_num("redis_cpu_pct", redis_cpu >= 0 ? redis_cpu / win *
		    100 : -1);
		json_num("redis_cpu_us_per_delivery", per(redis_cpu,
		    delivered));
	}
	printf("}\n");
	fflush(stdout);
}
