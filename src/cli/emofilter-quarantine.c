/*
 * emofilter-quarantine - the CSIRT's review tool over the quarantine store:
 * list, show, release, delete, purge, export, ioc. See
 * emofilter-quarantine(8).
 *
 * This file is the front: the options before the command, dispatch, each
 * command's options and what it prints, the audit log. The work is done in
 *   qstore.c    entries, times, filters, selection: the store as we see it
 *   qrender.c   what list and show print
 *   qrelease.c  the released message, delivery by sendmail or SMTP
 *   qioc.c      indicators (MISP CSV and JSON, URLhaus)
 *   qexport.c   the encrypted export zip and its manifest
 *   qjson.c     NULL-safe typed access to report JSON
 *   qsafe.c     escaping untrusted text for a terminal
 * which return their errors; only this file prints them.
 *
 * Reports are read as JSON (the schema emf_report_json() writes) through
 * json-glib, generically: fields that other modules add to objects are
 * shown and mined for indicators without this tool knowing them. Nothing
 * from a message is rendered or executed; every untrusted string goes
 * through safe_append() before it reaches a terminal.
 *
 * Exit status: 0 done, 1 not found or refused, 2 usage or configuration
 * error, 3 store error (missing, too open, unreadable entry), 4 release
 * delivery failed.
 */
#include "config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "emf.h"
#include "qexport.h"
#include "qioc.h"
#include "qjson.h"
#include "qrelease.h"
#include "qrender.h"
#include "qsafe.h"
#include "qstore.h"
#include "store/quarantine.h"

struct ctx {
	const char *prog;
	const char *store;
	struct emf_cfg *cfg;
	bool unreadable;	/* a corrupt entry was skipped */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: emofilter-quarantine [-c CONF] [-d STORE] COMMAND [ARGS]\n"
	    "       emofilter-quarantine --version\n"
	    "  list [--since T] [--until T] [--min-score N] [--symbol NAME]\n"
	    "       [--from TEXT] [--rcpt TEXT] [--released | --pending] [--json]\n"
	    "  show ID\n"
	    "  release ID [--to RCPT]... [--force]\n"
	    "  delete ID...\n"
	    "  purge --older-than AGE [--dry-run]      (AGE: 30d, 12h, 2w)\n"
	    "  export ID -o FILE                        (zip, AES-256, password \"infected\")\n"
	    "  ioc ID... | --since T [--until T] [--json | --csv | --urlhaus]\n"
	    "T is 2026-11-25, 2026-11-25T05:41:00Z or an age (7d, 12h).\n"
	    "Exit status: 0 done, 1 not found or refused, 2 usage or configuration\n"
	    "error, 3 store error, 4 release delivery failed.\n");
}

/* Who runs us, for the audit log and the release header. */
static char *
whoami(void)
{
	const char *login = getlogin();
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw = getpwuid(getuid());
	const char *name = pw ? pw->pw_name : NULL;
	GString *s = g_string_new(NULL);

	if (name == NULL)
		name = login ? login : getenv("USER");
	g_string_append_printf(s, "%s (uid %lu", name ? name : "?",
	    (unsigned long)getuid());
	if (login != NULL && name != NULL && strcmp(login, name) != 0)
		g_string_append_printf(s, ", login %s", login);
	if (sudo != NULL && *sudo != '\0')
		g_string_append_printf(s, ", sudo by %s", sudo);
	g_string_append_c(s, ')');
	return g_string_free(s, FALSE);
}

/* ---- entries ----------------------------------------------------------- */

/* Print what a helper returned as its error, after our name; free it. */
static void
say(struct ctx *c, char *why)
{
	fprintf(stderr, "%s: %s\n", c->prog, why);
	g_free(why);
}

/* Load entry id, or say why not. Returns EX_DONE or the status. */
static int
load_entry(struct ctx *c, const char *id, struct qentry *e)
{
	char *why = NULL;
	int rc = qentry_load(c->store, id, e, &why);

	if (rc != EX_DONE)
		say(c, why);
	return rc;
}

/* The raw message of e, or EX_STORE and why not said. */
static int
load_message(struct ctx *c, const struct qentry *e, char **msg, size_t *len)
{
	char *why = NULL;
	int rc = qentry_read_message(c->store, e, msg, len, &why);

	if (rc != EX_DONE)
		say(c, why);
	return rc;
}

/*
 * Entries matching f, newest first (struct qentry *). Unreadable entries
 * are reported on stderr and skipped (c->unreadable is set). Returns NULL
 * on a store error (reported).
 */
static GPtrArray *
select_entries(struct ctx *c, const struct qfilter *f)
{
	GPtrArray *skipped = g_ptr_array_new_with_free_func(g_free);
	char *why = NULL;
	GPtrArray *entries = qstore_select(c->store, f, skipped,
	    &c->unreadable, &why);

	for (guint i = 0; i < skipped->len; i++)
		fprintf(stderr, "%s: %s\n", c->prog,
		    (char *)g_ptr_array_index(skipped, i));
	g_ptr_array_free(skipped, TRUE);
	if (entries == NULL)
		say(c, why);
	return entries;
}

/* A list/ioc filter option; false when it is not one or its value is bad
 * (said on stderr). */
static bool
filter_option(struct ctx *c, struct qfilter *f, int opt, const char *arg)
{
	switch (qfilter_option(f, opt, arg)) {
	case QFILTER_TAKEN:
		return true;
	case QFILTER_BAD_VALUE:
		fprintf(stderr, "%s: bad time or number \"%s\"\n", c->prog,
		    arg);
		return false;
	default:
		return false;
	}
}

/* ---- list -------------------------------------------------------------- */

static int
cmd_list(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		QFILTER_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct qfilter f;
	bool json = false;
	GPtrArray *entries;
	int opt;

	qfilter_init(&f);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else if (!filter_option(c, &f, opt, optarg))
			return EX_USAGEERR;
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
	if ((entries = select_entries(c, &f)) == NULL)
		return EX_STORE;
	if (json) {
		char *text = qrender_list_json(entries);

		printf("%s\n", text);
		g_free(text);
	} else {
		for (guint i = 0; i < entries->len; i++) {
			char *line = qrender_list_line(
			    g_ptr_array_index(entries, i));

			fputs(line, stdout);
			g_free(line);
		}
	}
	g_ptr_array_free(entries, TRUE);
	return c->unreadable ? EX_STORE : EX_DONE;
}

/* ---- show -------------------------------------------------------------- */

static int
cmd_show(struct ctx *c, int argc, char **argv)
{
	struct qentry e;
	char *text;
	int rc;

	if (argc != 2) {
		usage(stderr);
		return EX_USAGEERR;
	}
	if ((rc = load_entry(c, argv[1], &e)) != EX_DONE)
		return rc;
	text = qrender_show(&e);
	fputs(text, stdout);
	g_free(text);
	qentry_clear(&e);
	return EX_DONE;
}

/* ---- audit ------------------------------------------------------------- */

/* One JSON line per action; failures to log are reported, not fatal. */
static bool
audit(struct ctx *c, const char *action, const char *id, const char *result,
    const char *const *to, const char *extra_key, const char *extra_val)
{
	JsonBuilder *b = json_builder_new();
	char *now = iso_time((gint64)time(NULL)), *who = whoami(), *line;
	struct emf_error err;
	bool ok;

	json_builder_begin_object(b);
	qjson_add_string_member(b, "time", now);
	qjson_add_string_member(b, "action", action);
	qjson_add_string_member(b, "id", id);
	qjson_add_string_member(b, "by", who);
	if (to != NULL)
		qjson_add_strv_member(b, "to", to);
	if (extra_key != NULL)
		qjson_add_string_member(b, extra_key, extra_val);
	qjson_add_string_member(b, "result", result);
	json_builder_end_object(b);
	line = qjson_finish(b, false);
	ok = emf_quarantine_audit(c->store, line, &err) == EMF_OK;
	if (!ok)
		fprintf(stderr, "%s: audit log: %s\n", c->prog, err.msg);
	g_free(line);
	g_free(now);
	g_free(who);
	return ok;
}

/* ---- release ----------------------------------------------------------- */

/* release's options: --to into to, --force; then argv[optind] is the ID. */
static int
release_options(int argc, char **argv, GPtrArray *to, bool *force)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 't': g_ptr_array_add(to, g_strdup(optarg)); break;
		case 'f': *force = true; break;
		default: return EX_USAGEERR;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
	return EX_DONE;
}

/* A second release only with --force; a refusal is audited. */
static int
release_allowed(struct ctx *c, const struct qentry *e, bool force)
{
	if (e->released == NULL || force)
		return EX_DONE;
	fprintf(stderr, "%s: %s: already released %s by %s; use --force to "
	    "send it again\n", c->prog, e->id,
	    jstr_or(e->released, "time", "?"), jstr_or(e->released, "by", "?"));
	audit(c, "release", e->id, "refused: already released", NULL, NULL,
	    NULL);
	return EX_NOTFOUND;
}

/*
 * The recipients: those of --to, else the envelope's, each one we accept.
 * On success to is NULL-terminated.
 */
static int
release_rcpts(struct ctx *c, const struct qentry *e, GPtrArray *to)
{
	if (to->len == 0)
		qrelease_default_rcpts(e, to);
	if (to->len == 0) {
		fprintf(stderr, "%s: %s: the entry has no envelope recipients; "
		    "give them with --to\n", c->prog, e->id);
		return EX_NOTFOUND;
	}
	for (guint i = 0; i < to->len; i++)
		if (!qrelease_addr_ok(g_ptr_array_index(to, i), false)) {
			char *s = safe_dup(g_ptr_array_index(to, i));

			fprintf(stderr, "%s: refusing recipient \"%s\"\n",
			    c->prog, s);
			g_free(s);
			return EX_NOTFOUND;
		}
	g_ptr_array_add(to, NULL);
	return EX_DONE;
}

/* The original envelope sender into *sender (caller frees), if we accept
 * it. */
static int
release_sender(struct ctx *c, const struct qentry *e, char **sender)
{
	char *s;

	*sender = qrelease_sender(e);
	if (qrelease_addr_ok(*sender, true))
		return EX_DONE;
	s = safe_dup(*sender);
	fprintf(stderr, "%s: %s: refusing envelope sender \"%s\"\n",
	    c->prog, e->id, s);
	g_free(s);
	return EX_NOTFOUND;
}

/* Send msg with our header; a failure is said and audited. *via: how. */
static int
release_deliver(struct ctx *c, const struct qentry *e, const char *msg,
    size_t len, const char *sender, const char *const *to, const char *now,
    const char *who, const char **via)
{
	char *header = qrelease_header(now, who, e->id);
	GString *out = qrelease_message(msg, len, header);
	char *fail = qrelease_deliver(c->cfg, sender, to, out, via);
	char *result;

	g_free(header);
	g_string_free(out, TRUE);
	if (fail == NULL)
		return EX_DONE;
	fprintf(stderr, "%s: %s: release failed: %s\n", c->prog, e->id, fail);
	result = g_strdup_printf("failed: %s", fail);
	audit(c, "release", e->id, result, to, "via", *via);
	g_free(result);
	g_free(fail);
	return EX_DELIVERY;
}

/* Once sent: audit, write the .released record, tell the user. */
static int
release_done(struct ctx *c, const struct qentry *e, const char *const *to,
    guint nto, const char *now, const char *who, const char *via)
{
	char *rec = qrelease_record(now, who, to, via, e->released != NULL);
	struct emf_error err;
	int rc = EX_DONE;

	audit(c, "release", e->id, e->released ? "ok (forced)" : "ok", to,
	    "via", via);
	if (emf_quarantine_put(c->store, e->id, "released", rec, strlen(rec),
	    &err) != EMF_OK) {
		/* Sent, but not recorded: say so loudly. */
		fprintf(stderr, "%s: %s: released, but the release record "
		    "could not be written: %s\n", c->prog, e->id, err.msg);
		rc = EX_STORE;
	} else {
		printf("%s released to %u recipient%s\n", e->id, nto,
		    nto == 1 ? "" : "s");
	}
	g_free(rec);
	return rc;
}

static int
cmd_release(struct ctx *c, int argc, char **argv)
{
	GPtrArray *to = g_ptr_array_new_with_free_func(g_free);
	bool force = false;
	struct qentry e = { 0 };
	char *msg = NULL, *sender = NULL, *who = NULL, *now = NULL;
	const char *via;
	size_t len;
	int rc;

	if ((rc = release_options(argc, argv, to, &force)) != EX_DONE)
		goto out;
	if ((rc = load_entry(c, argv[optind], &e)) != EX_DONE)
		goto out;
	if ((rc = release_allowed(c, &e, force)) != EX_DONE)
		goto out;
	if ((rc = release_rcpts(c, &e, to)) != EX_DONE)
		goto out;
	if ((rc = release_sender(c, &e, &sender)) != EX_DONE)
		goto out;
	if ((rc = load_message(c, &e, &msg, &len)) != EX_DONE)
		goto out;
	who = whoami();
	now = iso_time((gint64)time(NULL));
	rc = release_deliver(c, &e, msg, len, sender,
	    (const char *const *)to->pdata, now, who, &via);
	if (rc == EX_DONE)
		rc = release_done(c, &e, (const char *const *)to->pdata,
		    to->len - 1, now, who, via);
out:
	g_ptr_array_free(to, TRUE);
	qentry_clear(&e);
	g_free(msg);
	g_free(sender);
	g_free(who);
	g_free(now);
	return rc;
}

/* ---- delete, purge ----------------------------------------------------- */

static int
remove_entry(struct ctx *c, const char *id, const char *action)
{
	struct emf_error err;
	enum emf_rc rc;
	char *s;

	if (!emf_quarantine_id_valid(id)) {
		s = safe_dup(id);
		fprintf(stderr, "%s: \"%s\" is not an entry ID\n", c->prog, s);
		g_free(s);
		return EX_NOTFOUND;
	}
	rc = emf_quarantine_remove(c->store, id, &err);
	if (rc == EMF_ERR_FORMAT) {
		fprintf(stderr, "%s: %s: no such entry in %s\n", c->prog, id,
		    c->store);
		return EX_NOTFOUND;
	}
	if (rc != EMF_OK) {
		fprintf(stderr, "%s: %s: %s\n", c->prog, id, err.msg);
		audit(c, action, id, err.msg, NULL, NULL, NULL);
		return EX_STORE;
	}
	audit(c, action, id, "ok", NULL, NULL, NULL);
	return EX_DONE;
}

static int
cmd_delete(struct ctx *c, int argc, char **argv)
{
	int worst = EX_DONE;

	if (argc < 2) {
		usage(stderr);
		return EX_USAGEERR;
	}
	for (int i = 1; i < argc; i++) {
		int rc = remove_entry(c, argv[i], "delete");

		if (rc == EX_DONE)
			printf("%s deleted\n", argv[i]);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}

/* purge's options: --older-than AGE (in seconds into *age), --dry-run. */
static int
purge_options(struct ctx *c, int argc, char **argv, gint64 *age,
    const char **agestr, bool *dry)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'o') {
			*agestr = optarg;
			if ((*age = parse_age(optarg)) < 0) {
				fprintf(stderr, "%s: bad age \"%s\" (want 30d, "
				    "12h, 2w)\n", c->prog, optarg);
				return EX_USAGEERR;
			}
		} else if (opt == 'n') {
			*dry = true;
		} else {
			return EX_USAGEERR;
		}
	}
	if (*age < 0 || optind != argc) {
		fprintf(stderr, "%s: purge needs --older-than AGE\n", c->prog);
		return EX_USAGEERR;
	}
	return EX_DONE;
}

/* Remove (dry: name) the entries of ids older than cutoff, counting them
 * in *purged; EX_STORE if one could not be removed. */
static int
purge_ids(struct ctx *c, char **ids, size_t n, gint64 cutoff, bool dry,
    unsigned *purged)
{
	int worst = EX_DONE;

	for (size_t i = 0; i < n; i++) {
		int rc;

		if (id_time(ids[i]) >= cutoff)
			continue;
		if (dry) {
			printf("would purge %s\n", ids[i]);
			(*purged)++;
			continue;
		}
		rc = remove_entry(c, ids[i], "purge");
		if (rc == EX_DONE)
			(*purged)++;
		else if (rc == EX_STORE)
			worst = rc;
	}
	return worst;
}

static int
cmd_purge(struct ctx *c, int argc, char **argv)
{
	gint64 age = -1, cutoff;
	const char *agestr = NULL;
	bool dry = false;
	struct emf_error err;
	char **ids;
	size_t n;
	unsigned purged = 0, tmp = 0;
	int rc;

	if ((rc = purge_options(c, argc, argv, &age, &agestr, &dry)) !=
	    EX_DONE)
		return rc;
	cutoff = (gint64)time(NULL) - age;
	if (emf_quarantine_list(c->store, &ids, &n, &err) != EMF_OK) {
		fprintf(stderr, "%s: %s\n", c->prog, err.msg);
		return EX_STORE;
	}
	rc = purge_ids(c, ids, n, cutoff, dry, &purged);
	emf_quarantine_ids_free(ids);
	/* Temporary files of writers that died (a day is far beyond any
	 * write). */
	if (!dry)
		emf_quarantine_clean_tmp(c->store, 86400, &tmp, &err);
	printf("%s %u entr%s older than %s%s\n", dry ? "would purge" :
	    "purged", purged, purged == 1 ? "y" : "ies", agestr,
	    tmp ? " (and stale temporary files)" : "");
	return rc;
}

/* ---- export ------------------------------------------------------------ */

/* export's options: -o FILE into *outpath; then argv[optind] is the ID. */
static int
export_options(struct ctx *c, int argc, char **argv, const char **outpath)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (opt == 'o')
			*outpath = optarg;
		else
			return EX_USAGEERR;
	}
	if (*outpath == NULL || optind + 1 != argc) {
		fprintf(stderr, "%s: export needs ID and -o FILE\n", c->prog);
		return EX_USAGEERR;
	}
	return EX_DONE;
}

static int
cmd_export(struct ctx *c, int argc, char **argv)
{
	const char *outpath = NULL;
	struct qentry e;
	char *msg, *manifest, *fail;
	size_t len;
	GPtrArray *parts;
	int rc;

	if ((rc = export_options(c, argc, argv, &outpath)) != EX_DONE)
		return rc;
	if ((rc = load_entry(c, argv[optind], &e)) != EX_DONE)
		return rc;
	if (load_message(c, &e, &msg, &len) != EX_DONE) {
		qentry_clear(&e);
		return EX_STORE;
	}
	parts = qexport_parts(msg, len);
	manifest = qexport_manifest(e.id, msg, len, parts,
	    jarr(e.root, "objects"));
	fail = qexport_write(outpath, e.id, msg, len, parts, manifest);
	if (fail != NULL) {
		fprintf(stderr, "%s: %s: export: %s\n", c->prog, e.id, fail);
		audit(c, "export", e.id, fail, NULL, "file", outpath);
		rc = EX_STORE;
	} else {
		audit(c, "export", e.id, "ok", NULL, "file", outpath);
		printf("%s exported to %s: the message and %u attachment%s "
		    "(AES-256, password \"%s\")\n", e.id, outpath, parts->len,
		    parts->len == 1 ? "" : "s", QEXPORT_PASSWORD);
	}
	g_free(fail);
	g_free(manifest);
	qexport_parts_free(parts);
	g_free(msg);
	qentry_clear(&e);
	return rc;
}

/* ---- ioc --------------------------------------------------------------- */

/* ioc's options: the format, and filters (*filtered once there is one);
 * entry IDs or filters, not both. */
static int
ioc_options(struct ctx *c, int argc, char **argv, enum qioc_format *fmt,
    struct qfilter *f, bool *filtered)
{
	static const struct option longopts[] = {
		QFILTER_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "urlhaus", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j')
			*fmt = QIOC_JSON;
		else if (opt == 'c')
			*fmt = QIOC_CSV;
		else if (opt == 'u')
			*fmt = QIOC_URLHAUS;
		else if (filter_option(c, f, opt, optarg))
			*filtered = true;
		else
			return EX_USAGEERR;
	}
	if ((optind == argc) == !*filtered) {
		fprintf(stderr, "%s: ioc needs entry IDs or filters (--since "
		    "...), not both\n", c->prog);
		return EX_USAGEERR;
	}
	return EX_DONE;
}

/* The n entries named by ids, every one loaded; else NULL and *rc the
 * status of the first that is not (said on stderr). */
static GPtrArray *
load_entries(struct ctx *c, char **ids, int n, int *rc)
{
	GPtrArray *entries = g_ptr_array_new_with_free_func(qentry_free);

	for (int i = 0; i < n; i++) {
		struct qentry *e = g_new0(struct qentry, 1);

		if ((*rc = load_entry(c, ids[i], e)) != EX_DONE) {
			g_free(e);
			g_ptr_array_free(entries, TRUE);
			return NULL;
		}
		g_ptr_array_add(entries, e);
	}
	return entries;
}

static int
cmd_ioc(struct ctx *c, int argc, char **argv)
{
	enum qioc_format fmt = QIOC_JSON;
	struct qioc_set *set;
	struct qfilter f;
	bool filtered = false;
	GPtrArray *entries;
	char *text;
	int rc;

	qfilter_init(&f);
	if ((rc = ioc_options(c, argc, argv, &fmt, &f, &filtered)) != EX_DONE)
		return rc;
	if (filtered) {
		if ((entries = select_entries(c, &f)) == NULL)
			return EX_STORE;
		if (c->unreadable)
			rc = EX_STORE;
	} else {
		entries = load_entries(c, argv + optind, argc - optind, &rc);
		if (entries == NULL)
			return rc;
	}
	set = qioc_set_new();
	for (guint i = 0; i < entries->len; i++)
		qioc_collect(set, g_ptr_array_index(entries, i));
	text = qioc_render(set, fmt);
	fputs(text, stdout);
	g_free(text);
	for (guint i = 0; i < entries->len; i++)
		audit(c, "ioc", ((struct qentry *)
		    g_ptr_array_index(entries, i))->id, "ok", NULL, "format",
		    qioc_format_name(fmt));
	qioc_set_free(set);
	g_ptr_array_free(entries, TRUE);
	return rc;
}

/* ---- main -------------------------------------------------------------- */

static const char *
default_conf(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/emofilter.conf", EMF_SYSCONFDIR);
	return access(path, R_OK) == 0 ? path : NULL;
}

/*
 * The options before the command: -c CONF, -d STORE, -h. Returns -1 to go
 * on with argv[optind] as the command, else the exit status.
 */
static int
global_options(int argc, char **argv, const char **conf, const char **store)
{
	int opt;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("emofilter-quarantine %s\n", PACKAGE_VERSION);
		return EX_DONE;
	}
	while ((opt = getopt(argc, argv, "+c:d:h")) != -1) {
		switch (opt) {
		case 'c': *conf = optarg; break;
		case 'd': *store = optarg; break;
		case 'h': usage(stdout); return EX_DONE;
		default: usage(stderr); return EX_USAGEERR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
	return -1;
}

/* Run command argv[0] over a store that passes emf_quarantine_check(). */
static int
run_command(struct ctx *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct ctx *, int, char **);
	} cmds[] = {
		{ "list", cmd_list }, { "show", cmd_show },
		{ "release", cmd_release }, { "delete", cmd_delete },
		{ "purge", cmd_purge }, { "export", cmd_export },
		{ "ioc", cmd_ioc },
	};
	struct emf_error err;
	char *s;

	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		if (emf_quarantine_check(c->store, &err) != EMF_OK) {
			fprintf(stderr, "%s: %s\n", c->prog, err.msg);
			return EX_STORE;
		}
		return cmds[i].fn(c, argc, argv);
	}
	s = safe_dup(argv[0]);
	fprintf(stderr, "%s: unknown command \"%s\"\n", c->prog, s);
	g_free(s);
	usage(stderr);
	return EX_USAGEERR;
}

int
main(int argc, char **argv)
{
	struct ctx c = { "emofilter-quarantine", NULL, NULL, false };
	const char *conf = NULL, *store = NULL;
	struct emf_error err;
	int rc;

	if ((rc = global_options(argc, argv, &conf, &store)) >= 0)
		return rc;
	if (emf_library_init() != EMF_OK) {
		fprintf(stderr, "%s: library initialisation failed\n", c.prog);
		return EX_STORE;
	}
	if (emf_cfg_load(conf ? conf : default_conf(), &c.cfg, &err) !=
	    EMF_OK) {
		fprintf(stderr, "%s: %s\n", c.prog, err.msg);
		emf_library_shutdown();
		return EX_USAGEERR;
	}
	c.store = store ? store : emf_cfg_str(c.cfg, "quarantine.dir");
	rc = run_command(&c, argc - optind, argv + optind);
	emf_cfg_free(c.cfg);
	emf_library_shutdown();
	return rc;
}
