/*
 * emofilter-quarantine - the CSIRT's review tool over the quarantine store:
 * list, show, release, delete, purge, export, ioc. See
 * emofilter-quarantine(8).
 *
 * Reads reports as JSON (the schema emf_report_json() writes) through
 * json-glib, generically: fields that other modules add to objects are
 * shown and mined for indicators without this file knowing them. Nothing
 * from a message is rendered or executed; every untrusted string goes
 * through safe_append() before it reaches a terminal.
 *
 * Exit status: 0 done, 1 not found or refused, 2 usage or configuration
 * error, 3 store error (missing, too open, unreadable entry), 4 release
 * delivery failed.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "emf.h"
#include "qexport.h"
#include "qjson.h"
#include "qrelease.h"
#include "qrender.h"
#include "qsafe.h"
#include "qstore.h"
#include "quarantine.h"

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

/* Load entry id, or say why not on stderr. Returns EX_DONE or the status. */
static int
load_entry(struct ctx *c, const char *id, struct qentry *e)
{
	char *why = NULL;
	int rc = qentry_load(c->store, id, e, &why);

	if (rc != EX_DONE) {
		fprintf(stderr, "%s: %s\n", c->prog, why);
		g_free(why);
	}
	return rc;
}

/* The raw message of e, or EX_STORE said on stderr. */
static int
load_message(struct ctx *c, const struct qentry *e, char **msg, size_t *len)
{
	char *why = NULL;
	int rc = qentry_read_message(c->store, e, msg, len, &why);

	if (rc != EX_DONE) {
		fprintf(stderr, "%s: %s\n", c->prog, why);
		g_free(why);
	}
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
	if (entries == NULL) {
		fprintf(stderr, "%s: %s\n", c->prog, why);
		g_free(why);
	}
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
	json_builder_set_member_name(b, "time");
	json_builder_add_string_value(b, now);
	json_builder_set_member_name(b, "action");
	json_builder_add_string_value(b, action);
	json_builder_set_member_name(b, "id");
	json_builder_add_string_value(b, id);
	json_builder_set_member_name(b, "by");
	json_builder_add_string_value(b, who);
	if (to != NULL) {
		json_builder_set_member_name(b, "to");
		json_builder_begin_array(b);
		for (size_t i = 0; to[i]; i++)
			json_builder_add_string_value(b, to[i]);
		json_builder_end_array(b);
	}
	if (extra_key != NULL) {
		json_builder_set_member_name(b, extra_key);
		json_builder_add_string_value(b, extra_val);
	}
	json_builder_set_member_name(b, "result");
	json_builder_add_string_value(b, result);
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

static int
cmd_purge(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	gint64 age = -1, cutoff;
	const char *agestr = NULL;
	bool dry = false;
	struct emf_error err;
	char **ids;
	size_t n;
	unsigned purged = 0, tmp = 0;
	int opt, worst = EX_DONE;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'o') {
			agestr = optarg;
			if ((age = parse_age(optarg)) < 0) {
				fprintf(stderr, "%s: bad age \"%s\" (want 30d, "
				    "12h, 2w)\n", c->prog, optarg);
				return EX_USAGEERR;
			}
		} else if (opt == 'n') {
			dry = true;
		} else {
			return EX_USAGEERR;
		}
	}
	if (age < 0 || optind != argc) {
		fprintf(stderr, "%s: purge needs --older-than AGE\n", c->prog);
		return EX_USAGEERR;
	}
	cutoff = (gint64)time(NULL) - age;
	if (emf_quarantine_list(c->store, &ids, &n, &err) != EMF_OK) {
		fprintf(stderr, "%s: %s\n", c->prog, err.msg);
		return EX_STORE;
	}
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (id_time(ids[i]) >= cutoff)
			continue;
		if (dry) {
			printf("would purge %s\n", ids[i]);
			purged++;
			continue;
		}
		rc = remove_entry(c, ids[i], "purge");
		if (rc == EX_DONE)
			purged++;
		else if (rc == EX_STORE)
			worst = rc;
	}
	emf_quarantine_ids_free(ids);
	/* Temporary files of writers that died (a day is far beyond any
	 * write). */
	if (!dry)
		emf_quarantine_clean_tmp(c->store, 86400, &tmp, &err);
	printf("%s %u entr%s older than %s%s\n", dry ? "would purge" :
	    "purged", purged, purged == 1 ? "y" : "ies", agestr,
	    tmp ? " (and stale temporary files)" : "");
	return worst;
}

/* ---- export ------------------------------------------------------------ */

/* The report object with this SHA-256 (depth-first), or NULL. */
static const char *
object_path_by_sha(JsonArray *objs, const char *sha, int depth)
{
	for (guint i = 0; objs && depth < 64 &&
	    i < json_array_get_length(objs); i++) {
		JsonObject *o = jarr_obj(objs, i);
		const char *p;

		if (jstr(o, "sha256") && strcmp(jstr(o, "sha256"), sha) == 0)
			return jstr(o, "path");
		if ((p = object_path_by_sha(jarr(o, "children"), sha,
		    depth + 1)) != NULL)
			return p;
	}
	return NULL;
}

static int
cmd_export(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *outpath = NULL;
	struct qentry e;
	char *msg, *fail, *msha;
	size_t len;
	GPtrArray *parts;
	GString *man;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (opt == 'o')
			outpath = optarg;
		else
			return EX_USAGEERR;
	}
	if (outpath == NULL || optind + 1 != argc) {
		fprintf(stderr, "%s: export needs ID and -o FILE\n", c->prog);
		return EX_USAGEERR;
	}
	if ((rc = load_entry(c, argv[optind], &e)) != EX_DONE)
		return rc;
	if (load_message(c, &e, &msg, &len) != EX_DONE) {
		qentry_clear(&e);
		return EX_STORE;
	}
	parts = qexport_parts(msg, len);
	msha = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)msg, len);
	man = g_string_new(NULL);
	g_string_append_printf(man, "emofilter quarantine export of %s\n"
	    "Samples: handle with care. Zip password: %s\n\n"
	    "sha256  size  member  (original name; report object)\n"
	    "%s  %zu  %s.eml\n", e.id, QEXPORT_PASSWORD, msha, len, e.id);
	for (guint i = 0; i < parts->len; i++) {
		struct qexport_part *q = g_ptr_array_index(parts, i);
		const char *path = object_path_by_sha(jarr(e.root, "objects"),
		    q->sha256, 0);

		g_string_append_printf(man, "%s  %zu  %s  (", q->sha256,
		    g_bytes_get_size(q->data), q->name);
		safe_append(man, q->orig_name ? q->orig_name : "no name");
		g_string_append_printf(man, "; %s)\n",
		    path ? path : "not in the report");
	}
	fail = qexport_write(outpath, e.id, msg, len, parts, man->str);
	if (fail != NULL) {
		fprintf(stderr, "%s: %s: export: %s\n", c->prog, e.id, fail);
		audit(c, "export", e.id, fail, NULL, "file", outpath);
		rc = EX_STORE;
	} else {
		audit(c, "export", e.id, "ok", NULL, "file", outpath);
		printf("%s exported to %s: the message and %u attachment%s "
		    "(AES-256, password \"%s\")\n", e.id, outpath, parts->len,
		    parts->len == 1 ? "" : "s", QEXPORT_PASSWORD);
		rc = EX_DONE;
	}
	g_free(fail);
	g_free(msha);
	g_string_free(man, TRUE);
	qexport_parts_free(parts);
	g_free(msg);
	qentry_clear(&e);
	return rc;
}

/* ---- ioc --------------------------------------------------------------- */

/*
 * One indicator, with MISP attribute type and category names so that the
 * CSV and JSON paste into MISP (freetext/CSV import, or an event's
 * "Attribute" list); url rows are what a URLhaus submission needs.
 */
struct ioc {
	char *entry, *type, *category, *value, *comment;
	bool to_ids;
};

struct iocset {
	GPtrArray *list;	/* struct ioc * */
	GHashTable *seen;	/* "entry\ttype\tvalue" */
};

static void
ioc_free(gpointer p)
{
	struct ioc *i = p;

	g_free(i->entry);
	g_free(i->type);
	g_free(i->category);
	g_free(i->value);
	g_free(i->comment);
	g_free(i);
}

static void
ioc_add(struct iocset *set, const char *entry, const char *type,
    const char *category, const char *value, bool to_ids,
    const char *comment)
{
	struct ioc *i;
	char *key;

	if (value == NULL || *value == '\0')
		return;
	key = g_strdup_printf("%s\t%s\t%s", entry, type, value);
	if (g_hash_table_contains(set->seen, key)) {
		g_free(key);
		return;
	}
	g_hash_table_add(set->seen, key);
	i = g_new0(struct ioc, 1);
	i->entry = g_strdup(entry);
	i->type = g_strdup(type);
	i->category = g_strdup(category);
	i->value = g_utf8_make_valid(value, -1);
	i->comment = g_strdup(comment ? comment : "");
	i->to_ids = to_ids;
	g_ptr_array_add(set->list, i);
}

/* A URL-ish indicator: "url" when it has a scheme, else "text". */
static void
ioc_url(struct iocset *set, const char *entry, const char *value,
    const char *comment)
{
	if (value == NULL)
		return;
	if (strstr(value, "://") != NULL)
		ioc_add(set, entry, "url", "Network activity", value, true,
		    comment);
	else
		ioc_add(set, entry, "text", "Other", value, false, comment);
}

static void
ioc_strings(struct iocset *set, const char *entry, JsonArray *a,
    const char *comment)
{
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_url(set, entry, jarr_str(a, i), comment);
}

static void
ioc_object(struct iocset *set, const char *entry, JsonObject *o, int depth)
{
	const char *path = jstr(o, "path") ? jstr(o, "path") : "?";
	const char *name = jstr(o, "name"), *type = jstr(o, "type");
	JsonArray *a;
	char *where;

	if (o == NULL || depth > 64)
		return;
	/* Attachments and members: named, or inside a container. Unnamed
	 * top-level text is the mail body, not a file. */
	if (name != NULL || depth > 0 ||
	    (type != NULL && strcmp(type, "text") != 0 &&
	    strcmp(type, "html") != 0)) {
		char *c = g_strdup_printf("%s %s%s%s", depth ? "member" :
		    "attachment", path, name ? " " : "", name ? name : "");

		ioc_add(set, entry, "sha256", "Payload delivery",
		    jstr(o, "sha256"), true, c);
		if (name != NULL)
			ioc_add(set, entry, "filename", "Payload delivery",
			    name, false, c);
		g_free(c);
	}
	if (jstr(o, "password")) {
		where = g_strdup_printf("archive password opening %s (found in "
		    "%s)", path, jstr(o, "password_source") ?
		    jstr(o, "password_source") : "?");
		ioc_add(set, entry, "text", "Other", jstr(o, "password"), false,
		    where);
		g_free(where);
	}
	a = jarr(o, "macros");
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *m = jarr_obj(a, i);

		where = g_strdup_printf("URL in macro %s of %s",
		    jstr(m, "module") ? jstr(m, "module") : "?", path);
		ioc_strings(set, entry, jarr(m, "urls"), where);
		g_free(where);
	}
	where = g_strdup_printf("external link in %s", path);
	ioc_strings(set, entry, jarr(o, "external_links"), where);
	g_free(where);
	where = g_strdup_printf("URL in %s", path);
	ioc_strings(set, entry, jarr(o, "urls"), where);
	g_free(where);
	a = jarr(o, "children");
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_object(set, entry, jarr_obj(a, i), depth + 1);
}

static void
ioc_entry(struct iocset *set, struct qentry *e)
{
	JsonObject *env = jobj(e->root, "envelope");
	JsonObject *hdr = jobj(e->root, "headers");
	JsonArray *a;
	char *addr, *dom, *edom;
	const char *id = e->id;

	/* Header sender, then the envelope. */
	addr = addr_of(jstr(hdr, "from"));
	dom = domain_of(addr);
	ioc_add(set, id, "email-src", "Payload delivery", addr, false,
	    "header From address");
	ioc_add(set, id, "domain", "Payload delivery", dom, false,
	    "header From domain");
	if (jstr(hdr, "from") != NULL && strchr(jstr(hdr, "from"), '<')) {
		char *name = g_strndup(jstr(hdr, "from"),
		    (gsize)(strrchr(jstr(hdr, "from"), '<') -
		    jstr(hdr, "from")));

		g_strstrip(name);
		if (name[0] == '"' && strlen(name) > 1 &&
		    name[strlen(name) - 1] == '"') {
			name[strlen(name) - 1] = '\0';
			memmove(name, name + 1, strlen(name));
		}
		ioc_add(set, id, "email-src-display-name", "Payload delivery",
		    name, false, "header From display name");
		g_free(name);
	}
	ioc_add(set, id, "email-src", "Payload delivery", jstr(env, "from"),
	    false, "envelope sender (MAIL FROM)");
	edom = domain_of(jstr(env, "from"));
	ioc_add(set, id, "domain", "Payload delivery", edom, false,
	    "envelope sender domain");
	ioc_add(set, id, "ip-src", "Network activity", jstr(env, "client_ip"),
	    false, "SMTP client address");
	ioc_add(set, id, "hostname", "Network activity", jstr(env, "helo"),
	    false, "SMTP HELO/EHLO name");
	ioc_add(set, id, "hostname", "Network activity",
	    jstr(env, "client_name"), false, "SMTP client reverse DNS name");
	ioc_add(set, id, "email-subject", "Payload delivery",
	    jstr(hdr, "subject"), false, "Subject");
	ioc_add(set, id, "email-message-id", "Payload delivery",
	    jstr(hdr, "message_id"), false, "Message-ID");
	ioc_add(set, id, "email-reply-to", "Payload delivery",
	    jstr(hdr, "reply_to"), false, "Reply-To");
	g_free(addr);
	g_free(dom);
	g_free(edom);
	a = jarr(e->root, "objects");
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_object(set, id, jarr_obj(a, i), 0);
	/* Passwords that opened something (also named per object above). */
	a = jarr(e->root, "passwords");
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *p = jarr_obj(a, i);
		char *where;

		if (!jbool(p, "used"))
			continue;
		where = g_strdup_printf("archive password (found in %s)",
		    jstr(p, "source") ? jstr(p, "source") : "?");
		ioc_add(set, id, "text", "Other", jstr(p, "password"), false,
		    where);
		g_free(where);
	}
}

static void
csv_field(GString *s, const char *v)
{
	g_string_append_c(s, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			g_string_append_c(s, '"');
		g_string_append_c(s, *p);
	}
	g_string_append_c(s, '"');
}

static int
cmd_ioc(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		QFILTER_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "urlhaus", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	enum { FMT_JSON, FMT_CSV, FMT_URLHAUS } fmt = FMT_JSON;
	struct iocset set;
	struct qfilter f;
	bool filtered = false;
	GPtrArray *entries;
	int opt, rc = EX_DONE;

	qfilter_init(&f);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j')
			fmt = FMT_JSON;
		else if (opt == 'c')
			fmt = FMT_CSV;
		else if (opt == 'u')
			fmt = FMT_URLHAUS;
		else if (filter_option(c, &f, opt, optarg))
			filtered = true;
		else
			return EX_USAGEERR;
	}
	if ((optind == argc) == !filtered) {
		fprintf(stderr, "%s: ioc needs entry IDs or filters (--since "
		    "...), not both\n", c->prog);
		return EX_USAGEERR;
	}
	if (filtered) {
		if ((entries = select_entries(c, &f)) == NULL)
			return EX_STORE;
		if (c->unreadable)
			rc = EX_STORE;
	} else {
		entries = g_ptr_array_new_with_free_func(qentry_free);
		for (int i = optind; i < argc; i++) {
			struct qentry *e = g_new0(struct qentry, 1);
			int r = load_entry(c, argv[i], e);

			if (r != EX_DONE) {
				g_free(e);
				g_ptr_array_free(entries, TRUE);
				return r;
			}
			g_ptr_array_add(entries, e);
		}
	}
	set.list = g_ptr_array_new_with_free_func(ioc_free);
	set.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	for (guint i = 0; i < entries->len; i++)
		ioc_entry(&set, g_ptr_array_index(entries, i));
	if (fmt == FMT_CSV) {
		GString *s = g_string_new("entry_id,type,category,value,to_ids,"
		    "comment\r\n");

		for (guint i = 0; i < set.list->len; i++) {
			struct ioc *x = g_ptr_array_index(set.list, i);

			csv_field(s, x->entry);
			g_string_append_c(s, ',');
			csv_field(s, x->type);
			g_string_append_c(s, ',');
			csv_field(s, x->category);
			g_string_append_c(s, ',');
			csv_field(s, x->value);
			g_string_append(s, x->to_ids ? ",1," : ",0,");
			csv_field(s, x->comment);
			g_string_append(s, "\r\n");
		}
		fwrite(s->str, 1, s->len, stdout);
		g_string_free(s, TRUE);
	} else {
		JsonBuilder *b = json_builder_new();
		char *text;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, fmt == FMT_URLHAUS ?
		    "submission" : "Attribute");
		json_builder_begin_array(b);
		for (guint i = 0; i < set.list->len; i++) {
			struct ioc *x = g_ptr_array_index(set.list, i);

			if (fmt == FMT_URLHAUS) {
				if (strcmp(x->type, "url") != 0)
					continue;
				json_builder_begin_object(b);
				json_builder_set_member_name(b, "url");
				json_builder_add_string_value(b, x->value);
				json_builder_set_member_name(b, "threat");
				json_builder_add_string_value(b,
				    "malware_download");
				json_builder_set_member_name(b, "tags");
				json_builder_begin_array(b);
				json_builder_add_string_value(b, "emofilter");
				json_builder_end_array(b);
				json_builder_end_object(b);
				continue;
			}
			json_builder_begin_object(b);
			json_builder_set_member_name(b, "type");
			json_builder_add_string_value(b, x->type);
			json_builder_set_member_name(b, "category");
			json_builder_add_string_value(b, x->category);
			json_builder_set_member_name(b, "value");
			json_builder_add_string_value(b, x->value);
			json_builder_set_member_name(b, "to_ids");
			json_builder_add_boolean_value(b, x->to_ids);
			json_builder_set_member_name(b, "comment");
			json_builder_add_string_value(b, x->comment);
			json_builder_set_member_name(b, "entry_id");
			json_builder_add_string_value(b, x->entry);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
		text = qjson_finish(b, true);
		printf("%s\n", text);
		g_free(text);
	}
	for (guint i = 0; i < entries->len; i++)
		audit(c, "ioc", ((struct qentry *)
		    g_ptr_array_index(entries, i))->id, "ok", NULL, "format",
		    fmt == FMT_CSV ? "csv" : fmt == FMT_URLHAUS ? "urlhaus" :
		    "json");
	g_ptr_array_free(set.list, TRUE);
	g_hash_table_destroy(set.seen);
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

int
main(int argc, char **argv)
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
	struct ctx c = { "emofilter-quarantine", NULL, NULL, false };
	const char *conf = NULL, *store = NULL;
	struct emf_error err;
	int opt, rc = -1;

	while ((opt = getopt(argc, argv, "+c:d:h")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'd': store = optarg; break;
		case 'h': usage(stdout); return EX_DONE;
		default: usage(stderr); return EX_USAGEERR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
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
	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
		if (strcmp(argv[optind], cmds[i].name) == 0) {
			if (emf_quarantine_check(c.store, &err) != EMF_OK) {
				fprintf(stderr, "%s: %s\n", c.prog, err.msg);
				rc = EX_STORE;
			} else {
				rc = cmds[i].fn(&c, argc - optind,
				    argv + optind);
			}
			break;
		}
	if (rc < 0) {
		char *s = safe_dup(argv[optind]);

		fprintf(stderr, "%s: unknown command \"%s\"\n", c.prog, s);
		g_free(s);
		usage(stderr);
		rc = EX_USAGEERR;
	}
	emf_cfg_free(c.cfg);
	emf_library_shutdown();
	return rc;
}
