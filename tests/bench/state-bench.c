/*
 * state-bench.c - what the correlation state adds per message, and what
 * the store weighs (tests/bench/state-bench.sh builds and runs it).
 *
 * state-bench [-c CONF] [-n N] [-b sqlite|postgresql] [-C CONNINFO]
 *     DIR FILE...
 *
 * Each FILE is scanned (the scan is timed apart), then run through
 * emf_state_correlate() against a fresh store in DIR (SQLite) or at
 * CONNINFO (PostgreSQL), with a made-up envelope per file (sender
 * sN@bench.example, so no cap is reached) unless the file lists come in
 * pairs (the PPAP pairs: -p: file 2k+1 is the password mail of 2k, same
 * envelope). The list is cycled until N messages have passed. Prints the
 * median and 99th percentile of the correlation time per message (all
 * messages, and those that neither hold nor resolve: the bare lookups),
 * how many were held and resolved, and the store size at the end (SQLite:
 * the file with its WAL; PostgreSQL: pg_total_relation_size of emf_held).
 * -m: the correspondence memory on (state.memory): every scan asks it
 * (the lookups are timed), and every other message is also recorded as
 * outbound mail (timed; its Message-ID made unique per message, so that
 * the table grows as with real traffic); the per-message state time then
 * counts the correlation, the lookups and the record; the rows of
 * emf_sent are counted at the end.
 * A benchmark: it prints figures and never fails on them.
 */
#include "config.h"

#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "emf.h"
#include "store/state.h"

/* The memory's lookups, timed. */
static const struct emf_memory *real_memory;
static double lookup_ms;	/* in the current message */
static unsigned lookups;

static bool
timed_lookup(void *ctx, const struct emf_memory_query *q,
    struct emf_memory_answer *a)
{
	gint64 t0 = g_get_monotonic_time();
	bool ok = real_memory->lookup(ctx, q, a);

	lookup_ms += (double)(g_get_monotonic_time() - t0) / 1000.0;
	lookups++;
	return ok;
}

/* A copy of msg whose Message-ID gets the prefix "bK." (NULL: none). */
static char *
unique_mid(const char *msg, size_t len, long k, size_t *outlen)
{
	static const char key[] = "\nmessage-id:";
	size_t n = sizeof(key) - 1;

	for (size_t i = 0; i + n < len && i < 65536; i++) {
		if (g_ascii_strncasecmp(msg + i, key, n) != 0)
			continue;
		for (size_t j = i + n; j < len && msg[j] != '\n'; j++) {
			if (msg[j] == '<') {
				char *pre = g_strdup_printf("b%ld.", k);
				size_t pl = strlen(pre);
				char *out = g_malloc(len + pl);

				memcpy(out, msg, j + 1);
				memcpy(out + j + 1, pre, pl);
				memcpy(out + j + 1 + pl, msg + j + 1,
				    len - j - 1);
				*outlen = len + pl;
				g_free(pre);
				return out;
			}
		}
		return NULL;
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *backend = "sqlite", *conninfo = "";
	long n = 10000;
	bool pairs = false, memory = false;
	struct emf_memory timed = { timed_lookup, NULL };
	double *lk, *rec;
	size_t nlk = 0, nrec = 0, known = 0, unknown = 0;
	struct emf_error err;
	struct emf_cfg *cfg;
	struct emf_engine *engine;
	struct emf_state_opts so;
	struct emf_state *st;
	char *path = NULL;
	GPtrArray *files = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)g_bytes_unref);
	double *all, *bare, *scans;
	size_t nall = 0, nbare = 0, held = 0, resolved = 0, expired = 0;
	int c;

	while ((c = getopt(argc, argv, "c:n:b:C:pm")) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'b': backend = optarg; break;
		case 'C': conninfo = optarg; break;
		case 'p': pairs = true; break;
		case 'm': memory = true; break;
		default:
			fprintf(stderr, "usage: state-bench [-c CONF] [-n N] "
			    "[-b BACKEND] [-C CONNINFO] [-p] DIR FILE...\n");
			return 2;
		}
	}
	if (argc - optind < 2 || n <= 0)
		return 2;
	for (int i = optind + 1; i < argc; i++) {
		char *d;
		size_t len;

		if (!g_file_get_contents(argv[i], &d, &len, NULL)) {
			fprintf(stderr, "state-bench: cannot read %s\n", argv[i]);
			return 2;
		}
		g_ptr_array_add(files, g_bytes_new_take(d, len));
	}
	if (emf_library_init() != EMF_OK ||
	    emf_cfg_load(conf, &cfg, &err) != EMF_OK ||
	    emf_engine_new(cfg, &engine, &err) != EMF_OK) {
		fprintf(stderr, "state-bench: %s\n", err.msg);
		return 2;
	}
	emf_state_opts_from_cfg(emf_engine_cfg(engine), &so);
	so.backend = backend;
	so.conninfo = conninfo;
	so.max_total = 100000000;
	so.max_per_sender = 100000000;
	so.memory = memory;
	if (strcmp(backend, "sqlite") == 0) {
		g_mkdir_with_parents(argv[optind], 0700);
		path = g_build_filename(argv[optind], "state.sqlite", NULL);
		so.path = path;
	}
	if (emf_state_open(&so, &st, &err) != EMF_OK) {
		fprintf(stderr, "state-bench: %s\n", err.msg);
		return 2;
	}
	all = g_new(double, n);
	bare = g_new(double, n);
	scans = g_new(double, n);
	lk = g_new(double, n);
	rec = g_new(double, n);
	real_memory = emf_state_memory(st);
	timed.ctx = real_memory ? real_memory->ctx : NULL;
	for (long k = 0; k < n; k++) {
		guint fi = (guint)(k % files->len);
		gsize len;
		const char *msg = g_bytes_get_data(
		    g_ptr_array_index(files, fi), &len);
		char *copy = NULL;
		/* One envelope per file, or per pair; a new one per cycle. */
		long who = pairs ? k / 2 : k;
		char *sender = g_strdup_printf("s%ld@bench.example", who);
		char *rcpt = g_strdup_printf("r%ld@corp.example", who);
		const char *rcpts[] = { rcpt };
		struct emf_envelope env = { 0 };
		struct emf_report *r;
		GPtrArray *ev = g_ptr_array_new_with_free_func(
		    (GDestroyNotify)emf_state_event_free);
		gint64 t0, t1, t2;
		bool plain = true;

		env.sender = sender;
		env.rcpts = rcpts;
		env.nrcpts = 1;
		if (memory && k % 2 == 1) {
			size_t cl;

			copy = unique_mid(msg, len, k, &cl);
			if (copy != NULL) {
				msg = copy;
				len = cl;
			}
		}
		lookup_ms = 0;
		lookups = 0;
		t0 = g_get_monotonic_time();
		{
			struct emf_scan_opts o = { 0 };

			o.memory = memory ? &timed : NULL;
			if (emf_scan_message_opts(engine, msg, len, &env, &o,
			    &r) != EMF_OK)
				return 2;
		}
		t1 = g_get_monotonic_time();
		if (memory && emf_state_memory_failed(st, &err)) {
			fprintf(stderr, "state-bench: %s\n", err.msg);
			return 2;
		}
		if (lookups > 0) {
			lk[nlk++] = lookup_ms;
			if (emf_report_has_symbol(r, "KNOWN_THREAD"))
				known++;
			if (emf_report_has_symbol(r,
			    "REPLY_UNKNOWN_CORRESPONDENT"))
				unknown++;
		}
		if (emf_state_correlate(st, engine, &r, msg, len, &env, "bench",
		    "release_tagged", g_get_real_time() / G_USEC_PER_SEC, ev,
		    &err) != EMF_OK) {
			fprintf(stderr, "state-bench: %s\n", err.msg);
			return 2;
		}
		t2 = g_get_monotonic_time();
		if (memory && k % 2 == 1) {
			unsigned nr;
			gint64 t3 = g_get_monotonic_time();

			if (emf_state_memory_record(st, r,
			    g_get_real_time() / G_USEC_PER_SEC, &nr, &err) !=
			    EMF_OK) {
				fprintf(stderr, "state-bench: %s\n", err.msg);
				return 2;
			}
			rec[nrec++] = (double)(g_get_monotonic_time() - t3) /
			    1000.0;
			t2 += g_get_monotonic_time() - t3;
		}
		/* the lookups ran inside the scan: state time, not scan */
		t1 -= (gint64)(lookup_ms * 1000.0);
		for (guint i = 0; i < ev->len; i++) {
			struct emf_state_event *e = g_ptr_array_index(ev, i);

			plain = false;
			if (e->kind == EMF_STATE_EV_HELD)
				held++;
			else if (e->kind == EMF_STATE_EV_RESOLVED)
				resolved++;
			else
				expired++;
		}
		scans[k] = (double)(t1 - t0) / 1000.0;
		all[nall++] = (double)(t2 - t1) / 1000.0;
		if (plain)
			bare[nbare++] = (double)(t2 - t1) / 1000.0;
		g_ptr_array_free(ev, TRUE);
		emf_report_free(r);
		g_free(sender);
		g_free(rcpt);
		g_free(copy);
	}
	printf("backend %s: %ld messages (%u files%s): held %zu, resolved "
	    "%zu, expired %zu\n", backend, n, files->len,
	    pairs ? ", in pairs" : "", held, resolved, expired);
	printf("  scan               median %.3f ms  p99 %.3f ms\n",
	    pct(scans, (size_t)n, 0.5), pct(scans, (size_t)n, 0.99));
	printf("  state, every msg   median %.3f ms  p99 %.3f ms\n",
	    pct(all, nall, 0.5), pct(all, nall, 0.99));
	printf("  state, lookups only (%zu msgs, neither held nor resolving) "
	    "median %.3f ms  p99 %.3f ms\n", nbare, pct(bare, nbare, 0.5),
	    pct(bare, nbare, 0.99));
	{
		long rows = 0, waiting = 0;

		emf_state_count(st, -1, &rows, &err);
		emf_state_count(st, EMF_STATE_WAITING, &waiting, &err);
		if (memory) {
		long mrows = 0;

		emf_state_memory_count(st, NULL, &mrows, &err);
		printf("  memory lookups (%zu msgs asked) median %.3f ms  p99 "
		    "%.3f ms; KNOWN_THREAD %zu, REPLY_UNKNOWN_CORRESPONDENT %zu\n",
		    nlk, pct(lk, nlk, 0.5), pct(lk, nlk, 0.99), known,
		    unknown);
		printf("  memory records (%zu outbound msgs) median %.3f ms  "
		    "p99 %.3f ms; %ld rows in emf_sent\n", nrec,
		    pct(rec, nrec, 0.5), pct(rec, nrec, 0.99), mrows);
	}
	printf("  rows %ld (waiting %ld)\n", rows, waiting);
	}
	emf_state_close(st);
	if (path != NULL) {
		struct stat sb;
		char *wal = g_strconcat(path, "-wal", NULL);
		long long total = 0;

		if (stat(path, &sb) == 0)
			total += sb.st_size;
		if (stat(wal, &sb) == 0)
			total += sb.st_size;
		printf("  store size %.1f MiB (%.1f KiB per message passed, "
		    "%.1f KiB per held)\n", (double)total / 1048576.0,
		    (double)total / 1024.0 / (double)n,
		    held ? (double)total / 1024.0 / (double)held : 0.0);
		g_free(wal);
	}
	g_free(path);
	g_free(all);
	g_free(bare);
	g_free(scans);
	g_free(lk);
	g_free(rec);
	g_ptr_array_free(files, TRUE);
	emf_engine_unref(engine);
	emf_library_shutdown();
	return 0;
}
