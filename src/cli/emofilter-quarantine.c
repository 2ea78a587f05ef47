/*
 * emofilter-quarantine - the CSIRT's review tool over the quarantine store:
 * list, show, stats, release, delete, purge, export, ioc. See
 * emofilter-quarantine(8).
 *
 * This file is the front: the options before the command, dispatch, each
 * command's options and what it prints, the audit log. The work is done in
 *   qstore.c    entries, times, filters, selection: the store as we see it
 *   qrender.c   what list and show print
 *   qaction.c   release and delete with their audit lines
 *   qrelease.c  the released message, delivery by sendmail or SMTP
 *   qstats.c    stats: per day and action, top symbols and senders
 *   qioc.c      indicators (MISP CSV, JSON and event, STIX 2.1, URLhaus)
 *   qhash.c     MD5 and SHA-1 of the message's files (for qioc.c)
 *   qmacro.c    VBA macro source of the message's documents (show)
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
#include "qaction.h"
#include "qexport.h"
#include "qhash.h"
#include "qioc.h"
#include "qjson.h"
#include "qmacro.h"
#include "qrelease.h"
#include "qrender.h"
#include "qsafe.h"
#include "qstats.h"
#include "qmetrics.h"
#include "qsync.h"
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
	    "  list [FILTERS] [--json] [--no-header]\n"
	    "  show ID\n"
	    "  stats [FILTERS] [--top N] [--json] [--metrics ADDR | --daemon]\n"
	    "      (--daemon: the counters at metrics.listen as well)\n"
	    "  release ID [--to RCPT]... [--force]\n"
	    "  release FILTERS [--force] [--dry-run]      (every matching entry)\n"
	    "  delete ID... | delete FILTERS [--dry-run]\n"
	    "  purge --older-than AGE [--dry-run]      (AGE: 30d, 12h, 2w)\n"
	    "  export ID -o FILE                        (zip, AES-256, password \"infected\")\n"
	    "  ioc ID... | ioc FILTERS [--format csv|json|stix|misp|urlhaus]\n"
	    "      [--include-released] [--own-domain DOMAIN]...\n"
	    "  sync [--dry-run]      (root: the store and Postfix's hold queue in step)\n"
	    "FILTERS: --since T --until T --min-score N --symbol NAME --action A\n"
	    "  --from/--sender TEXT --rcpt/--recipient TEXT --queue-id Q\n"
	    "  --message-id M --id ID-OR-PREFIX --released --pending\n"
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
		{ "no-header", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct qfilter f;
	bool json = false, header = true;
	GPtrArray *entries;
	int opt;

	qfilter_init(&f);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else if (opt == 'H')
			header = false;
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
		if (header)
			fputs(qrender_list_header(), stdout);
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
	char *text, *msg;
	size_t len;
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
	/* The macro source, from the stored message. */
	if (load_message(c, &e, &msg, &len) == EX_DONE) {
		GPtrArray *macros = qmacro_sources(msg, len, &e);

		text = qmacro_render_text(macros);
		fputs(text, stdout);
		g_free(text);
		g_ptr_array_free(macros, TRUE);
		g_free(msg);
	} else {
		rc = EX_STORE;
	}
	qentry_clear(&e);
	return rc;
}

/* ---- stats ------------------------------------------------------------- */

static int
cmd_stats(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		QFILTER_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 't' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "daemon", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	struct qfilter f;
	bool json = false;
	long top = 10;
	GPtrArray *entries;
	struct qstats *st;
	char *text, *end, *mtext = NULL, *why = NULL, *body;
	const char *maddr = NULL;
	int opt;

	qfilter_init(&f);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j') {
			json = true;
		} else if (opt == 'M') {
			maddr = optarg;
		} else if (opt == 'D') {
			maddr = emf_cfg_str(c->cfg, "metrics.listen");
			if (*maddr == '\0') {
				fprintf(stderr, "%s: --daemon: metrics.listen "
				    "is not set in the configuration\n",
				    c->prog);
				return EX_USAGEERR;
			}
		} else if (opt == 't') {
			top = strtol(optarg, &end, 10);
			if (*end != '\0' || top < 1 || top > 100000) {
				fprintf(stderr, "%s: bad --top \"%s\"\n",
				    c->prog, optarg);
				return EX_USAGEERR;
			}
		} else if (!filter_option(c, &f, opt, optarg)) {
			return EX_USAGEERR;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
	/* The daemon's counters first: unreachable, nothing is printed. */
	if (maddr != NULL) {
		if ((body = qmetrics_fetch(maddr, &why)) != NULL) {
			mtext = qmetrics_render(body, maddr, json, &why);
			g_free(body);
		}
		if (mtext == NULL) {
			say(c, why);
			return EX_STORE;
		}
	}
	if ((entries = select_entries(c, &f)) == NULL) {
		g_free(mtext);
		return EX_STORE;
	}
	st = qstats_compute(entries);
	text = json ? qstats_render_json(st, (guint)top) :
	    qstats_render_text(st, (guint)top);
	if (json && mtext != NULL)
		printf("{\"store\":%s,\"daemon\":%s}", text, mtext);
	else
		fputs(text, stdout);
	if (json)
		fputc('\n', stdout);
	else if (mtext != NULL)
		printf("\n%s", mtext);
	g_free(text);
	g_free(mtext);
	qstats_free(st);
	g_ptr_array_free(entries, TRUE);
	return c->unreadable ? EX_STORE : EX_DONE;
}

/* ---- audit ------------------------------------------------------------- */

/* One JSON line per action; failures to log are reported, not fatal. */
static bool
audit(struct ctx *c, const char *action, const char *id, const char *result,
    const char *const *to, const char *extra_key, const char *extra_val)
{
	char *who = whoami();
	char *fail = qaction_audit(c->store, who, action, id, result, to,
	    extra_key, extra_val);

	g_free(who);
	if (fail == NULL)
		return true;
	say(c, fail);
	return false;
}

/* ---- release ----------------------------------------------------------- */

/* release's and delete's options: --to into to (release), --force,
 * --dry-run, filters into f (*filtered once there is one). */
static int
action_options(struct ctx *c, int argc, char **argv, bool release,
    GPtrArray *to, bool *force, bool *dry, struct qfilter *f,
    bool *filtered)
{
	static const struct option longopts[] = {
		QFILTER_LONGOPTS,
		{ "to", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 't' && release)
			g_ptr_array_add(to, g_strdup(optarg));
		else if (opt == 'f' && release)
			*force = true;
		else if (opt == 'n')
			*dry = true;
		else if (filter_option(c, f, opt, optarg))
			*filtered = true;
		else
			return EX_USAGEERR;
	}
	if (*filtered ? optind != argc : optind == argc) {
		fprintf(stderr, "%s: %s needs entry IDs or filters, not both\n",
		    c->prog, release ? "release" : "delete");
		return EX_USAGEERR;
	}
	if (!*filtered && release && optind + 1 != argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
	if (*dry && !*filtered) {
		fprintf(stderr, "%s: --dry-run goes with filters\n", c->prog);
		return EX_USAGEERR;
	}
	return EX_DONE;
}

/* Release one entry; said on stdout once done, else why on stderr. */
static int
release_one(struct ctx *c, const char *id, GPtrArray *to, bool force)
{
	char *who = whoami(), *why = NULL;
	guint nto = 0;
	int rc = qaction_release(c->store, c->cfg, who, id, to, force, &nto,
	    &why);

	if (rc == EX_DONE)
		printf("%s released to %u recipient%s\n", id, nto,
		    nto == 1 ? "" : "s");
	if (why != NULL)
		say(c, why);
	g_free(who);
	return rc;
}

static int remove_entry(struct ctx *c, const char *id, const char *action);

/*
 * release or delete over every entry matching f (a release skips those
 * released already unless force); dry: only name them. The worst status.
 */
static int
bulk(struct ctx *c, bool release, const struct qfilter *f, GPtrArray *to,
    bool force, bool dry)
{
	GPtrArray *entries = select_entries(c, f);
	int worst = EX_DONE;
	guint n = 0;

	if (entries == NULL)
		return EX_STORE;
	for (guint i = 0; i < entries->len; i++) {
		struct qentry *e = g_ptr_array_index(entries, i);
		int rc;

		if (release && e->released != NULL && !force)
			continue;
		n++;
		if (dry) {
			printf("would %s %s\n", release ? "release" : "delete",
			    e->id);
			continue;
		}
		rc = release ? release_one(c, e->id, to, force) :
		    remove_entry(c, e->id, "delete");
		if (rc == EX_DONE && !release)
			printf("%s deleted\n", e->id);
		if (rc > worst)
			worst = rc;
	}
	printf("%s %u entr%s\n", dry ? (release ? "would release" :
	    "would delete") : (release ? "released" : "deleted"), n,
	    n == 1 ? "y" : "ies");
	g_ptr_array_free(entries, TRUE);
	return worst == EX_DONE && c->unreadable ? EX_STORE : worst;
}

static int
cmd_release(struct ctx *c, int argc, char **argv)
{
	GPtrArray *to = g_ptr_array_new_with_free_func(g_free);
	bool force = false, dry = false, filtered = false;
	struct qfilter f;
	int rc;

	qfilter_init(&f);
	rc = action_options(c, argc, argv, true, to, &force, &dry, &f,
	    &filtered);
	if (rc == EX_DONE)
		rc = filtered ? bulk(c, true, &f, to, force, dry) :
		    release_one(c, argv[optind], to, force);
	g_ptr_array_free(to, TRUE);
	return rc;
}

/* ---- delete, purge ----------------------------------------------------- */

static int
remove_entry(struct ctx *c, const char *id, const char *action)
{
	char *who = whoami(), *why = NULL;
	int rc = qaction_delete(c->store, c->cfg, who, id, action, &why);

	if (why != NULL)
		say(c, why);
	g_free(who);
	return rc;
}

static int
cmd_delete(struct ctx *c, int argc, char **argv)
{
	bool force = false, dry = false, filtered = false;
	struct qfilter f;
	int worst = EX_DONE, first, rc;

	qfilter_init(&f);
	if ((rc = action_options(c, argc, argv, false, NULL, &force, &dry, &f,
	    &filtered)) != EX_DONE)
		return rc;
	if (filtered)
		return bulk(c, false, &f, NULL, false, dry);
	first = optind;
	for (int i = first; i < argc; i++) {
		rc = remove_entry(c, argv[i], "delete");
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

/* ioc's options: the format, filters (*filtered once there is one),
 * released entries, own domains; entry IDs or filters, not both. */
static int
ioc_options(struct ctx *c, int argc, char **argv, enum qioc_format *fmt,
    struct qfilter *f, bool *filtered, bool *with_released,
    struct qioc_set *set)
{
	static const struct option longopts[] = {
		QFILTER_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "urlhaus", no_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'o' },
		{ "include-released", no_argument, NULL, 'i' },
		{ "own-domain", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j') {
			*fmt = QIOC_JSON;
		} else if (opt == 'c') {
			*fmt = QIOC_CSV;
		} else if (opt == 'u') {
			*fmt = QIOC_URLHAUS;
		} else if (opt == 'o') {
			if (!qioc_format_parse(optarg, fmt)) {
				fprintf(stderr, "%s: unknown format \"%s\" "
				    "(csv, json, stix, misp, urlhaus)\n",
				    c->prog, optarg);
				return EX_USAGEERR;
			}
		} else if (opt == 'i') {
			*with_released = true;
		} else if (opt == 'd') {
			qioc_set_own_domain(set, optarg);
		} else if (filter_option(c, f, opt, optarg)) {
			*filtered = true;
		} else {
			return EX_USAGEERR;
		}
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

/* The indicators of e, with the MD5 and SHA-1 of its files. */
static void
ioc_entry(struct ctx *c, struct qioc_set *set, const struct qentry *e)
{
	GHashTable *hashes = NULL;
	char *msg, *why = NULL;
	size_t len;

	if (qentry_read_message(c->store, e, &msg, &len, &why) == EX_DONE) {
		hashes = qhash_files(msg, len, e);
		g_free(msg);
	} else {
		/* The report still gives the rest. */
		say(c, why);
	}
	qioc_collect_files(set, e, hashes);
	if (hashes)
		g_hash_table_destroy(hashes);
}

static int
cmd_ioc(struct ctx *c, int argc, char **argv)
{
	enum qioc_format fmt = QIOC_JSON;
	struct qioc_set *set = qioc_set_new();
	const char *const *trusted;
	struct qfilter f;
	bool filtered = false, with_released = false;
	GPtrArray *entries;
	char *text;
	int rc;

	qfilter_init(&f);
	/* Trusted sender domains are ours. */
	trusted = emf_cfg_strlist(c->cfg, "heuristics.trusted_domains");
	for (size_t i = 0; trusted && trusted[i]; i++)
		qioc_set_own_domain(set, trusted[i]);
	if ((rc = ioc_options(c, argc, argv, &fmt, &f, &filtered,
	    &with_released, set)) != EX_DONE) {
		qioc_set_free(set);
		return rc;
	}
	if (filtered) {
		if (!with_released && f.released == -1)
			f.released = 0;
		if ((entries = select_entries(c, &f)) == NULL) {
			qioc_set_free(set);
			return EX_STORE;
		}
		if (c->unreadable)
			rc = EX_STORE;
	} else {
		entries = load_entries(c, argv + optind, argc - optind, &rc);
		if (entries == NULL) {
			qioc_set_free(set);
			return rc;
		}
	}
	for (guint i = 0; i < entries->len; i++) {
		struct qentry *e = g_ptr_array_index(entries, i);

		if (e->released != NULL && !with_released) {
			fprintf(stderr, "%s: %s: released (a false positive?): "
			    "left out; --include-released takes it\n",
			    c->prog, e->id);
			continue;
		}
		ioc_entry(c, set, e);
		audit(c, "ioc", e->id, "ok", NULL, "format",
		    qioc_format_name(fmt));
	}
	text = qioc_render(set, fmt);
	fputs(text, stdout);
	g_free(text);
	qioc_set_free(set);
	g_ptr_array_free(entries, TRUE);
	return rc;
}

/* ---- sync -------------------------------------------------------------- */

static int
cmd_sync(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	GString *out = g_string_new(NULL);
	bool dry = false;
	char *who, *why = NULL;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt != 'n') {
			usage(stderr);
			g_string_free(out, TRUE);
			return EX_USAGEERR;
		}
		dry = true;
	}
	if (optind != argc) {
		usage(stderr);
		g_string_free(out, TRUE);
		return EX_USAGEERR;
	}
	who = whoami();
	rc = qsync_run(c->store, c->cfg, who, dry, out, &why);
	fputs(out->str, stdout);
	if (why != NULL)
		say(c, why);
	g_free(who);
	g_string_free(out, TRUE);
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
		{ "stats", cmd_stats },
		{ "release", cmd_release }, { "delete", cmd_delete },
		{ "purge", cmd_purge }, { "export", cmd_export },
		{ "ioc", cmd_ioc }, { "sync", cmd_sync },
	};
	/* What only reads may be run by the store's group (the CSIRT). */
	static const char *const readonly[] = { "list", "show", "stats" };
	bool write = true;
	struct emf_error err;
	char *s;

	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		for (size_t k = 0; k < G_N_ELEMENTS(readonly); k++)
			if (strcmp(argv[0], readonly[k]) == 0)
				write = false;
		if (emf_quarantine_check_access(c->store, write, &err) !=
		    EMF_OK) {
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
