/*
 * cfg.c - the configuration file (libconfig's only user; cfgsource.c reads
 * the file and its @includes for it).
 *
 * One key table lists every key with its type, default, range and meaning.
 * Loading walks the whole file: a key that is not in the table, a value of
 * the wrong type or out of range is an error reported as "file:line: ...",
 * so a typo never passes silently (OpenDKIM's On-ReptuationError lesson).
 * The "scores" group is open: its members are symbol names, checked
 * against the symbol table instead; the "policies" list holds groups of
 * its own shape (take_policies()).
 *
 * Values are read once into an immutable struct emf_cfg; programs read
 * them by key path with the typed accessors.
 */
#include "config.h"

#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "cfg.h"
#include "cfgsource.h"
#include "composite.h"
#include "symbols.h"

/*
 * The key table. Add a key here and in conf/emofilter.conf (the test
 * tests/unit/check_cfg.c loads that file, so the two cannot drift).
 * Defaults are written as they would be in the file. min/max bound
 * numbers; for strings, choices ("a|b|c") bounds the values.
 */
static const struct emf_cfg_key keys[] = {
	/* limits: every bound of a scan */
	{ "limits.max_message_bytes", EMF_CFG_INT, "31457280", 1024, 1073741824.0, NULL,
	  "larger messages are not scanned (LIMIT_EXCEEDED; the milter "
	  "applies milter.on_oversize)" },
	{ "limits.mime_depth", EMF_CFG_INT, "32", 1, 1000, NULL,
	  "multipart and message/rfc822 nesting" },
	{ "limits.mime_parts", EMF_CFG_INT, "1000", 1, 1000000, NULL,
	  "MIME parts per message" },
	{ "limits.header_field_bytes", EMF_CFG_INT, "102400", 1024,
	  1073741824.0, NULL,
	  "a message header field is cut to this (Postfix header_size_limit)" },
	{ "limits.container_depth", EMF_CFG_INT, "8", 1, 64, NULL,
	  "mail part -> archive -> document -> ... nesting" },
	{ "limits.max_objects", EMF_CFG_INT, "1000", 1, 1000000, NULL,
	  "objects (parts, members, streams) per message" },
	{ "limits.object_bytes", EMF_CFG_INT, "26214400", 1024, 1073741824.0, NULL,
	  "bytes extracted for one object" },
	{ "limits.total_bytes", EMF_CFG_INT, "104857600", 1024, 4294967296.0, NULL,
	  "bytes extracted per message" },
	{ "limits.text_bytes", EMF_CFG_INT, "1048576", 1024, 104857600, NULL,
	  "decoded text kept per part for the heuristics" },
	{ "limits.archive_entries", EMF_CFG_INT, "5000", 1, 1000000, NULL,
	  "entries read per archive" },
	{ "limits.archive_ratio", EMF_CFG_INT, "100", 2, 1000000, NULL,
	  "compression ratio above which a large member is suspect" },
	{ "limits.ole_dir_entries", EMF_CFG_INT, "10000", 1, 1000000, NULL,
	  "OLE2 directory entries" },
	{ "limits.vba_modules", EMF_CFG_INT, "1000", 1, 100000, NULL,
	  "VBA modules per project" },
	{ "limits.vba_module_bytes", EMF_CFG_INT, "2097152", 1024, 104857600, NULL,
	  "decompressed source per VBA module" },
	{ "limits.password_candidates", EMF_CFG_INT, "32", 0, 1000, NULL,
	  "password candidates kept per message" },
	{ "limits.password_length", EMF_CFG_INT, "64", 1, 1024, NULL,
	  "longest password candidate kept" },
	{ "limits.password_tries", EMF_CFG_INT, "32", 0, 1000, NULL,
	  "candidates tried per encrypted archive" },
	{ "limits.scan_timeout_ms", EMF_CFG_INT, "60000", 100, 3600000, NULL,
	  "wall-clock deadline per message" },

	/* actions: thresholds on the total score */
	{ "actions.tag", EMF_CFG_DOUBLE, "5.0", -1000, 1000, NULL,
	  "score from which the message is tagged" },
	{ "actions.quarantine", EMF_CFG_DOUBLE, "10.0", -1000, 1000, NULL,
	  "score from which the message is quarantined" },
	{ "actions.reject", EMF_CFG_DOUBLE, "15.0", -1000, 1000, NULL,
	  "score from which the message is rejected" },

	/* quarantine store (quarantine.c, emofilter-quarantine) */
	{ "quarantine.dir", EMF_CFG_STR, "\"/var/lib/emofilter/quarantine\"", 0, 0, NULL,
	  "quarantine store directory (mode 2750, group the CSIRT group)" },
	{ "quarantine.sendmail", EMF_CFG_STR, "\"/usr/sbin/sendmail\"", 0, 0, NULL,
	  "command that re-injects released mail (sendmail -G -i -f ...)" },
	{ "quarantine.release_smtp", EMF_CFG_STR, "\"127.0.0.1:10026\"", 0, 0, NULL,
	  "host:port to release through by SMTP (the no-milter port); \"\": sendmail" },
	{ "quarantine.helo", EMF_CFG_STR, "\"localhost\"", 0, 0, NULL,
	  "EHLO name when releasing by SMTP" },
	{ "quarantine.postfix_hold", EMF_CFG_BOOL, "true", 0, 0, NULL,
	  "release/delete/purge act on the Postfix hold copy too (postsuper)" },
	{ "quarantine.postfix_bin", EMF_CFG_STR, "\"/usr/sbin\"", 0, 0, NULL,
	  "directory of postsuper, postcat and postqueue" },
	{ "quarantine.postfix_config", EMF_CFG_STR, "\"\"", 0, 0, NULL,
	  "Postfix configuration directory for them (\"\": Postfix's default)" },
	/* -- end of quarantine keys -- */

	/* passwords (passwords.c, archive.c) */
	{ "passwords.patterns", EMF_CFG_STRLIST,
	  "[ \"(?i)(?<![[:alpha:]])(?:password|passwd|passcode|pass|pwd|pw)(?![[:alpha:]])[[:space:]]*(?:[(][^()]{0,20}[)][[:space:]]*)?(?:is(?![[:alpha:]])|:|=)[[:space:]]*(?:[:=][[:space:]]*)?[“‘「『【(<[]?([!-~]+)\", \"(?i)(?<![[:alpha:]])password[[:space:]]+(?:for|to|of)[[:space:]][^:[:cntrl:]]{0,60}?(?:[[:space:]]is(?![[:alpha:]])|:)[[:space:]]*[“‘「『【(<[]?([!-~]+)\", \"(?:パスワード|暗証番号|解凍キー|解凍コード|解凍用キー)(?:[[:space:]]*[(][^()]{0,12}[)])?[[:space:]]*[】』」]?[[:space:]]*(?:は|:|=|→|⇒|-)?[[:space:]]*[“‘「『【(<[]?([!-~]+)\", \"(?i)[【[](?:password|pass|pwd|pw)[]】][[:space:]]*[:=]?[[:space:]]*[“‘「『(<]?([!-~]+)\" ]",
	  0, 0, NULL,
	  "GRegex patterns over NFKC-normalised text; group 1 is the password" },
	{ "passwords.bare_token_body_bytes", EMF_CFG_INT, "512", 0, 65536, NULL,
	  "bodies up to this size also give password-like bare tokens (0: off)" },
	/* -- end of passwords keys -- */

	/* active content: what the composites' archive symbols look for
	 * (composite.c) */
	{ "active_content.symbols", EMF_CFG_STRLIST,
	  "[ \"OFFICE_MACRO\", \"XLM_MACRO\", \"MACRO_AUTOEXEC\", "
	  "\"EXECUTABLE_ATTACHMENT\", \"OFFICE_ENCRYPTED\", "
	  "\"RTF_EXPLOIT_CLASS\", \"OFFICE_EXPLOIT_CLASS\", \"OFFICE_DDE\", "
	  "\"OFFICE_EXTERNAL_TEMPLATE\", \"OFFICE_DANGEROUS_SCHEME\", "
	  "\"OFFICE_PACKAGE_EXECUTABLE\", \"VBA_STOMPED\" ]",
	  0, 0, NULL,
	  "symbols that mark active content (code that can run when opened)" },
	{ "active_content.inert_extensions", EMF_CFG_STRLIST,
	  "[ \"pdf\", \"txt\", \"csv\", \"jpg\", \"jpeg\", \"png\", "
	  "\"gif\", \"bmp\", \"tif\", \"tiff\", \"docx\", \"xlsx\", "
	  "\"pptx\" ]",
	  0, 0, NULL,
	  "file name extensions of types that carry no code" },
	/* -- end of active_content keys -- */

	/* office documents (ole.c, vba.c, ooxml.c, xlm.c) */
	/* -- end of office keys -- */

	/* mail heuristics, lure phrases, YARA, allowlists (heuristics.c,
	 * lure.c, yarascan.c) */
	{ "heuristics.enabled", EMF_CFG_BOOL, "true", 0, 0, NULL,
	  "sender, reply-forgery and signature checks on the mail" },
	{ "heuristics.trusted_domains", EMF_CFG_STRLIST, "[]", 0, 0, NULL,
	  "registrable domains whose mail skips the mail heuristics" },
	{ "heuristics.trusted_networks", EMF_CFG_STRLIST, "[]", 0, 0, NULL,
	  "client networks (CIDR) whose mail skips the mail heuristics" },
	{ "heuristics.trust_authenticated", EMF_CFG_BOOL, "true", 0, 0, NULL,
	  "SMTP-authenticated senders skip the mail heuristics" },
	{ "heuristics.vba_allowlist", EMF_CFG_STRLIST, "[]", 0, 0, NULL,
	  "SHA-256 of VBA project sources whose macro symbols are dropped" },
	{ "lure.enabled", EMF_CFG_BOOL, "true", 0, 0, NULL,
	  "look for enable-content lures in the body and in documents" },
	{ "lure.phrases", EMF_CFG_STRLIST, "[]", 0, 0, NULL,
	  "extra lure phrases, added to the built-in list" },
	{ "lure.warning_words", EMF_CFG_STRLIST, "[]", 0, 0, NULL,
	  "extra words that mark a text as a security warning" },
	{ "yara.enabled", EMF_CFG_BOOL, "true", 0, 0, NULL,
	  "run YARA over every object and every decoded text" },
	{ "yara.rules_dir", EMF_CFG_STR, "\"\"", 0, 0, NULL,
	  "rule directory (\"\" = the installed rules; relative to the config file)" },
	{ "yara.extra_dirs", EMF_CFG_STRLIST, "[]", 0, 0, NULL,
	  "more rule directories, compiled after rules_dir" },
	{ "yara.default_score", EMF_CFG_DOUBLE, "2.0", -1000, 1000, NULL,
	  "score of a YARA match whose rule has no meta score" },
	/* -- end of heuristics keys -- */

	/* correlation state: mail held for a password sent separately
	 * (store/state.h) */
	{ "state.enabled", EMF_CFG_BOOL, "false", 0, 0, NULL,
	  "the milter holds mail whose archive waits for a password mail" },
	{ "state.backend", EMF_CFG_STR, "\"sqlite\"", 0, 0, "sqlite|postgresql",
	  "where held mail waits: a SQLite file, or a shared PostgreSQL" },
	{ "state.path", EMF_CFG_STR, "\"/var/lib/emofilter/state.sqlite\"", 0, 0,
	  NULL, "SQLite file (backend sqlite)" },
	{ "state.conninfo", EMF_CFG_STR, "\"\"", 0, 0, NULL,
	  "libpq connection string (backend postgresql)" },
	{ "state.window", EMF_CFG_INT, "1800", 1, 604800, NULL,
	  "seconds a held mail waits for its password mail" },
	{ "state.max_per_sender", EMF_CFG_INT, "20", 1, 1000000, NULL,
	  "held mails waiting per sender; the oldest expire first" },
	{ "state.max_total", EMF_CFG_INT, "10000", 1, 100000000, NULL,
	  "held mails waiting in all; the oldest expire first" },
	{ "state.expiry_action", EMF_CFG_STR, "\"release_tagged\"", 0, 0,
	  "release_tagged|keep",
	  "a held mail whose password never came: deliver it tagged, or keep it" },
	{ "state.busy_timeout_ms", EMF_CFG_INT, "5000", 0, 600000, NULL,
	  "wait for a lock (SQLite) or a statement (PostgreSQL), then tempfail" },
	{ "state.expire_interval", EMF_CFG_INT, "60", 0, 86400, NULL,
	  "the milter expires due held mail every N seconds (0: on mail only)" },
	{ "state.memory.enabled", EMF_CFG_BOOL, "false", 0, 0, NULL,
	  "remember what the organisation sends; replies are checked against it" },
	{ "state.memory.max_entries", EMF_CFG_INT, "200000", 1, 100000000, NULL,
	  "remembered (Message-ID, recipient) rows in all; the oldest go first" },
	{ "state.memory.max_per_sender", EMF_CFG_INT, "5000", 1, 100000000,
	  NULL, "remembered rows per sender of ours; the oldest go first" },
	{ "state.memory.max_age_days", EMF_CFG_INT, "90", 1, 3650, NULL,
	  "days a sent mail is remembered" },
	{ "state.memory.outbound_authenticated", EMF_CFG_BOOL, "true", 0, 0,
	  NULL, "mail of an SMTP AUTH client ({auth_authen}) is outbound" },
	{ "state.memory.outbound_networks", EMF_CFG_STRLIST, "[]", 0, 0, NULL,
	  "client networks (CIDR) whose mail is outbound" },
	{ "state.memory.known_thread_clears", EMF_CFG_BOOL, "true", 0, 0, NULL,
	  "a KNOWN_THREAD reply gets no REPLY_WITHOUT_THREAD/FAKE_ORIGINAL_MESSAGE" },
	/* -- end of state keys -- */

	/* the milter daemon (src/milter/) */
	{ "milter.socket", EMF_CFG_STR, "\"inet:8895@127.0.0.1\"", 0, 0, NULL,
	  "where the MTA connects: unix:/path or inet:port@host" },
	{ "milter.user", EMF_CFG_STR, "\"emofilter\"", 0, 0, NULL,
	  "user to run as after the socket is created (when started as root)" },
	{ "milter.pidfile", EMF_CFG_STR, "\"/run/emofilter/emofilter.pid\"", 0, 0, NULL,
	  "pid file of the main process (\"\" for none)" },
	{ "milter.workers", EMF_CFG_INT, "0", 0, 256, NULL,
	  "scanner worker processes (concurrent scans); 0: one per CPU" },
	{ "milter.queue", EMF_CFG_INT, "0", 0, 100000, NULL,
	  "messages that may wait for a free worker (more: overload); 0: 32 per worker, at least 128" },
	{ "milter.scan_timeout_ms", EMF_CFG_INT, "120000", 1000, 3600000, NULL,
	  "wall-clock deadline of a worker scan (then SCAN_FAILED)" },
	{ "milter.on_scan_failure", EMF_CFG_STR, "\"tempfail\"", 0, 0,
	  "tempfail|accept",
	  "a crashed or timed-out scan: tempfail, or accept tagged unscanned" },
	{ "milter.on_error", EMF_CFG_STR, "\"tempfail\"", 0, 0, "tempfail|accept",
	  "an internal error (memory, disk): tempfail or accept unscanned" },
	/* per failure case (issue 18); "" follows on_scan_failure/on_error */
	{ "milter.on_failure.timeout", EMF_CFG_STR, "\"\"", 0, 0,
	  "|tempfail|accept|reject",
	  "a scan past scan_timeout_ms (\"\": on_scan_failure)" },
	{ "milter.on_failure.crash", EMF_CFG_STR, "\"\"", 0, 0,
	  "|tempfail|accept|reject",
	  "a scanner that died mid-scan (\"\": on_scan_failure)" },
	{ "milter.on_failure.overload", EMF_CFG_STR, "\"\"", 0, 0,
	  "|tempfail|accept|reject",
	  "no scanner free before the deadline (\"\": on_scan_failure)" },
	{ "milter.on_failure.scan_error", EMF_CFG_STR, "\"\"", 0, 0,
	  "|tempfail|accept|reject",
	  "the scanner returned an error (\"\": on_error)" },
	{ "milter.on_failure.store", EMF_CFG_STR, "\"\"", 0, 0,
	  "|tempfail|accept|reject",
	  "spool or quarantine store failed (disk, memory) (\"\": on_error)" },
	{ "milter.quarantine_action", EMF_CFG_STR, "\"hold\"", 0, 0,
	  "hold|discard|reject",
	  "after storing a quarantined message: hold it, discard it or reject it" },
	{ "milter.quarantine_rejected", EMF_CFG_BOOL, "true", 0, 0, NULL,
	  "also store rejected messages in the quarantine" },
	{ "milter.reject_text", EMF_CFG_STR,
	  "\"Message rejected as malicious (report {id})\"", 0, 0, NULL,
	  "text after 550 5.7.1; {id} is replaced by the report ID" },
	{ "milter.subject_prefix", EMF_CFG_STR, "\"[SUSPICIOUS]\"", 0, 0, NULL,
	  "prefix added to the Subject of tagged messages (\"\" for none)" },
	{ "milter.headers_on_accept", EMF_CFG_BOOL, "true", 0, 0, NULL,
	  "add X-Emofilter-Score/-Action/-ID to clean messages too" },
	{ "milter.spool_memory_bytes", EMF_CFG_INT, "1048576", 0, 1073741824.0, NULL,
	  "message bytes kept in memory before spilling to a temp file" },
	{ "milter.spool_dir", EMF_CFG_STR, "\"/tmp\"", 0, 0, NULL,
	  "directory for spilled messages (private temp files)" },
	{ "milter.on_oversize", EMF_CFG_STR, "\"tag\"", 0, 0,
	  "tag|tempfail|reject",
	  "a message above limits.max_message_bytes (not scanned): deliver "
	  "it tagged X-Emofilter-Action: unscanned, tempfail or reject" },
	/* -- end of milter keys -- */
	{ "metrics.listen", EMF_CFG_STR, "\"\"", 0, 0, NULL,
	  "host:port of the Prometheus text endpoint (GET /metrics); \"\" = off" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Groups that may appear; the "scores" group is handled on its own. */
static bool
known_group(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(keys[i].name, path, n) == 0 &&
		    keys[i].name[n] == '.')
			return true;
	return false;
}

union emf_cfg_value {
	long long i;
	double d;
	bool b;
	char *s;
	char **list;
};

struct emf_cfg {
	char *path;
	union emf_cfg_value values[NKEYS];
	GHashTable *index;	/* key name -> index + 1 */
	GHashTable *scores;	/* symbol name -> double * */
	GPtrArray *policies;	/* struct emf_cfg_policy *, file order */
	GPtrArray *composites;	/* struct emf_cfg_composite *, eval order */
};

const struct emf_cfg_key *
emf_cfg_keys(size_t *n)
{
	*n = NKEYS;
	return keys;
}

static void
vset_error(struct emf_error *err, const char *file, int line,
    const char *fmt, va_list ap) G_GNUC_PRINTF(4, 0);

static void
vset_error(struct emf_error *err, const char *file, int line,
    const char *fmt, va_list ap)
{
	int n = 0;

	if (err == NULL)
		return;
	if (file != NULL && line > 0)
		n = snprintf(err->msg, sizeof(err->msg), "%s:%d: ", file, line);
	else if (file != NULL)
		n = snprintf(err->msg, sizeof(err->msg), "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		n = 0;
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
}

static void
set_error(struct emf_error *err, const char *file, int line,
    const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static void
set_error(struct emf_error *err, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_error(err, file, line, fmt, ap);
	va_end(ap);
}

static void
set_error_at(struct emf_error *err, const struct emf_cfg_source *src,
    const config_setting_t *s, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/*
 * An error at a setting, named by the file and line it was read from
 * (libconfig numbers the lines of the expanded text). src NULL: a
 * built-in default.
 */
static void
set_error_at(struct emf_error *err, const struct emf_cfg_source *src,
    const config_setting_t *s, const char *fmt, ...)
{
	const char *file = "(built-in)";
	int line = 0;
	va_list ap;

	if (src != NULL)
		file = emf_cfg_source_where(src, config_setting_source_line(s),
		    &line);
	va_start(ap, fmt);
	vset_error(err, file, line, fmt, ap);
	va_end(ap);
}

static void
free_value(const struct emf_cfg_key *k, union emf_cfg_value *v)
{
	if (k->type == EMF_CFG_STR)
		g_free(v->s);
	else if (k->type == EMF_CFG_STRLIST)
		g_strfreev(v->list);
}

void
emf_cfg_free(struct emf_cfg *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		free_value(&keys[i], &cfg->values[i]);
	if (cfg->index != NULL)
		g_hash_table_destroy(cfg->index);
	if (cfg->scores != NULL)
		g_hash_table_destroy(cfg->scores);
	if (cfg->policies != NULL)
		g_ptr_array_free(cfg->policies, TRUE);
	if (cfg->composites != NULL)
		g_ptr_array_free(cfg->composites, TRUE);
	g_free(cfg->path);
	g_free(cfg);
}

static bool
choice_ok(const char *choices, const char *s)
{
	gchar **v;
	bool ok = false;

	if (choices == NULL)
		return true;
	v = g_strsplit(choices, "|", -1);
	for (gchar **p = v; *p != NULL; p++)
		if (strcmp(*p, s) == 0)
			ok = true;
	g_strfreev(v);
	return ok;
}

/* Check one setting against its key and store it. */
/* A float or integer setting as a double; false for any other type. */
static bool
setting_number(const config_setting_t *s, double *out)
{
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_FLOAT)
		*out = config_setting_get_float(s);
	else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		*out = (double)config_setting_get_int64(s);
	else
		return false;
	return true;
}

/* A weight or threshold: a number in [-1000, 1000]. */
static bool
weight_ok(double w)
{
	return !isnan(w) && w >= -1000 && w <= 1000;
}

/* Longest milter.reject_text: a reply line is at most 512 bytes with the
 * code, the enhanced code and the report ID (RFC 5321 4.5.3.1.5). */
#define REJECT_TEXT_MAX 400

/*
 * The text of an SMTP reply (milter.reject_text) must be printable ASCII:
 * RFC 5321 4.2 replies are US-ASCII, and neither SMTPUTF8 (RFC 6531) nor
 * RFC 3463 gives a way to encode other text in a reply. Refused at load
 * (with the byte and the file:line) rather than sent raw or dropped.
 */
static bool
smtp_text_ok(const struct emf_cfg_key *k, const config_setting_t *s,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	const unsigned char *t;
	size_t n;

	if (strcmp(k->name, "milter.reject_text") != 0)
		return true;
	t = (const unsigned char *)config_setting_get_string(s);
	n = strlen((const char *)t);
	for (size_t i = 0; i < n; i++)
		if (t[i] < ' ' || t[i] > '~') {
			set_error_at(err, src, s, "%s: byte %zu is %s (0x%02x): "
			    "an SMTP reply is printable US-ASCII (RFC 5321 "
			    "4.2), so non-ASCII text (e.g. Japanese) cannot "
			    "be sent in it; write it in ASCII", k->name,
			    i + 1, t[i] >= 0x80 ? "not ASCII" :
			    "a control character", t[i]);
			return false;
		}
	if (n > REJECT_TEXT_MAX) {
		set_error_at(err, src, s, "%s: %zu bytes, more than the %d an "
		    "SMTP reply line has room for", k->name, n,
		    REJECT_TEXT_MAX);
		return false;
	}
	return true;
}

static bool
take_value(const struct emf_cfg_key *k, config_setting_t *s,
    union emf_cfg_value *v, const struct emf_cfg_source *src,
    struct emf_error *err)
{
	int t = config_setting_type(s);
	double num;

	switch (k->type) {
	case EMF_CFG_INT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			goto type;
		num = (double)config_setting_get_int64(s);
		if (num < k->min || num > k->max)
			goto range;
		v->i = config_setting_get_int64(s);
		return true;
	case EMF_CFG_DOUBLE:
		if (!setting_number(s, &num))
			goto type;
		if (num < k->min || num > k->max || isnan(num))
			goto range;
		v->d = num;
		return true;
	case EMF_CFG_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			goto type;
		v->b = config_setting_get_bool(s) != 0;
		return true;
	case EMF_CFG_STR:
		if (t != CONFIG_TYPE_STRING)
			goto type;
		if (!g_utf8_validate(config_setting_get_string(s), -1, NULL)) {
			set_error_at(err, src, s, "%s: not valid UTF-8",
			    k->name);
			return false;
		}
		if (!choice_ok(k->choices, config_setting_get_string(s))) {
			set_error_at(err, src, s, "%s: \"%s\" is not one of %s",
			    k->name, config_setting_get_string(s), k->choices);
			return false;
		}
		if (!smtp_text_ok(k, s, src, err))
			return false;
		g_free(v->s);
		v->s = g_strdup(config_setting_get_string(s));
		return true;
	case EMF_CFG_STRLIST: {
		int n;
		GPtrArray *a;

		if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
			goto type;
		n = config_setting_length(s);
		a = g_ptr_array_new();
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(s, i);

			/*
			 * Strings become regexes and phrases; GLib hands
			 * patterns to PCRE2 without a UTF-8 check, and an
			 * invalid one crashed it (found by fuzz_config).
			 */
			if (config_setting_type(e) != CONFIG_TYPE_STRING ||
			    !g_utf8_validate(config_setting_get_string(e), -1,
			    NULL)) {
				g_ptr_array_add(a, NULL);
				g_strfreev((char **)g_ptr_array_free(a, FALSE));
				/* libconfig numbers elements a line late:
				 * name the list's line and the element. */
				set_error_at(err, src, s,
				    "%s: element %d is not a UTF-8 string",
				    k->name, i + 1);
				return false;
			}
			g_ptr_array_add(a,
			    g_strdup(config_setting_get_string(e)));
		}
		g_ptr_array_add(a, NULL);
		g_strfreev(v->list);
		v->list = (char **)g_ptr_array_free(a, FALSE);
		return true;
	}
	}
type:
	set_error_at(err, src, s, "%s: wrong type (want %s)", k->name,
	    k->type == EMF_CFG_INT ? "an integer" :
	    k->type == EMF_CFG_DOUBLE ? "a number" :
	    k->type == EMF_CFG_BOOL ? "true or false" :
	    k->type == EMF_CFG_STR ? "a string" : "a list of strings");
	return false;
range:
	set_error_at(err, src, s, "%s: value out of range [%g, %g]", k->name,
	    k->min, k->max);
	return false;
}

/* Parse a default written as in the file, through libconfig itself. */
static bool
take_default(const struct emf_cfg_key *k, union emf_cfg_value *v,
    struct emf_error *err)
{
	config_t c;
	char *text = g_strdup_printf("v = %s;", k->def);
	bool ok = false;

	config_init(&c);
	if (config_read_string(&c, text) == CONFIG_TRUE) {
		config_setting_t *s = config_lookup(&c, "v");

		ok = s != NULL && take_value(k, s, v, NULL, err);
	} else {
		set_error(err, "(built-in)", 0, "%s: bad default", k->name);
	}
	config_destroy(&c);
	g_free(text);
	return ok;
}

static void policy_free(gpointer p);
static void composite_free(gpointer p);
static bool take_composites(struct emf_cfg *cfg, config_setting_t *list,
    const struct emf_cfg_source *src, struct emf_error *err);
static bool take_default_composites(struct emf_cfg *cfg,
    struct emf_error *err);

static struct emf_cfg *
cfg_new_defaults(struct emf_error *err)
{
	struct emf_cfg *cfg = g_new0(struct emf_cfg, 1);

	cfg->index = g_hash_table_new(g_str_hash, g_str_equal);
	cfg->scores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	cfg->policies = g_ptr_array_new_with_free_func(policy_free);
	cfg->composites = g_ptr_array_new_with_free_func(composite_free);
	for (size_t i = 0; i < NKEYS; i++) {
		g_hash_table_insert(cfg->index, (gpointer)keys[i].name,
		    GSIZE_TO_POINTER(i + 1));
		if (!take_default(&keys[i], &cfg->values[i], err)) {
			emf_cfg_free(cfg);
			return NULL;
		}
	}
	if (!take_default_composites(cfg, err)) {
		emf_cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

static bool
take_scores(struct emf_cfg *cfg, config_setting_t *group,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	int n = config_setting_length(group);

	if (!config_setting_is_group(group)) {
		set_error_at(err, src, group,
		    "scores: must be a group { SYMBOL = weight; ... }");
		return false;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		double w;

		if (emf_symbol_def(name) == NULL && !emf_symbol_is_yara(name)) {
			set_error_at(err, src, s,
			    "scores: unknown symbol %s", name);
			return false;
		}
		if (!setting_number(s, &w)) {
			set_error_at(err, src, s,
			    "scores.%s: wrong type (want a number)", name);
			return false;
		}
		if (!weight_ok(w)) {
			set_error_at(err, src, s,
			    "scores.%s: value out of range [-1000, 1000]", name);
			return false;
		}
		g_hash_table_insert(cfg->scores, g_strdup(name),
		    g_memdup2(&w, sizeof(w)));
	}
	return true;
}

/* ---- policies: other thresholds for some recipients ------------------- */

#define MAX_POLICIES 100
#define MAX_POLICY_RCPTS 10000
#define MAX_POLICY_NAME 64
#define MAX_RCPT_ENTRY 320	/* RFC 5321 path length, roughly */

static void
policy_free(gpointer p)
{
	struct emf_cfg_policy *pol = p;

	g_free(pol->name);
	g_strfreev(pol->recipients);
	g_free(pol);
}

/* Names go into reports and log lines: keep them to a plain token. */
static bool
policy_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_POLICY_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(s[i]) && strchr("_.-", s[i]) == NULL)
			return false;
	return true;
}

/*
 * One recipient entry in its stored form, or NULL if it is none of
 * "user@domain", "@domain", "domain", ".domain".
 */
static char *
policy_entry(const char *s)
{
	const char *at;
	size_t n = strlen(s);

	if (n == 0 || n > MAX_RCPT_ENTRY || !g_utf8_validate(s, -1, NULL))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || strchr("<>,;\"", s[i]))
			return NULL;
	if (s[0] == '@')
		s++;
	at = strrchr(s, '@');
	if (at != NULL && (at == s || at[1] == '\0' || at[1] == '.'))
		return NULL;
	if (at == NULL && (s[0] == '\0' || strcmp(s, ".") == 0))
		return NULL;
	return g_utf8_strdown(s, -1);
}

/* recipients = [ "a@b", "c", ... ]: each valid and in no other policy. */
static bool
take_policy_rcpts(struct emf_cfg_policy *pol, config_setting_t *s,
    GHashTable *seen, const struct emf_cfg_source *src, struct emf_error *err)
{
	int n = config_setting_length(s);
	GPtrArray *v;

	if ((!config_setting_is_array(s) && !config_setting_is_list(s)) ||
	    n < 1 || n > MAX_POLICY_RCPTS) {
		set_error_at(err, src, s, "policy %s: recipients must be a "
		    "list of 1 to %d strings", pol->name, MAX_POLICY_RCPTS);
		return false;
	}
	v = g_ptr_array_new();
	for (int i = 0; i < n; i++) {
		const char *str = config_setting_get_string_elem(s, i);
		char *e = str != NULL ? policy_entry(str) : NULL;
		const char *other;

		if (e == NULL) {
			set_error_at(err, src, s, "policy %s: recipient %d is not "
			    "\"user@domain\", \"domain\" or \".domain\"",
			    pol->name, i + 1);
			goto fail;
		}
		other = g_hash_table_lookup(seen, e);
		if (other != NULL) {
			set_error_at(err, src, s, "policy %s: recipient %s is "
			    "already in policy %s", pol->name, e, other);
			g_free(e);
			goto fail;
		}
		g_hash_table_insert(seen, e, pol->name);
		g_ptr_array_add(v, g_strdup(e));
	}
	g_ptr_array_add(v, NULL);
	pol->recipients = (char **)g_ptr_array_free(v, FALSE);
	return true;
fail:
	g_ptr_array_set_free_func(v, g_free);
	g_ptr_array_free(v, TRUE);
	return false;
}

/* One { name = ...; recipients = [...]; tag = ...; ... } group. */
static bool
take_policy(struct emf_cfg *cfg, config_setting_t *g, GHashTable *seen,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	struct emf_cfg_policy *pol = g_new0(struct emf_cfg_policy, 1);
	config_setting_t *s;
	const char *name = NULL;
	static const char *const th[] = { "tag", "quarantine", "reject" };
	double *thv[] = { &pol->tag, &pol->quarantine, &pol->reject };

	pol->tag = pol->quarantine = pol->reject = NAN;
	g_ptr_array_add(cfg->policies, pol);	/* owned from here on */
	if (!config_setting_is_group(g) ||
	    !config_setting_lookup_string(g, "name", &name) ||
	    !policy_name_ok(name)) {
		set_error_at(err, src, g, "policies: each entry needs name = "
		    "\"...\" (letters, digits, _ . -, at most %d)",
		    MAX_POLICY_NAME);
		return false;
	}
	pol->name = g_strdup(name);
	for (guint i = 0; i + 1 < cfg->policies->len; i++)
		if (strcmp(((struct emf_cfg_policy *)
		    g_ptr_array_index(cfg->policies, i))->name, name) == 0) {
			set_error_at(err, src, g, "policies: two named %s",
			    name);
			return false;
		}
	for (int i = 0; i < config_setting_length(g); i++) {
		const char *k;
		size_t j;

		s = config_setting_get_elem(g, i);
		k = config_setting_name(s);
		for (j = 0; j < G_N_ELEMENTS(th) && strcmp(k, th[j]) != 0; j++)
			;
		if (j < G_N_ELEMENTS(th)) {
			if (!setting_number(s, thv[j]) || !weight_ok(*thv[j])) {
				set_error_at(err, src, s, "policy %s: "
				    "%s must be a number in [-1000, 1000]",
				    name, k);
				return false;
			}
		} else if (strcmp(k, "recipients") == 0) {
			if (!take_policy_rcpts(pol, s, seen, src, err))
				return false;
		} else if (strcmp(k, "name") != 0) {
			set_error_at(err, src, s,
			    "policy %s: unknown setting %s", name, k);
			return false;
		}
	}
	if (pol->recipients == NULL) {
		set_error_at(err, src, g, "policy %s: no recipients", name);
		return false;
	}
	return true;
}

static bool
take_policies(struct emf_cfg *cfg, config_setting_t *list,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	int n = config_setting_length(list);
	GHashTable *seen;
	bool ok = true;

	if (!config_setting_is_list(list) || n > MAX_POLICIES) {
		set_error_at(err, src, list,
		    "policies: must be a list ( { ... }, ... ) of at most %d",
		    MAX_POLICIES);
		return false;
	}
	seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < n && ok; i++)
		ok = take_policy(cfg, config_setting_get_elem(list, i), seen,
		    src, err);
	g_hash_table_destroy(seen);
	return ok;
}

/* Unset thresholds take actions.*; the order rule holds for each policy. */
static bool
check_policies(struct emf_cfg *cfg, double tag, double quar, double rej,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	for (guint i = 0; i < cfg->policies->len; i++) {
		struct emf_cfg_policy *p = g_ptr_array_index(cfg->policies, i);

		if (isnan(p->tag))
			p->tag = tag;
		if (isnan(p->quarantine))
			p->quarantine = quar;
		if (isnan(p->reject))
			p->reject = rej;
		if (!(p->tag <= p->quarantine && p->quarantine <= p->reject)) {
			set_error(err, emf_cfg_source_path(src), 0, "policy %s: want tag <= "
			    "quarantine <= reject (got %g, %g, %g)", p->name,
			    p->tag, p->quarantine, p->reject);
			return false;
		}
	}
	return true;
}

const struct emf_cfg_policy *const *
emf_cfg_policies(const struct emf_cfg *cfg, size_t *n)
{
	*n = cfg->policies->len;
	return (const struct emf_cfg_policy *const *)cfg->policies->pdata;
}

/* ---- composites: named expressions over symbols ------------------------ */

#define MAX_COMPOSITES 200
#define MAX_COMPOSITE_DESC 200

/*
 * The shipped composites, written as in conf/emofilter.conf (check_cfg
 * compares the two). A "composites" list in the file replaces them whole.
 */
static const char default_composites[] =
    "composites = (\n"
    "  { name = \"PPAP_INERT\";\n"
    "    expression = \"ARCHIVE_ENCRYPTED_INERT & ARCHIVE_PASSWORD_IN_BODY\";\n"
    "    score = 0.0;\n"
    "    consume = [ \"ARCHIVE_ENCRYPTED\", \"ARCHIVE_PASSWORD_IN_BODY\",\n"
    "                \"YARA_EMF_PASSWORD_ZIP_TEXT\" ];\n"
    "    description = \"password zip opened: only inert files inside\"; },\n"
    "  { name = \"PPAP_UNOPENED_DOCUMENTS\";\n"
    "    expression = \"ARCHIVE_UNOPENED_INERT_NAMES & \"\n"
    "                 \"ARCHIVE_PASSWORD_UNKNOWN\";\n"
    "    score = 1.0;\n"
    "    consume = [ \"ARCHIVE_ENCRYPTED\", \"ARCHIVE_PASSWORD_UNKNOWN\",\n"
    "                \"YARA_EMF_PASSWORD_ZIP_TEXT\" ];\n"
    "    description = \"password zip not opened, members named inert\"; },\n"
    "  { name = \"ENCRYPTED_ACTIVE_CONTENT\";\n"
    "    expression = \"ARCHIVE_ENCRYPTED_ACTIVE & ARCHIVE_PASSWORD_IN_BODY\";\n"
    "    score = 9.0;\n"
    "    consume = [ \"ARCHIVE_ENCRYPTED\", \"ARCHIVE_PASSWORD_IN_BODY\",\n"
    "                \"YARA_EMF_PASSWORD_ZIP_TEXT\" ];\n"
    "    description = \"active content in a password zip opened\"; },\n"
    "  { name = \"ENCRYPTED_ACTIVE_WITH_SIGN\";\n"
    "    expression = \"ENCRYPTED_ACTIVE_CONTENT & (\"\n"
    "                 \"DISPLAY_NAME_SPOOF | SIGNATURE_DOMAIN_MISMATCH | \"\n"
    "                 \"FROM_ENVELOPE_MISMATCH | REPLY_TO_MISMATCH | \"\n"
    "                 \"FAKE_ORIGINAL_MESSAGE | REPLY_WITHOUT_THREAD | \"\n"
    "                 \"LURE_ENABLE_CONTENT_BODY | LURE_ENABLE_CONTENT_DOC | \"\n"
    "                 \"MACRO_AUTOEXEC | MACRO_SUSPICIOUS)\";\n"
    "    score = 3.0;\n"
    "    description = \"encrypted active content and one more sign\"; },\n"
    "  { name = \"TRUSTED_ACTIVE_CONTENT\";\n"
    "    expression = \"TRUSTED_SENDER & \"\n"
    "                 \"(OFFICE_MACRO | XLM_MACRO | MACRO_AUTOEXEC)\";\n"
    "    score = 0.0;\n"
    "    consume = true;\n"
    "    description = \"macro document from a trusted sender\"; },\n"
    "  { name = \"UNSOLICITED_MACRO\";\n"
    "    expression = \"(OFFICE_MACRO | XLM_MACRO) & !TRUSTED_SENDER\";\n"
    "    score = 2.0;\n"
    "    description = \"macro document from outside the organisation\"; },\n"
    "  { name = \"UNSOLICITED_AUTOEXEC\";\n"
    "    expression = \"UNSOLICITED_MACRO & MACRO_AUTOEXEC\";\n"
    "    score = 2.0;\n"
    "    description = \"macro from outside that runs by itself\"; },\n"
    "  { name = \"UNSOLICITED_MACRO_FORGED\";\n"
    "    expression = \"UNSOLICITED_MACRO & (\"\n"
    "                 \"DISPLAY_NAME_SPOOF | SIGNATURE_DOMAIN_MISMATCH | \"\n"
    "                 \"FROM_ENVELOPE_MISMATCH | REPLY_TO_MISMATCH | \"\n"
    "                 \"FAKE_ORIGINAL_MESSAGE | REPLY_WITHOUT_THREAD)\";\n"
    "    score = 5.0;\n"
    "    description = \"macro from outside with a forgery sign\"; },\n"
    "  { name = \"ARCHIVED_MACRO\";\n"
    "    expression = \"UNSOLICITED_MACRO & ARCHIVE_ACTIVE_CONTENT\";\n"
    "    score = 5.0;\n"
    "    description = \"macro document from outside packed in an archive\"; }\n"
    ");\n";

static void
composite_free(gpointer p)
{
	struct emf_cfg_composite *c = p;

	g_free(c->name);
	g_free(c->expression);
	emf_cexpr_free(c->expr);
	g_strfreev(c->consume);
	g_free(c->description);
	g_free(c);
}

/* Names go into reports, headers and log lines: A-Z, 0-9, _. */
static bool
composite_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > EMF_CEXPR_MAX_NAME || !g_ascii_isupper(s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isupper(s[i]) && !g_ascii_isdigit(s[i]) &&
		    s[i] != '_')
			return false;
	return true;
}

/* consume = true | false | [ "SYMBOL", ... ] */
static bool
take_consume(struct emf_cfg_composite *c, config_setting_t *s,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	int n;
	GPtrArray *v;

	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		c->consume_all = config_setting_get_bool(s) != 0;
		return true;
	}
	n = config_setting_length(s);
	if ((!config_setting_is_array(s) && !config_setting_is_list(s)) ||
	    n > EMF_CEXPR_MAX_TERMS) {
		set_error_at(err, src, s, "composite %s: consume must be true, "
		    "false or a list of at most %d symbol names", c->name,
		    EMF_CEXPR_MAX_TERMS);
		return false;
	}
	v = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < n; i++) {
		const char *str = config_setting_get_string_elem(s, i);

		if (str == NULL || strlen(str) > EMF_CEXPR_MAX_NAME) {
			set_error_at(err, src, s, "composite %s: consume "
			    "element %d is not a symbol name", c->name, i + 1);
			g_ptr_array_free(v, TRUE);
			return false;
		}
		g_ptr_array_add(v, g_strdup(str));
	}
	g_ptr_array_set_free_func(v, NULL);
	g_ptr_array_add(v, NULL);
	c->consume = (char **)g_ptr_array_free(v, FALSE);
	return true;
}

/* One { name = ...; expression = ...; score = ...; ... } group. */
static bool
take_composite(struct emf_cfg *cfg, config_setting_t *g,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	struct emf_cfg_composite *c = g_new0(struct emf_cfg_composite, 1);
	const char *name = NULL;
	bool have_score = false;

	g_ptr_array_add(cfg->composites, c);	/* owned from here on */
	if (!config_setting_is_group(g) ||
	    !config_setting_lookup_string(g, "name", &name) ||
	    !composite_name_ok(name)) {
		set_error_at(err, src, g, "composites: each entry needs name = "
		    "\"...\" (A-Z, 0-9, _, starting with a letter, at most "
		    "%d)", EMF_CEXPR_MAX_NAME);
		return false;
	}
	c->name = g_strdup(name);
	if (emf_symbol_def(name) != NULL || emf_symbol_is_yara(name)) {
		set_error_at(err, src, g, "composite %s: the name is a symbol's",
		    name);
		return false;
	}
	for (guint i = 0; i + 1 < cfg->composites->len; i++)
		if (strcmp(((struct emf_cfg_composite *)
		    g_ptr_array_index(cfg->composites, i))->name, name) == 0) {
			set_error_at(err, src, g, "composites: two named %s",
			    name);
			return false;
		}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, i);
		const char *k = config_setting_name(s);
		const char *str;
		char why[200];

		if (strcmp(k, "name") == 0)
			continue;
		if (strcmp(k, "expression") == 0) {
			str = config_setting_get_string(s);
			if (str == NULL) {
				set_error_at(err, src, s, "composite %s: "
				    "expression must be a string", name);
				return false;
			}
			c->expr = emf_cexpr_parse(str, why, sizeof(why));
			if (c->expr == NULL) {
				set_error_at(err, src, s, "composite %s: %s",
				    name, why);
				return false;
			}
			c->expression = g_strdup(str);
		} else if (strcmp(k, "score") == 0) {
			if (!setting_number(s, &c->score) ||
			    !weight_ok(c->score)) {
				set_error_at(err, src, s, "composite %s: score "
				    "must be a number in [-1000, 1000]", name);
				return false;
			}
			have_score = true;
		} else if (strcmp(k, "consume") == 0) {
			if (!take_consume(c, s, src, err))
				return false;
		} else if (strcmp(k, "description") == 0) {
			str = config_setting_get_string(s);
			if (str == NULL || strlen(str) > MAX_COMPOSITE_DESC ||
			    !g_utf8_validate(str, -1, NULL)) {
				set_error_at(err, src, s, "composite %s: "
				    "description must be a UTF-8 string of at "
				    "most %d bytes", name, MAX_COMPOSITE_DESC);
				return false;
			}
			c->description = g_strdup(str);
		} else {
			set_error_at(err, src, s,
			    "composite %s: unknown setting %s", name, k);
			return false;
		}
	}
	if (c->expr == NULL || !have_score) {
		set_error_at(err, src, g, "composite %s: needs expression = "
		    "\"...\" and score = N", name);
		return false;
	}
	return true;
}

/* The composite named name, or -1. */
static int
composite_index(GPtrArray *cs, const char *name)
{
	for (guint i = 0; i < cs->len; i++)
		if (strcmp(((struct emf_cfg_composite *)
		    g_ptr_array_index(cs, i))->name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * Depth-first over the references between composites: each is placed in
 * order after those it names; meeting one still on the path is a cycle,
 * written out into path. At most MAX_COMPOSITES deep.
 */
static bool
composite_visit(GPtrArray *cs, int i, char *state, GPtrArray *order,
    GString *path)
{
	const struct emf_cfg_composite *c = g_ptr_array_index(cs, i);

	if (state[i] == 2)
		return true;
	if (state[i] == 1) {
		g_string_append(path, c->name);
		return false;
	}
	state[i] = 1;
	for (size_t k = 0; k < emf_cexpr_nnames(c->expr); k++) {
		int j = composite_index(cs, emf_cexpr_name(c->expr, k));

		if (j >= 0 && !composite_visit(cs, j, state, order, path)) {
			g_string_prepend(path, " -> ");
			g_string_prepend(path, c->name);
			return false;
		}
	}
	state[i] = 2;
	g_ptr_array_add(order, (gpointer)c);
	return true;
}

/* A name an expression or a consume list may use. */
static bool
composite_ref_ok(GPtrArray *cs, const char *name)
{
	return emf_symbol_def(name) != NULL || emf_symbol_is_yara(name) ||
	    composite_index(cs, name) >= 0;
}

static bool
take_composites(struct emf_cfg *cfg, config_setting_t *list,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	int n = config_setting_length(list);
	GPtrArray *order;
	GString *path;
	char *state;
	bool ok = true;

	/* The file's list replaces the built-in one. */
	g_ptr_array_set_size(cfg->composites, 0);
	if (!config_setting_is_list(list) || n > MAX_COMPOSITES) {
		set_error_at(err, src, list, "composites: must be a list "
		    "( { ... }, ... ) of at most %d", MAX_COMPOSITES);
		return false;
	}
	for (int i = 0; i < n && ok; i++)
		ok = take_composite(cfg, config_setting_get_elem(list, i), src,
		    err);
	if (!ok)
		return false;
	/* Every name known; consume lists too. */
	for (int i = 0; i < n; i++) {
		const struct emf_cfg_composite *c =
		    g_ptr_array_index(cfg->composites, i);
		config_setting_t *g = config_setting_get_elem(list, i);

		for (size_t k = 0; k < emf_cexpr_nnames(c->expr); k++)
			if (!composite_ref_ok(cfg->composites,
			    emf_cexpr_name(c->expr, k))) {
				set_error_at(err, src, g, "composite %s: "
				    "unknown symbol %s", c->name,
				    emf_cexpr_name(c->expr, k));
				return false;
			}
		for (size_t k = 0; c->consume != NULL && c->consume[k]; k++)
			if (!composite_ref_ok(cfg->composites, c->consume[k])) {
				set_error_at(err, src, g, "composite %s: "
				    "consume names unknown symbol %s", c->name,
				    c->consume[k]);
				return false;
			}
	}
	/* No cycles; evaluation order: each after those it names. */
	state = g_malloc0((size_t)n + 1);
	order = g_ptr_array_new();
	path = g_string_new(NULL);
	for (int i = 0; i < n && ok; i++) {
		if (!composite_visit(cfg->composites, i, state, order, path)) {
			set_error_at(err, src, config_setting_get_elem(list, i),
			    "composites: cycle %s", path->str);
			ok = false;
		}
	}
	if (ok) {
		/* Same elements, evaluation order; the free function stays
		 * with cfg->composites. */
		for (guint i = 0; i < order->len; i++)
			cfg->composites->pdata[i] = order->pdata[i];
	}
	g_string_free(path, TRUE);
	g_ptr_array_free(order, TRUE);
	g_free(state);
	return ok;
}

static bool
take_default_composites(struct emf_cfg *cfg, struct emf_error *err)
{
	config_t c;
	bool ok = false;

	config_init(&c);
	if (config_read_string(&c, default_composites) == CONFIG_TRUE) {
		config_setting_t *s = config_lookup(&c, "composites");

		ok = s != NULL && take_composites(cfg, s, NULL, err);
	} else {
		set_error(err, "(built-in)", config_error_line(&c),
		    "composites: %s", config_error_text(&c));
	}
	config_destroy(&c);
	return ok;
}

const struct emf_cfg_composite *const *
emf_cfg_composites(const struct emf_cfg *cfg, size_t *n)
{
	*n = cfg->composites->len;
	return (const struct emf_cfg_composite *const *)
	    cfg->composites->pdata;
}

/* A list of symbol names: each a known symbol or a YARA_<RULE> name. */
static bool
check_symbol_list(struct emf_cfg *cfg, const char *key,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	const char *const *v = emf_cfg_strlist(cfg, key);

	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		if (emf_symbol_def(v[i]) == NULL && !emf_symbol_is_yara(v[i])) {
			set_error(err, emf_cfg_source_path(src), 0,
			    "%s: unknown symbol %s", key, v[i]);
			return false;
		}
	return true;
}

/* Walk a group: every leaf must be a known key, every group known. */
static bool
take_group(struct emf_cfg *cfg, config_setting_t *group, const char *prefix,
    const struct emf_cfg_source *src, struct emf_error *err)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		char *path;
		gpointer idx;
		bool ok;

		if (name == NULL)
			continue;
		path = prefix[0] ? g_strdup_printf("%s.%s", prefix, name) :
		    g_strdup(name);
		if (strcmp(path, "scores") == 0) {
			ok = take_scores(cfg, s, src, err);
		} else if (strcmp(path, "policies") == 0) {
			ok = take_policies(cfg, s, src, err);
		} else if (strcmp(path, "composites") == 0) {
			ok = take_composites(cfg, s, src, err);
		} else if ((idx = g_hash_table_lookup(cfg->index, path)) !=
		    NULL) {
			size_t k = GPOINTER_TO_SIZE(idx) - 1;

			ok = take_value(&keys[k], s, &cfg->values[k], src,
			    err);
		} else if (config_setting_is_group(s) && known_group(path)) {
			ok = take_group(cfg, s, path, src, err);
		} else {
			set_error_at(err, src, s,
			    "unknown setting %s", path);
			ok = false;
		}
		g_free(path);
		if (!ok)
			return false;
	}
	return true;
}

/* The state group: a backend needs its address (store/state.h). */
static bool
check_state(struct emf_cfg *cfg, const struct emf_cfg_source *src,
    struct emf_error *err)
{
	const char *backend = emf_cfg_str(cfg, "state.backend");

	if (strcmp(backend, "postgresql") == 0 &&
	    *emf_cfg_str(cfg, "state.conninfo") == '\0') {
		set_error(err, emf_cfg_source_path(src), 0,
		    "state: backend \"postgresql\" needs state.conninfo");
		return false;
	}
	if (strcmp(backend, "sqlite") == 0 &&
	    *emf_cfg_str(cfg, "state.path") == '\0') {
		set_error(err, emf_cfg_source_path(src), 0,
		    "state: backend \"sqlite\" needs state.path");
		return false;
	}
	for (const char *const *n = emf_cfg_strlist(cfg,
	    "state.memory.outbound_networks"); *n != NULL; n++) {
		GInetAddressMask *m = g_inet_address_mask_new_from_string(*n,
		    NULL);

		if (m == NULL) {
			set_error(err, emf_cfg_source_path(src), 0,
			    "state.memory.outbound_networks: \"%s\" is not a "
			    "network (CIDR)", *n);
			return false;
		}
		g_object_unref(m);
	}
	if (emf_cfg_int(cfg, "state.max_per_sender") >
	    emf_cfg_int(cfg, "state.max_total")) {
		set_error(err, emf_cfg_source_path(src), 0,
		    "state: want max_per_sender <= max_total");
		return false;
	}
	return true;
}

/* Cross-key rules that a per-key range cannot express. */
static bool
check_consistency(struct emf_cfg *cfg, const struct emf_cfg_source *src,
    struct emf_error *err)
{
	double tag = emf_cfg_double(cfg, "actions.tag");
	double quar = emf_cfg_double(cfg, "actions.quarantine");
	double rej = emf_cfg_double(cfg, "actions.reject");

	if (!(tag <= quar && quar <= rej)) {
		set_error(err, emf_cfg_source_path(src), 0,
		    "actions: want tag <= quarantine <= reject (got %g, %g, %g)",
		    tag, quar, rej);
		return false;
	}
	if (!check_symbol_list(cfg, "active_content.symbols", src, err))
		return false;
	return check_policies(cfg, tag, quar, rej, src, err) &&
	    check_state(cfg, src, err);
}

enum emf_rc
emf_cfg_load(const char *path, struct emf_cfg **out,
    struct emf_error *err)
{
	struct emf_cfg *cfg;
	struct emf_cfg_source *src;
	config_t c;
	enum emf_rc rc;

	*out = NULL;
	if (err != NULL)
		err->msg[0] = '\0';
	cfg = cfg_new_defaults(err);
	if (cfg == NULL)
		return EMF_ERR_INTERNAL;
	if (path == NULL) {
		*out = cfg;
		return EMF_OK;
	}
	cfg->path = g_strdup(path);
	/* Includes are expanded here, never by libconfig (cfgsource.h). */
	rc = emf_cfg_source_read(path, &src, err);
	if (rc != EMF_OK) {
		emf_cfg_free(cfg);
		return rc;
	}
	config_init(&c);
	if (config_read_string(&c, emf_cfg_source_text(src)) != CONFIG_TRUE) {
		int line;
		const char *file = emf_cfg_source_where(src,
		    config_error_line(&c), &line);

		set_error(err, file, line, "%s", config_error_text(&c));
		rc = EMF_ERR_CONFIG;
	} else if (!take_group(cfg, config_root_setting(&c), "", src, err) ||
	    !check_consistency(cfg, src, err)) {
		rc = EMF_ERR_CONFIG;
	}
	emf_cfg_source_free(src);
	config_destroy(&c);
	if (rc != EMF_OK) {
		emf_cfg_free(cfg);
		return rc;
	}
	*out = cfg;
	return EMF_OK;
}

const char *
emf_cfg_path(const struct emf_cfg *cfg)
{
	return cfg->path;
}

static const union emf_cfg_value *
lookup(const struct emf_cfg *cfg, const char *key, enum emf_cfg_type type)
{
	gpointer idx = g_hash_table_lookup(cfg->index, key);
	size_t k;

	if (idx == NULL)
		g_error("emf_cfg: no key %s in the key table", key);
	k = GPOINTER_TO_SIZE(idx) - 1;
	if (keys[k].type != type)
		g_error("emf_cfg: key %s read with the wrong type", key);
	return &cfg->values[k];
}

long long
emf_cfg_int(const struct emf_cfg *cfg, const char *key)
{
	return lookup(cfg, key, EMF_CFG_INT)->i;
}

double
emf_cfg_double(const struct emf_cfg *cfg, const char *key)
{
	return lookup(cfg, key, EMF_CFG_DOUBLE)->d;
}

bool
emf_cfg_bool(const struct emf_cfg *cfg, const char *key)
{
	return lookup(cfg, key, EMF_CFG_BOOL)->b;
}

const char *
emf_cfg_str(const struct emf_cfg *cfg, const char *key)
{
	return lookup(cfg, key, EMF_CFG_STR)->s;
}

const char *const *
emf_cfg_strlist(const struct emf_cfg *cfg, const char *key)
{
	return (const char *const *)lookup(cfg, key, EMF_CFG_STRLIST)->list;
}

bool
emf_cfg_score(const struct emf_cfg *cfg, const char *symbol, double *out)
{
	double *w = g_hash_table_lookup(cfg->scores, symbol);

	if (w == NULL)
		return false;
	*out = *w;
	return true;
}
