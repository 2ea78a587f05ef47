/*
 * composite.c - composite rules: the expression parser, the symbols
 * derived from what encrypted archives hide, and the evaluation in the
 * scoring step.
 *
 * Grammar (recursive descent, ! tightest, then &, then |):
 *   or    := and { "|" and }
 *   and   := unary { "&" unary }
 *   unary := "!" unary | "(" or ")" | NAME
 *   NAME  := [A-Za-z0-9_]+
 * The text, the number of names and the nesting are bounded
 * (composite.h), so neither parsing nor evaluation can grow the stack
 * past a small, fixed depth: a long flat chain is a loop in the parser
 * and a tree at most EMF_CEXPR_MAX_TERMS deep in the evaluator.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cfg.h"
#include "composite.h"
#include "scan.h"
#include "symbols.h"

enum op { OP_NAME, OP_NOT, OP_AND, OP_OR };

struct node {
	enum op op;
	int a, b;		/* operands (node indexes); a for NOT */
	int name;		/* index into names for OP_NAME */
};

struct emf_cexpr {
	GArray *nodes;		/* struct node */
	GPtrArray *names;	/* char *, distinct */
	int root;
};

struct parser {
	const char *s;
	size_t pos, len;
	unsigned terms, depth;
	struct emf_cexpr *e;
	char *why;
	size_t whylen;
	bool failed;
};

static void
fail(struct parser *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	if (p->why == NULL || p->whylen == 0)
		return;
	va_start(ap, fmt);
	g_vsnprintf(p->why, p->whylen, fmt, ap);
	va_end(ap);
}

static bool
name_char(char c)
{
	return g_ascii_isalnum(c) || c == '_';
}

/* The next significant character, or '\0' at the end. */
static char
peek(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	    p->s[p->pos] == '\r'))
		p->pos++;
	return p->pos < p->len ? p->s[p->pos] : '\0';
}

static int
add_node(struct parser *p, enum op op, int a, int b, int name)
{
	struct node n = { op, a, b, name };

	g_array_append_val(p->e->nodes, n);
	return (int)p->e->nodes->len - 1;
}

/* What stands at the cursor, for error messages. */
static void
fail_unexpected(struct parser *p, const char *wanted)
{
	char c = peek(p);

	if (c == '\0')
		fail(p, "expression ends where %s was expected", wanted);
	else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
		fail(p, "byte 0x%02x at column %zu where %s was expected",
		    (unsigned char)c, p->pos + 1, wanted);
	else
		fail(p, "'%c' at column %zu where %s was expected", c,
		    p->pos + 1, wanted);
}

static int parse_or(struct parser *p);

static int
parse_name(struct parser *p)
{
	size_t start = p->pos, n;
	char *name;
	guint i;

	while (p->pos < p->len && name_char(p->s[p->pos]))
		p->pos++;
	n = p->pos - start;
	if (n == 0) {
		fail_unexpected(p, "a symbol name, '!' or '('");
		return -1;
	}
	if (n > EMF_CEXPR_MAX_NAME) {
		fail(p, "name at column %zu longer than %d bytes", start + 1,
		    EMF_CEXPR_MAX_NAME);
		return -1;
	}
	if (++p->terms > EMF_CEXPR_MAX_TERMS) {
		fail(p, "more than %d symbol names", EMF_CEXPR_MAX_TERMS);
		return -1;
	}
	name = g_strndup(p->s + start, n);
	for (i = 0; i < p->e->names->len; i++)
		if (strcmp(g_ptr_array_index(p->e->names, i), name) == 0)
			break;
	if (i == p->e->names->len)
		g_ptr_array_add(p->e->names, name);
	else
		g_free(name);
	return add_node(p, OP_NAME, -1, -1, (int)i);
}

static int
parse_unary(struct parser *p)
{
	char c = peek(p);
	int r;

	if (c != '!' && c != '(')
		return parse_name(p);
	if (++p->depth > EMF_CEXPR_MAX_DEPTH) {
		fail(p, "nested deeper than %d at column %zu",
		    EMF_CEXPR_MAX_DEPTH, p->pos + 1);
		return -1;
	}
	p->pos++;
	if (c == '!') {
		r = parse_unary(p);
		if (r >= 0)
			r = add_node(p, OP_NOT, r, -1, -1);
	} else {
		r = parse_or(p);
		if (r >= 0 && peek(p) != ')') {
			fail_unexpected(p, "')'");
			r = -1;
		}
		p->pos++;
	}
	p->depth--;
	return r;
}

static int
parse_and(struct parser *p)
{
	int l = parse_unary(p);

	while (l >= 0 && peek(p) == '&') {
		int r;

		p->pos++;
		r = parse_unary(p);
		if (r < 0)
			return -1;
		l = add_node(p, OP_AND, l, r, -1);
	}
	return l;
}

static int
parse_or(struct parser *p)
{
	int l = parse_and(p);

	while (l >= 0 && peek(p) == '|') {
		int r;

		p->pos++;
		r = parse_and(p);
		if (r < 0)
			return -1;
		l = add_node(p, OP_OR, l, r, -1);
	}
	return l;
}

struct emf_cexpr *
emf_cexpr_parse(const char *text, char *why, size_t whylen)
{
	struct parser p = { 0 };
	struct emf_cexpr *e;

	p.why = why;
	p.whylen = whylen;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (text == NULL) {
		fail(&p, "no expression");
		return NULL;
	}
	p.len = strlen(text);
	if (p.len > EMF_CEXPR_MAX_LEN) {
		fail(&p, "expression longer than %d bytes", EMF_CEXPR_MAX_LEN);
		return NULL;
	}
	p.s = text;
	e = g_new0(struct emf_cexpr, 1);
	e->nodes = g_array_new(FALSE, FALSE, sizeof(struct node));
	e->names = g_ptr_array_new_with_free_func(g_free);
	p.e = e;
	if (peek(&p) == '\0') {
		fail(&p, "empty expression");
	} else {
		e->root = parse_or(&p);
		if (e->root >= 0 && peek(&p) != '\0')
			fail_unexpected(&p, "'&', '|' or the end");
	}
	if (p.failed) {
		emf_cexpr_free(e);
		return NULL;
	}
	return e;
}

void
emf_cexpr_free(struct emf_cexpr *e)
{
	if (e == NULL)
		return;
	g_array_free(e->nodes, TRUE);
	g_ptr_array_free(e->names, TRUE);
	g_free(e);
}

size_t
emf_cexpr_nnames(const struct emf_cexpr *e)
{
	return e->names->len;
}

const char *
emf_cexpr_name(const struct emf_cexpr *e, size_t i)
{
	return i < e->names->len ? g_ptr_array_index(e->names, i) : NULL;
}

static const struct node *
node_at(const struct emf_cexpr *e, int i)
{
	return &g_array_index(e->nodes, struct node, i);
}

/* Depth is bounded by the parser (at most MAX_TERMS + MAX_DEPTH). */
static bool
eval_node(const struct emf_cexpr *e, int i,
    bool (*has)(const char *, void *), void *arg)
{
	const struct node *n = node_at(e, i);

	switch (n->op) {
	case OP_NAME:
		return has(g_ptr_array_index(e->names, n->name), arg);
	case OP_NOT:
		return !eval_node(e, n->a, has, arg);
	case OP_AND:
		return eval_node(e, n->a, has, arg) &&
		    eval_node(e, n->b, has, arg);
	case OP_OR:
		return eval_node(e, n->a, has, arg) ||
		    eval_node(e, n->b, has, arg);
	}
	return false;
}

bool
emf_cexpr_eval(const struct emf_cexpr *e,
    bool (*has)(const char *name, void *arg), void *arg)
{
	return eval_node(e, e->root, has, arg);
}

static bool
positive_node(const struct emf_cexpr *e, int i, int name, bool pos)
{
	const struct node *n = node_at(e, i);

	switch (n->op) {
	case OP_NAME:
		return pos && n->name == name;
	case OP_NOT:
		return positive_node(e, n->a, name, !pos);
	case OP_AND:
	case OP_OR:
		return positive_node(e, n->a, name, pos) ||
		    positive_node(e, n->b, name, pos);
	}
	return false;
}

bool
emf_cexpr_positive(const struct emf_cexpr *e, const char *name)
{
	for (guint i = 0; i < e->names->len; i++)
		if (strcmp(g_ptr_array_index(e->names, i), name) == 0)
			return positive_node(e, e->root, (int)i, true);
	return false;
}

/* ---- symbols derived from what encrypted archives hide ----------------- */

/* Whether object path p is path or lies under it. */
static bool
path_under(const char *p, const char *path)
{
	size_t n = strlen(path);

	return p != NULL && strncmp(p, path, n) == 0 &&
	    (p[n] == '\0' || p[n] == '/');
}

/* Whether some hit of a symbol in names lies at or under path. */
static const char *
active_under(const struct emf_scan *scan, const char *const *names,
    const char *path)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		const struct emf_symbol *s = g_hash_table_lookup(
		    scan->symbol_index, names[i]);

		for (guint j = 0; s != NULL && j < s->hits->len; j++) {
			const struct emf_symbol_hit *h =
			    g_ptr_array_index(s->hits, j);

			if (path_under(h->object, path))
				return s->name;
		}
	}
	return NULL;
}

/* Any symbol at or under path other than the archive's own marks. */
static const char *
anything_under(const struct emf_scan *scan, const char *path)
{
	static const char *const own[] = { "ARCHIVE_ENCRYPTED",
		"ARCHIVE_PASSWORD_IN_BODY", NULL };

	for (guint i = 0; i < scan->symbols->len; i++) {
		const struct emf_symbol *s = g_ptr_array_index(scan->symbols,
		    i);
		bool mine = false;

		for (size_t k = 0; own[k] != NULL; k++)
			mine = mine || strcmp(s->name, own[k]) == 0;
		if (mine || s->score == 0)
			continue;
		for (guint j = 0; j < s->hits->len; j++)
			if (path_under(((struct emf_symbol_hit *)
			    g_ptr_array_index(s->hits, j))->object, path))
				return s->name;
	}
	return NULL;
}

/* The extension of name (after the last dot), lower-cased, or NULL. */
static char *
extension(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	if (dot == NULL || dot[1] == '\0' || strchr(dot, '/') != NULL)
		return NULL;
	return g_ascii_strdown(dot + 1, -1);
}

static bool
in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (g_ascii_strcasecmp(list[i], s) == 0)
			return true;
	return false;
}

struct derive {
	struct emf_scan *scan;
	const char *const *active;	/* active_content.symbols */
	const char *const *inert_ext;	/* active_content.inert_extensions */
	unsigned encrypted, opened;	/* encrypted members; opened ones */
	unsigned unopened_inert;	/* not opened, named as inert type */
	const struct emf_object *first_unopened;
	const char *why_not_inert;	/* first reason, or NULL */
	const struct emf_object *why_obj;
};

/*
 * Visit the tree. The walk follows the containers the scan created,
 * at most limits.container_depth deep, so the recursion is bounded.
 */
static void
derive_walk(struct derive *d, const struct emf_object *o, bool in_archive)
{
	struct emf_scan *scan = d->scan;
	const char *what;

	if (o->encrypted && o->parent != NULL &&
	    o->parent->type == EMF_FT_ZIP) {
		d->encrypted++;
		if (o->password != NULL) {
			d->opened++;
			what = active_under(scan, d->active, o->path);
			if (what != NULL)
				emf_symbol(scan, "ARCHIVE_ENCRYPTED_ACTIVE", o,
				    "%s inside the encrypted member %s",
				    what, o->name ? o->name : o->path);
			if (d->why_not_inert == NULL) {
				what = anything_under(scan, o->path);
				if (what == NULL && o->truncated)
					what = "a member only partly read";
				if (what != NULL) {
					d->why_not_inert = what;
					d->why_obj = o;
				}
			}
		} else {
			char *ext = extension(o->name);

			if (ext != NULL && in_list(d->inert_ext, ext))
				d->unopened_inert++;
			if (d->first_unopened == NULL)
				d->first_unopened = o;
			g_free(ext);
		}
	} else if (in_archive && o->type != EMF_FT_ZIP) {
		/* A plain archive member that is itself active content. */
		what = active_under(scan, d->active, o->path);
		if (what != NULL && o->parent != NULL &&
		    o->parent->type == EMF_FT_ZIP)
			emf_symbol(scan, "ARCHIVE_ACTIVE_CONTENT", o,
			    "%s inside the archive %s", what,
			    o->parent->name ? o->parent->name :
			    o->parent->path);
	}
	for (guint i = 0; o->children != NULL && i < o->children->len; i++)
		derive_walk(d, g_ptr_array_index(o->children, i),
		    in_archive || o->type == EMF_FT_ZIP);
}

static void
derive(struct emf_scan *scan)
{
	struct derive d = { 0 };

	d.scan = scan;
	d.active = emf_cfg_strlist(scan->cfg, "active_content.symbols");
	d.inert_ext = emf_cfg_strlist(scan->cfg,
	    "active_content.inert_extensions");
	for (guint i = 0; i < scan->roots->len; i++)
		derive_walk(&d, g_ptr_array_index(scan->roots, i), false);
	if (d.encrypted == 0)
		return;
	if (d.opened == d.encrypted && d.why_not_inert == NULL &&
	    scan->limits_hit->len == 0)
		emf_symbol(scan, "ARCHIVE_ENCRYPTED_INERT", NULL,
		    "%u encrypted member%s opened with a password from the "
		    "mail, nothing active or unreadable inside", d.opened,
		    d.opened == 1 ? "" : "s");
	if (d.opened == 0 && d.unopened_inert == d.encrypted)
		emf_symbol(scan, "ARCHIVE_UNOPENED_INERT_NAMES",
		    d.first_unopened, "%u encrypted member%s not opened, "
		    "all named as file types that carry no code",
		    d.encrypted, d.encrypted == 1 ? "" : "s");
}

/* ---- evaluation ---------------------------------------------------------- */

static bool
scan_has(const char *name, void *arg)
{
	return emf_scan_has_symbol(arg, name);
}

/* One composite held: raise it, and note what it consumes. */
static void
fire(struct emf_scan *scan, const struct emf_cfg_composite *c,
    GHashTable *consumed)
{
	GString *matched = g_string_new(NULL), *eaten = g_string_new(NULL);
	size_t n = emf_cexpr_nnames(c->expr);

	for (size_t i = 0; i < n; i++) {
		const char *name = emf_cexpr_name(c->expr, i);
		const struct emf_symbol *s;

		if (!emf_cexpr_positive(c->expr, name))
			continue;
		s = g_hash_table_lookup(scan->symbol_index, name);
		if (s == NULL)
			continue;
		g_string_append_printf(matched, "%s%s", matched->len ? ", " :
		    "", name);
		if (c->consume_all && !g_hash_table_contains(consumed, name)) {
			g_hash_table_insert(consumed, (gpointer)s->name,
			    (gpointer)c->name);
			g_string_append_printf(eaten, "%s%s(%g)", eaten->len ?
			    ", " : "", name, s->score);
		}
	}
	for (size_t i = 0; c->consume != NULL && c->consume[i] != NULL; i++) {
		const struct emf_symbol *s = g_hash_table_lookup(
		    scan->symbol_index, c->consume[i]);

		if (s == NULL || g_hash_table_contains(consumed, s->name))
			continue;
		g_hash_table_insert(consumed, (gpointer)s->name,
		    (gpointer)c->name);
		g_string_append_printf(eaten, "%s%s(%g)", eaten->len ? ", " :
		    "", s->name, s->score);
	}
	/* Composites are checked against the symbol table at load time,
	 * never here: the scored variant takes the composite's own score. */
	emf_symbol_scored(scan, c->name, c->score, NULL,
	    "%s; matched %s; %s%s", c->expression,
	    matched->len ? matched->str : "(only negations)",
	    eaten->len ? "consumed " : "weights kept",
	    eaten->len ? eaten->str : "");
	g_string_free(matched, TRUE);
	g_string_free(eaten, TRUE);
}

static void
consume_one(gpointer key, gpointer value, gpointer user)
{
	struct emf_symbol *s = g_hash_table_lookup(
	    ((struct emf_scan *)user)->symbol_index, key);

	(void)value;
	if (s != NULL)
		s->score = 0;
}

void
emf_composites_run(struct emf_scan *scan)
{
	const struct emf_cfg_composite *const *cs;
	GHashTable *consumed;
	size_t n;

	derive(scan);
	cs = emf_cfg_composites(scan->cfg, &n);
	if (n == 0)
		return;
	/* Symbol name -> the composite that consumed it. Consumption is
	 * applied after every composite is evaluated, so a consumed symbol
	 * still counts for the composites after it (rspamd does the same). */
	consumed = g_hash_table_new(g_str_hash, g_str_equal);
	for (size_t i = 0; i < n; i++)
		if (emf_cexpr_eval(cs[i]->expr, scan_has, scan))
			fire(scan, cs[i], consumed);
	g_hash_table_foreach(consumed, consume_one, scan);
	g_hash_table_destroy(consumed);
}
