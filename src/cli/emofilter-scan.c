/*
 * emofilter-scan - scan mail files offline with the milter's engine.
 *
 * emofilter-scan [-c CONF] [--json] [--summary] [envelope options]
 *     FILE...|-
 * emofilter-scan [-c CONF] --raw FILE...
 * emofilter-scan [-c CONF] --check-rules
 *
 * .eml files, mbox files (each message separately) and stdin. Exit status
 * (like clamscan): 0 every message clean, 1 at least one tagged or worse,
 * 2 an error (unreadable input, bad configuration).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "emf.h"
#include "qsafe.h"
#include "store/quarantine.h"

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
	struct emf_envelope env;
	GPtrArray *rcpts;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: emofilter-scan [-c CONF] [--json | --summary] [--sender ADDR]\n"
	    "                      [--rcpt ADDR]... [--client-ip IP] [--helo NAME]\n"
	    "                      [--quarantine DIR] FILE...|-\n"
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
		O_CHECK, O_QUARANTINE, O_VERSION };
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
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->rcpts = g_ptr_array_new();
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
	if (!o->check_rules && optind >= argc) {
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

		rc = emf_scan_message(engine, copy ? copy : m->start,
		    copy ? mlen : m->len, &o->env, &r);
		if (rc != EMF_OK) {
			fprintf(stderr, "emofilter-scan: %s: %s\n", label,
			    emf_rc_str(rc));
			worst = EXIT_ERROR;
		} else {
			print_report(o, label, r);
			if (o->quarantine != NULL &&
			    !quarantine(o, label, copy ? copy : m->start,
			    copy ? mlen : m->len, r))
				worst = EXIT_ERROR;
			if (emf_report_action(r) != EMF_ACTION_ACCEPT &&
			    worst == EXIT_CLEAN)
				worst = EXIT_FLAGGED;
			emf_report_free(r);
		}
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
		emf_library_shutdown();
		return EXIT_ERROR;
	}
	if (o.check_rules) {
		printf("configuration %s and rules OK\n",
		    o.conf ? o.conf : "(built-in defaults)");
	} else {
		for (int i = first; i < argc; i++) {
			int s = scan_input(engine, &o, argv[i]);

			if (s > status)
				status = s;
		}
	}
	emf_engine_unref(engine);
	g_ptr_array_free(o.rcpts, TRUE);
	emf_library_shutdown();
	return status;
}
