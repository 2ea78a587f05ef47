/*
 * emofilter-scan - scan mail files offline with the milter's engine.
 *
 * emofilter-scan [-c CONF] [--json] [--summary] [envelope options]
 *     FILE...|-
 * emofilter-scan [-c CONF] --raw FILE...
 * emofilter-scan [-c CONF] --check-rules
 * emofilter-scan [-c CONF] --state DIR FILE...
 *
 * .eml files, mbox files (each message separately) and stdin. Exit status
 * (like clamscan): 0 every message clean, 1 at least one tagged or worse,
 * 2 an error (unreadable input, bad configuration, the state store
 * unreachable: the milter would tempfail).
 *
 * --state DIR: the inputs are scanned in order against the correlation
 * state (store/state.h; the SQLite file DIR/state.sqlite, or the
 * configured PostgreSQL): a mail whose encrypted archive stays closed is
 * held, a later mail of the same sender to one of its recipients is tried
 * for its password, and one JSON line per transition is printed after the
 * reports: {"event": "held"|"resolved", "id", "file", "outcome",
 * "opened_by", ...}. The state outlives the run, so several runs (each
 * with its own envelope options) see the same held mail.
 *
 * --outbound FILE (with --state, repeatable): FILE is mail the
 * organisation sent; it goes into the correspondence memory (its
 * Message-ID, sender and recipients: --rcpt, else To) before the inputs
 * are scanned, with a line {"event": "recorded", "file", "message_id",
 * "rows"}. --memory (or state.memory.enabled) asks the memory about the
 * inputs (KNOWN_THREAD, REPLY_UNKNOWN_CORRESPONDENT).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "emf.h"
#include "qsafe.h"
#include "store/quarantine.h"
#include "store/state.h"

#define EXIT_CLEAN 0
#define EXIT_FLAGGED 1
#define EXIT_ERROR 2

struct opts {
	const char *conf;
	bool json;
	bool summary;
	bool raw;
	bool check_rules;
	const char *quarantine;	/* --quarantine DIR */
	const char *state_dir;	/* --state DIR */
	GPtrArray *outbound;	/* --outbound FILE... */
	bool memory;		/* --memory */
	struct emf_envelope env;
	GPtrArray *rcpts;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: emofilter-scan [-c CONF] [--json | --summary] [--sender ADDR]\n"
	    "                      [--rcpt ADDR]... [--client-ip IP] [--helo NAME]\n"
	    "                      [--quarantine DIR] [--state DIR] FILE...|-\n"
	    "       emofilter-scan --version\n"
	    "       emofilter-scan [-c CONF] [--json | --summary] --raw FILE...\n"
	    "       emofilter-scan [-c CONF] --check-rules\n"
	    "\n"
	    "Scans .eml and mbox files (each message separately) or standard\n"
	    "input with the same engine and configuration as the emofilter milter.\n"
	    "  -c, --config FILE   configuration (default %s/emofilter.conf\n"
	    "                      if it exists, else built-in defaults)\n"
	    "  --json              full report, one JSON object per line\n"
	    "  --summary           one line per message: file, score, action, symbols\n"
	    "  --raw               scan bare files (a .doc, a .zip) as a lone attachment\n"
	    "  --sender ADDR       envelope sender (default: from Return-Path)\n"
	    "  --rcpt ADDR         envelope recipient (repeatable)\n"
	    "  --client-ip IP      connecting client address\n"
	    "  --helo NAME         HELO/EHLO name\n"
	    "  --quarantine DIR    also store each message and its report in the\n"
	    "                      quarantine store DIR (see emofilter-quarantine)\n"
	    "  --state DIR         scan in order with the correlation state in DIR\n"
	    "                      (mail held for a password sent in a later mail);\n"
	    "                      prints one JSON line per held/resolved mail\n"
	    "  --outbound FILE     (with --state) FILE is mail we sent: record it in\n"
	    "                      the correspondence memory first (repeatable)\n"
	    "  --memory            (with --state) check replies against that memory\n"
	    "  --check-rules       load the configuration and compile the rules, then exit\n"
	    "Exit status: 0 clean, 1 tagged or worse, 2 error.\n",
	    EMF_SYSCONFDIR);
}

static const char *
default_conf(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/emofilter.conf", EMF_SYSCONFDIR);
	return access(path, R_OK) == 0 ? path : NULL;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_JSON = 256, O_SUMMARY, O_RAW, O_SENDER, O_RCPT, O_IP, O_HELO,
		O_CHECK, O_QUARANTINE, O_STATE, O_VERSION, O_OUTBOUND,
		O_MEMORY };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, O_JSON },
		{ "summary", no_argument, NULL, O_SUMMARY },
		{ "raw", no_argument, NULL, O_RAW },
		{ "sender", required_argument, NULL, O_SENDER },
		{ "rcpt", required_argument, NULL, O_RCPT },
		{ "client-ip", required_argument, NULL, O_IP },
		{ "helo", required_argument, NULL, O_HELO },
		{ "check-rules", no_argument, NULL, O_CHECK },
		{ "quarantine", required_argument, NULL, O_QUARANTINE },
		{ "state", required_argument, NULL, O_STATE },
		{ "outbound", required_argument, NULL, O_OUTBOUND },
		{ "memory", no_argument, NULL, O_MEMORY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->rcpts = g_ptr_array_new();
	o->outbound = g_ptr_array_new();
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->conf = optarg; break;
		case O_JSON: o->json = true; break;
		case O_SUMMARY: o->summary = true; break;
		case O_RAW: o->raw = true; break;
		case O_SENDER: o->env.sender = optarg; break;
		case O_RCPT: g_ptr_array_add(o->rcpts, optarg); break;
		case O_IP: o->env.client_ip = optarg; break;
		case O_HELO: o->env.helo = optarg; break;
		case O_CHECK: o->check_rules = true; break;
		case O_QUARANTINE: o->quarantine = optarg; break;
		case O_STATE: o->state_dir = optarg; break;
		case O_OUTBOUND: g_ptr_array_add(o->outbound, optarg); break;
		case O_MEMORY: o->memory = true; break;
		case 'h': usage(stdout); exit(EXIT_CLEAN);
		case O_VERSION:
			printf("emofilter-scan %s\n", PACKAGE_VERSION);
			exit(EXIT_CLEAN);
		default: usage(stderr); return -1;
		}
	}
	if (o->json && o->summary) {
		fprintf(stderr, "emofilter-scan: --json and --summary exclude each other\n");
		return -1;
	}
	if (o->quarantine != NULL && o->raw) {
		fprintf(stderr, "emofilter-scan: --quarantine stores mail; it does not apply to --raw\n");
		return -1;
	}
	if (o->state_dir != NULL && o->raw) {
		fprintf(stderr, "emofilter-scan: --state correlates mail; it does not apply to --raw\n");
		return -1;
	}
	if ((o->outbound->len > 0 || o->memory) && o->state_dir == NULL) {
		fprintf(stderr, "emofilter-scan: --outbound and --memory need --state\n");
		return -1;
	}
	if (!o->check_rules && optind >= argc && o->outbound->len == 0) {
		usage(stderr);
		return -1;
	}
	o->env.rcpts = (const char *const *)o->rcpts->pdata;
	o->env.nrcpts = o->rcpts->len;
	return optind;
}

/* Read a file or standard input ("-") whole. */
static bool
read_input(const char *path, char **data, size_t *len)
{
	GError *err = NULL;

	if (strcmp(path, "-") == 0) {
		GString *s = g_string_new(NULL);
		char buf[65536];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			g_string_append_len(s, buf, (gssize)n);
		if (ferror(stdin)) {
			fprintf(stderr, "emofilter-scan: reading standard input: %s\n",
			    g_strerror(errno));
			g_string_free(s, TRUE);
			return false;
		}
		*len = s->len;
		*data = g_string_free(s, FALSE);
		return true;
	}
	if (!g_file_get_contents(path, data, len, &err)) {
		fprintf(stderr, "emofilter-scan: %s\n", err->message);
		g_error_free(err);
		return false;
	}
	return true;
}

struct msg {
	const char *start;
	size_t len;
};

/*
 * Split an mbox into messages at "From " lines that follow a blank line
 * (or start the file); drop the separator line. Anything else is one
 * message.
 */
static GArray *
split_mbox(const char *data, size_t len)
{
	GArray *msgs = g_array_new(FALSE, FALSE, sizeof(struct msg));
	const char *p = data, *end = data + len;
	struct msg cur = { NULL, 0 };

	if (len < 5 || memcmp(data, "From ", 5) != 0) {
		struct msg m = { data, len };

		g_array_append_val(msgs, m);
		return msgs;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		bool sep = (size_t)(end - p) >= 5 && memcmp(p, "From ", 5) == 0 &&
		    (p == data || (p >= data + 2 && p[-2] == '\n') ||
		    (p >= data + 3 && p[-2] == '\r' && p[-3] == '\n'));

		if (sep) {
			if (cur.start != NULL) {
				cur.len = (size_t)(p - cur.start);
				g_array_append_val(msgs, cur);
			}
			cur.start = next;
		}
		p = next;
	}
	if (cur.start != NULL && cur.start < end) {
		cur.len = (size_t)(end - cur.start);
		g_array_append_val(msgs, cur);
	}
	if (msgs->len == 0) {
		/* A lone "From " line and nothing else: still one input. */
		struct msg m = { data, len };

		g_array_append_val(msgs, m);
	}
	return msgs;
}

/* Undo mbox ">From " quoting in one message (a copy, g_free). */
static char *
unquote_from(const char *s, size_t len, size_t *outlen)
{
	GString *o = g_string_sized_new(len);
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *q = p;

		while (q < next && *q == '>')
			q++;
		if (q > p && (size_t)(next - q) >= 5 && memcmp(q, "From ", 5) == 0)
			p++;
		g_string_append_len(o, p, next - p);
		p = next;
	}
	*outlen = o->len;
	return g_string_free(o, FALSE);
}

static void
print_report(const struct opts *o, const char *label,
    const struct emf_report *r)
{
	char *s;

	if (o->json) {
		s = emf_report_json(r, false);
		printf("%s\n", s);
	} else if (o->summary) {
		s = emf_report_symbols_summary(r);
		printf("%-40s %7.2f  %-10s %s\n", label, emf_report_score(r),
		    emf_action_name(emf_report_action(r)), s);
	} else {
		s = emf_report_text(r);
		printf("== %s\n%s\n", label, s);
	}
	emf_free(s);
	fflush(stdout);
}

/* --quarantine: store the message as the milter would. */
static bool
quarantine(const struct opts *o, const char *label, const char *msg,
    size_t len, const struct emf_report *r)
{
	struct emf_error err;
	char *json = emf_report_json(r, false);
	enum emf_rc rc;

	rc = emf_quarantine_store(o->quarantine, emf_report_id(r), msg, len,
	    json, &err);
	emf_free(json);
	if (rc != EMF_OK) {
		fprintf(stderr, "emofilter-scan: %s: quarantine: %s\n", label,
		    err.msg);
		return false;
	}
	fprintf(stderr, "emofilter-scan: %s: quarantined as %s\n", label,
	    emf_report_id(r));
	return true;
}

/* ---- --state: correlation with held mail ------------------------------ */

static struct emf_state *state;		/* --state, else NULL */
static bool memory_on;			/* --memory */
static const char *expiry_action;	/* state.expiry_action */

static int64_t
now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/*
 * One event line: {"event": ..., "id": ..., "file": ..., "outcome": ...,
 * "opened_by": ..., more...}. event_begin() opens it (the caller may add
 * members), event_end() prints it.
 */
static JsonBuilder *
event_begin(const char *event, const struct emf_held *h, const char *outcome,
    const char *opened_by)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "event");
	json_builder_add_string_value(b, event);
	json_builder_set_member_name(b, "id");
	json_builder_add_string_value(b, h->report_id);
	json_builder_set_member_name(b, "file");
	json_builder_add_string_value(b, h->label);
	json_builder_set_member_name(b, "outcome");
	if (outcome != NULL)
		json_builder_add_string_value(b, outcome);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "opened_by");
	if (opened_by != NULL)
		json_builder_add_string_value(b, opened_by);
	else
		json_builder_add_null_value(b);
	return b;
}

static void
event_end(JsonBuilder *b)
{
	JsonGenerator *g;
	JsonNode *root;
	char *s;

	json_builder_end_object(b);
	root = json_builder_get_root(b);
	g = json_generator_new();
	json_generator_set_root(g, root);
	s = json_generator_to_data(g, NULL);
	printf("%s\n", s);
	fflush(stdout);
	g_free(s);
	g_object_unref(g);
	json_node_unref(root);
	g_object_unref(b);
}

/* A mail whose password never came (or that a cap pushed out). */
static void
print_expired(const struct emf_held *h, const char *why)
{
	JsonBuilder *b = event_begin("resolved", h, "expired", NULL);

	json_builder_set_member_name(b, "action");
	json_builder_add_string_value(b, expiry_action);
	json_builder_set_member_name(b, "reason");
	json_builder_add_string_value(b, why);
	event_end(b);
}

static bool
state_failed(const char *label, const struct emf_error *err)
{
	fprintf(stderr, "emofilter-scan: %s: %s (the milter would tempfail)\n",
	    label, err->msg);
	return false;
}

static bool
state_expire(const char *label)
{
	GPtrArray *gone = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)emf_held_free);
	struct emf_error err;
	bool ok = true;

	if (emf_state_expire(state, now_s(), expiry_action, gone, &err) !=
	    EMF_OK)
		ok = state_failed(label, &err);
	for (guint i = 0; i < gone->len; i++)
		print_expired(g_ptr_array_index(gone, i), "window");
	g_ptr_array_free(gone, TRUE);
	return ok;
}

/* The events of one message, after its report. */
static void
print_events(GPtrArray *events)
{
	for (guint i = 0; i < events->len; i++) {
		struct emf_state_event *e = g_ptr_array_index(events, i);
		JsonBuilder *b;

		switch (e->kind) {
		case EMF_STATE_EV_HELD:
			b = event_begin("held", e->held, NULL, NULL);
			json_builder_set_member_name(b, "hashes");
			json_builder_add_string_value(b, e->held->hashes);
			event_end(b);
			break;
		case EMF_STATE_EV_REINJECTED:
			printf("{\"event\":\"reinjected\"}\n");
			break;
		case EMF_STATE_EV_EXPIRED:
			print_expired(e->held, e->reason);
			break;
		case EMF_STATE_EV_RESOLVED:
			b = event_begin("resolved", e->held, e->outcome,
			    e->held->opened_by);
			json_builder_set_member_name(b, "score");
			json_builder_add_double_value(b,
			    emf_report_score(e->rescan));
			json_builder_set_member_name(b, "action");
			json_builder_add_string_value(b, emf_action_name(
			    emf_report_action(e->rescan)));
			json_builder_set_member_name(b, "rescan_id");
			json_builder_add_string_value(b,
			    emf_report_id(e->rescan));
			json_builder_set_member_name(b, "mentions");
			json_builder_begin_array(b);
			if (e->mentions & EMF_MENTION_SUBJECT)
				json_builder_add_string_value(b, "subject");
			if (e->mentions & EMF_MENTION_ATTACHMENT)
				json_builder_add_string_value(b, "attachment");
			if (e->mentions & EMF_MENTION_MESSAGE_ID)
				json_builder_add_string_value(b, "message_id");
			json_builder_end_array(b);
			event_end(b);
			break;
		}
	}
}

/* Open the state: DIR/state.sqlite, or the configured PostgreSQL. */
static bool
state_start(const struct emf_cfg *cfg, const char *dir)
{
	struct emf_state_opts so;
	struct emf_error err;
	char *path = NULL;
	bool ok;

	emf_state_opts_from_cfg(cfg, &so);
	expiry_action = emf_cfg_str(cfg, "state.expiry_action");
	if (strcmp(so.backend, "sqlite") == 0) {
		if (g_mkdir_with_parents(dir, 0700) != 0) {
			fprintf(stderr, "emofilter-scan: --state %s: %s\n", dir,
			    g_strerror(errno));
			return false;
		}
		path = g_build_filename(dir, "state.sqlite", NULL);
		so.path = path;
	}
	so.memory = so.memory || memory_on;
	ok = emf_state_open(&so, &state, &err) == EMF_OK;
	if (!ok)
		fprintf(stderr, "emofilter-scan: %s\n", err.msg);
	g_free(path);
	return ok;
}

/* --outbound FILE: one mail we sent, into the memory. */
static bool
record_outbound(struct emf_engine *engine, const struct opts *o,
    const char *path)
{
	struct emf_report *r = NULL;
	struct emf_error err;
	JsonBuilder *b;
	char *data, *spath;
	size_t len;
	unsigned n = 0;
	bool ok;

	if (!read_input(path, &data, &len))
		return false;
	spath = safe_dup(path);
	ok = emf_scan_message(engine, data, len, &o->env, &r) == EMF_OK;
	if (!ok)
		fprintf(stderr, "emofilter-scan: %s: scan failed\n", spath);
	else if (emf_state_memory_record(state, r, now_s(), &n, &err) !=
	    EMF_OK)
		ok = state_failed(spath, &err);
	if (ok) {
		const char *mid = emf_state_message_id(r);

		b = json_builder_new();
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "event");
		json_builder_add_string_value(b, "recorded");
		json_builder_set_member_name(b, "file");
		json_builder_add_string_value(b, spath);
		json_builder_set_member_name(b, "message_id");
		json_builder_add_string_value(b, mid ? mid : "");
		json_builder_set_member_name(b, "rows");
		json_builder_add_int_value(b, n);
		event_end(b);
	}
	emf_report_free(r);
	g_free(spath);
	g_free(data);
	return ok;
}

/* Scan one input; returns the worst exit status it leads to. */
static int
scan_input(struct emf_engine *engine, const struct opts *o,
    const char *path)
{
	char *data;
	size_t len;
	int worst = EXIT_CLEAN;
	GArray *msgs;
	/* The name as the terminal may see it: no controls, no bidi. */
	char *spath;

	if (!read_input(path, &data, &len))
		return EXIT_ERROR;
	spath = safe_dup(path);
	if (o->raw) {
		struct emf_report *r;
		char *base = g_path_get_basename(path);

		if (emf_scan_file(engine, data, len, base, &o->env, &r) != EMF_OK) {
			fprintf(stderr, "emofilter-scan: %s: scan failed\n", spath);
			g_free(spath);
			g_free(base);
			g_free(data);
			return EXIT_ERROR;
		}
		print_report(o, spath, r);
		worst = emf_report_action(r) == EMF_ACTION_ACCEPT ?
		    EXIT_CLEAN : EXIT_FLAGGED;
		emf_report_free(r);
		g_free(spath);
		g_free(base);
		g_free(data);
		return worst;
	}
	/* Old Mac files end lines with a lone CR: read them as LF. */
	if (memchr(data, '\n', len) == NULL)
		for (size_t i = 0; i < len; i++)
			if (data[i] == '\r')
				data[i] = '\n';
	msgs = split_mbox(data, len);
	for (guint i = 0; i < msgs->len; i++) {
		struct msg *m = &g_array_index(msgs, struct msg, i);
		struct emf_report *r;
		size_t mlen;
		char *copy = msgs->len > 1 || m->start != data ?
		    unquote_from(m->start, m->len, &mlen) : NULL;
		char *label = msgs->len > 1 ?
		    g_strdup_printf("%s#%u", spath, i + 1) : g_strdup(spath);
		enum emf_rc rc;

		GPtrArray *events = g_ptr_array_new_with_free_func(
		    (GDestroyNotify)emf_state_event_free);
		struct emf_error err;

		{
			struct emf_scan_opts so = { 0 };

			so.memory = emf_state_memory(state);
			rc = emf_scan_message_opts(engine, copy ? copy :
			    m->start, copy ? mlen : m->len, &o->env, &so, &r);
		}
		if (state != NULL && emf_state_memory_failed(state, &err)) {
			state_failed(label, &err);
			worst = EXIT_ERROR;
		}
		if (rc == EMF_OK && state != NULL &&
		    emf_state_correlate(state, engine, &r, copy ? copy :
		    m->start, copy ? mlen : m->len, &o->env, label,
		    expiry_action, now_s(), events, &err) != EMF_OK) {
			state_failed(label, &err);
			worst = EXIT_ERROR;
		}
		if (rc != EMF_OK) {
			fprintf(stderr, "emofilter-scan: %s: %s\n", label,
			    emf_rc_str(rc));
			worst = EXIT_ERROR;
		} else {
			print_report(o, label, r);
			print_events(events);
			if (o->quarantine != NULL &&
			    !quarantine(o, label, copy ? copy : m->start,
			    copy ? mlen : m->len, r))
				worst = EXIT_ERROR;
			if (emf_report_action(r) != EMF_ACTION_ACCEPT &&
			    worst == EXIT_CLEAN)
				worst = EXIT_FLAGGED;
			emf_report_free(r);
		}
		g_ptr_array_free(events, TRUE);
		g_free(label);
		g_free(copy);
	}
	g_array_free(msgs, TRUE);
	g_free(spath);
	g_free(data);
	return worst;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct emf_error err;
	struct emf_cfg *cfg;
	struct emf_engine *engine;
	int first, status = EXIT_CLEAN;

	first = parse_args(argc, argv, &o);
	if (first < 0)
		return EXIT_ERROR;
	if (o.conf == NULL)
		o.conf = default_conf();
	if (emf_library_init() != EMF_OK) {
		fprintf(stderr, "emofilter-scan: library initialisation failed\n");
		return EXIT_ERROR;
	}
	if (emf_cfg_load(o.conf, &cfg, &err) != EMF_OK ||
	    emf_engine_new(cfg, &engine, &err) != EMF_OK) {
		/* Freed so that a bad config or rule is a clean exit 2, also
		 * under LeakSanitizer (tests/rules.sh checks the status). */
		fprintf(stderr, "emofilter-scan: %s\n", err.msg);
		g_ptr_array_free(o.rcpts, TRUE);
		g_ptr_array_free(o.outbound, TRUE);
		emf_library_shutdown();
		return EXIT_ERROR;
	}
	memory_on = o.memory;
	if (o.check_rules) {
		printf("configuration %s and rules OK\n",
		    o.conf ? o.conf : "(built-in defaults)");
	} else if (o.state_dir != NULL &&
	    !state_start(emf_engine_cfg(engine), o.state_dir)) {
		status = EXIT_ERROR;
	} else {
		for (guint i = 0; i < o.outbound->len; i++)
			if (!record_outbound(engine, &o,
			    g_ptr_array_index(o.outbound, i)))
				status = EXIT_ERROR;
		for (int i = first; i < argc; i++) {
			int s = scan_input(engine, &o, argv[i]);

			if (s > status)
				status = s;
		}
		if (state != NULL && !state_expire("end of input"))
			status = EXIT_ERROR;
	}
	emf_state_close(state);
	emf_engine_unref(engine);
	g_ptr_array_free(o.rcpts, TRUE);
	g_ptr_array_free(o.outbound, TRUE);
	emf_library_shutdown();
	return status;
}
