/*
 * qxlm.c - XLM macro formulas of a BIFF8 workbook as text (see qxlm.h).
 * Record and token layouts: [MS-XLS] 2.4 (records), 2.5.198 (Ptg).
 */
#include "config.h"

#include <string.h>

#include "qxlm.h"

#define MAX_FORMULAS 100000
#define MAX_STACK 64
#define MAX_TEXT 4096
#define MAX_NAMES 4096

#define REC_BOF 0x0809
#define REC_EOF 0x000a
#define REC_FILEPASS 0x002f
#define REC_BOUNDSHEET 0x0085
#define REC_LBL 0x0018
#define REC_FORMULA 0x0006

struct rd {
	const uint8_t *p;
	size_t n, i;
};

static bool
get(struct rd *r, size_t k, const uint8_t **out)
{
	if (r->n - r->i < k)
		return false;
	*out = r->p + r->i;
	r->i += k;
	return true;
}

static unsigned
u16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
u32(const uint8_t *p)
{
	return (uint32_t)u16(p) | (uint32_t)u16(p + 2) << 16;
}

/* Functions and commands we name (number, name, fixed argument count or
 * -1). Numbers as in the Excel function and command tables. */
static const struct {
	unsigned n;		/* with 0x8000 for a command */
	const char *name;
	int argc;
} funcs[] = {
	{ 0x8000 | 118, "ALERT", -1 },
	{ 1, "IF", -1 }, { 4, "SUM", -1 }, { 27, "ROUND", 2 },
	{ 30, "REPT", 2 }, { 31, "MID", 3 }, { 32, "LEN", 1 },
	{ 53, "GOTO", 1 }, { 54, "HALT", -1 }, { 55, "RETURN", -1 },
	{ 88, "SET.NAME", -1 }, { 89, "CALLER", 0 }, { 110, "EXEC", -1 },
	{ 111, "CHAR", 1 }, { 149, "REGISTER", -1 }, { 150, "CALL", -1 },
	{ 336, "CONCATENATE", -1 },
};

/* n: the function number, with bit 15 for a command. */
static const char *
func_name(unsigned n, int *argc)
{
	for (size_t i = 0; i < G_N_ELEMENTS(funcs); i++)
		if (funcs[i].n == n) {
			*argc = funcs[i].argc;
			return funcs[i].name;
		}
	*argc = -2;
	return NULL;
}

/* A ShortXLUnicodeString at r (cch, flags, characters) as UTF-8. */
static char *
short_string(struct rd *r, unsigned cch)
{
	const uint8_t *f, *c;
	GString *s;

	if (!get(r, 1, &f))
		return NULL;
	if (!get(r, (*f & 1) ? 2 * (size_t)cch : cch, &c))
		return NULL;
	s = g_string_new(NULL);
	for (unsigned i = 0; i < cch; i++) {
		gunichar u = (*f & 1) ? u16(c + 2 * i) : c[i];

		/* Surrogates and NUL are not text: show them as '?'. */
		g_string_append_unichar(s, (u == 0 || (u >= 0xd800 &&
		    u <= 0xdfff)) ? '?' : u);
	}
	return g_string_free(s, FALSE);
}

struct stack {
	char *v[MAX_STACK];
	int n;
};

static bool
push(struct stack *st, char *s)
{
	if (st->n >= MAX_STACK || strlen(s) > MAX_TEXT) {
		g_free(s);
		return false;
	}
	st->v[st->n++] = s;
	return true;
}

static char *
pop(struct stack *st)
{
	return st->n > 0 ? st->v[--st->n] : NULL;
}

/* A call: name(args) with the last argc entries of the stack. */
static bool
call(struct stack *st, const char *name, int argc)
{
	GString *s;

	if (argc > st->n)
		return false;
	s = g_string_new(name);
	g_string_append_c(s, '(');
	for (int i = st->n - argc; i < st->n; i++) {
		if (i > st->n - argc)
			g_string_append_c(s, ',');
		g_string_append(s, st->v[i]);
		g_free(st->v[i]);
	}
	st->n -= argc;
	g_string_append_c(s, ')');
	return push(st, g_string_free(s, FALSE));
}

static char *
ref_text(const uint8_t *p)
{
	return g_strdup_printf("R%uC%u", u16(p) + 1, (u16(p + 2) & 0x3fff) + 1);
}

static char *
area_text(const uint8_t *p)
{
	return g_strdup_printf("R%uC%u:R%uC%u", u16(p) + 1,
	    (u16(p + 4) & 0x3fff) + 1, u16(p + 2) + 1,
	    (u16(p + 6) & 0x3fff) + 1);
}

static bool
binary(struct stack *st, const char *op)
{
	char *b = pop(st), *a = pop(st);

	if (a == NULL || b == NULL) {
		g_free(a);
		g_free(b);
		return false;
	}
	push(st, g_strconcat(a, op, b, NULL));
	g_free(a);
	g_free(b);
	return true;
}

/* ptgFunc and ptgFuncVar. */
static bool
function(struct stack *st, unsigned tab, int argc)
{
	int fixed;
	const char *name = func_name(tab & 0xffff, &fixed);
	char buf[16], *udf;
	bool r;

	if (argc < 0)
		argc = fixed;
	if (argc < 0)
		return false;	/* a fixed function we do not know */
	if ((tab & 0x7fff) == 255 && argc > 0 && !(tab & 0x8000)) {
		/* A user-defined function: the first argument names it. */
		if (st->n < argc)
			return false;
		udf = st->v[st->n - argc];
		memmove(&st->v[st->n - argc], &st->v[st->n - argc + 1],
		    (size_t)(argc - 1) * sizeof(char *));
		st->n--;
		r = call(st, udf, argc - 1);
		g_free(udf);
		return r;
	}
	if (name == NULL) {
		g_snprintf(buf, sizeof(buf), "%s%u", tab & 0x8000 ? "CMD" :
		    "FN", tab & 0x7fff);
		name = buf;
	}
	return call(st, name, argc);
}

static const char *const binops[] = { "+", "-", "*", "/", "^", "&", "<",
	"<=", "=", ">=", ">", "<>", " ", ",", ":" };

/* One token at r; false when it is not one we decode. */
static bool
token(struct rd *r, struct stack *st, GPtrArray *names)
{
	const uint8_t *t, *d;
	unsigned ptg;
	char *a;

	if (!get(r, 1, &t))
		return false;
	ptg = *t;
	if (ptg >= 0x03 && ptg <= 0x11)
		return binary(st, binops[ptg - 0x03]);
	switch (ptg) {
	case 0x12: case 0x13: case 0x14:
		if ((a = pop(st)) == NULL)
			return false;
		push(st, ptg == 0x14 ? g_strconcat(a, "%", NULL) :
		    g_strconcat(ptg == 0x12 ? "+" : "-", a, NULL));
		g_free(a);
		return true;
	case 0x15:
		if ((a = pop(st)) == NULL)
			return false;
		push(st, g_strconcat("(", a, ")", NULL));
		g_free(a);
		return true;
	case 0x16:
		return push(st, g_strdup(""));
	case 0x17: {
		char *s, *q;

		if (!get(r, 1, &d) || (s = short_string(r, *d)) == NULL)
			return false;
		q = g_strdup_printf("\"%s\"", s);
		g_free(s);
		return push(st, q);
	}
	case 0x19:	/* ptgAttr: only SUM changes the value */
		if (!get(r, 3, &d))
			return false;
		if (d[0] & 0x04)	/* choose: a jump table */
			return get(r, ((size_t)u16(d + 1) + 1) * 2, &d);
		if (d[0] & 0x10)
			return call(st, "SUM", 1);
		return true;
	case 0x1c:
		return get(r, 1, &d) && push(st, g_strdup("#ERROR"));
	case 0x1d:
		return get(r, 1, &d) && push(st, g_strdup(*d ? "TRUE" :
		    "FALSE"));
	case 0x1e:
		return get(r, 2, &d) && push(st, g_strdup_printf("%u",
		    u16(d)));
	case 0x1f: {
		double v;
		char buf[G_ASCII_DTOSTR_BUF_SIZE];

		if (!get(r, 8, &d))
			return false;
		memcpy(&v, d, 8);
		return push(st, g_strdup(g_ascii_dtostr(buf, sizeof(buf),
		    v)));
	}
	default:
		break;
	}
	if (ptg < 0x20 || ptg > 0x7f)
		return false;
	switch ((ptg & 0x1f) | 0x20) {
	case 0x20:
		return get(r, 7, &d) && push(st, g_strdup("{array}"));
	case 0x21:
		return get(r, 2, &d) && function(st, u16(d), -1);
	case 0x22:
		return get(r, 3, &d) && function(st, u16(d + 1), d[0] & 0x7f);
	case 0x23:
		if (!get(r, 4, &d))
			return false;
		return push(st, u16(d) >= 1 && u16(d) <= names->len ?
		    g_strdup(g_ptr_array_index(names, u16(d) - 1)) :
		    g_strdup_printf("NAME%u", u16(d)));
	case 0x24: case 0x2c:
		return get(r, 4, &d) && push(st, ref_text(d));
	case 0x25: case 0x2d:
		return get(r, 8, &d) && push(st, area_text(d));
	case 0x26: case 0x27: case 0x28:	/* the value follows */
		return get(r, 6, &d);
	case 0x29:
		return get(r, 2, &d);
	case 0x2a:
		return get(r, 4, &d) && push(st, g_strdup("#REF!"));
	case 0x2b:
		return get(r, 8, &d) && push(st, g_strdup("#REF!"));
	case 0x39:
		return get(r, 6, &d) && push(st, g_strdup_printf("EXTNAME%u",
		    u16(d + 2)));
	case 0x3a:
		return get(r, 6, &d) && push(st, ref_text(d + 2));
	case 0x3b:
		return get(r, 10, &d) && push(st, area_text(d + 2));
	case 0x3c:
		return get(r, 6, &d) && push(st, g_strdup("#REF!"));
	case 0x3d:
		return get(r, 10, &d) && push(st, g_strdup("#REF!"));
	default:
		return false;
	}
}

/* The text of a formula's tokens rgce[0..cce). */
static char *
formula_text(const uint8_t *rgce, size_t cce, GPtrArray *names)
{
	struct rd r = { rgce, cce, 0 };
	struct stack st = { { NULL }, 0 };
	char *out;

	size_t at = 0;
	bool ok = true;

	while (ok && r.i < r.n) {
		at = r.i;
		ok = token(&r, &st, names);
	}
	if (!ok)
		out = g_strdup_printf("(formula not decoded: token 0x%02x at "
		    "byte %zu of %zu)", rgce[at], at, cce);
	else if (st.n != 1)
		out = g_strdup_printf("(formula not decoded: %d values left "
		    "of %zu bytes)", st.n, cce);
	else
		out = g_strconcat("=", st.v[0], NULL);
	while (st.n > 0)
		g_free(pop(&st));
	return out;
}

/* A defined name (LBL): built-in ones by their Excel name. */
static char *
label_name(const uint8_t *d, size_t len)
{
	static const char *const builtin[] = { "Consolidate_Area",
		"Auto_Open", "Auto_Close", "Extract", "Database",
		"Criteria", "Print_Area", "Print_Titles", "Recorder",
		"Data_Form", "Auto_Activate", "Auto_Deactivate",
		"Sheet_Title", "_FilterDatabase" };
	struct rd r = { d, len, 14 };
	char *s;

	if (len < 15)
		return g_strdup("?");
	if (u16(d) & 0x20) {	/* fBuiltin: one character, the code */
		const uint8_t *f, *c;

		if (!get(&r, 1, &f) || !get(&r, 1, &c))
			return g_strdup("?");
		return g_strdup(*c < G_N_ELEMENTS(builtin) ? builtin[*c] :
		    "?");
	}
	s = short_string(&r, d[3]);
	return s ? s : g_strdup("?");
}

void
qxlm_sheets_free(GPtrArray *sheets)
{
	for (guint i = 0; i < sheets->len; i++) {
		struct qxlm_sheet *s = g_ptr_array_index(sheets, i);

		g_free(s->name);
		g_string_free(s->text, TRUE);
		g_free(s);
	}
	g_ptr_array_free(sheets, TRUE);
}

/* The formulas of the sheet whose BOF is at off. */
static void
sheet_formulas(const uint8_t *wb, size_t len, size_t off, GString *out,
    GPtrArray *names, unsigned *budget)
{
	size_t i = off;
	bool first = true;

	while (i + 4 <= len && *budget > 0) {
		unsigned type = u16(wb + i), n = u16(wb + i + 2);
		const uint8_t *d = wb + i + 4;
		char *f;

		if (i + 4 + n > len || (first && type != REC_BOF))
			return;
		first = false;
		i += 4 + n;
		if (type == REC_EOF)
			return;
		if (type != REC_FORMULA || n < 22 || u16(d + 20) > n - 22u)
			continue;
		(*budget)--;
		f = formula_text(d + 22, u16(d + 20), names);
		g_string_append_printf(out, "R%uC%u: %s\n", u16(d) + 1,
		    u16(d + 2) + 1, f);
		g_free(f);
	}
}

GPtrArray *
qxlm_sheets(const uint8_t *wb, size_t len)
{
	GPtrArray *out = g_ptr_array_new();
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GArray *offs = g_array_new(FALSE, FALSE, sizeof(guint32));
	GPtrArray *snames = g_ptr_array_new_with_free_func(g_free);
	unsigned budget = MAX_FORMULAS;
	size_t i = 0;

	if (len < 8 || u16(wb) != REC_BOF || u16(wb + 2) < 2 ||
	    u16(wb + 4) != 0x0600)
		goto done;	/* not BIFF8 */
	/* The globals substream: sheets and names, up to its EOF. */
	while (i + 4 <= len) {
		unsigned type = u16(wb + i), n = u16(wb + i + 2);
		const uint8_t *d = wb + i + 4;

		if (i + 4 + n > len)
			break;
		i += 4 + n;
		if (type == REC_EOF)
			break;
		if (type == REC_FILEPASS)
			goto done;
		if (type == REC_LBL && names->len < MAX_NAMES)
			g_ptr_array_add(names, label_name(d, n));
		if (type == REC_BOUNDSHEET && n >= 8 && d[5] == 1) {
			struct rd r = { d, n, 7 };
			char *s = short_string(&r, d[6]);
			guint32 off = u32(d);

			g_array_append_val(offs, off);
			g_ptr_array_add(snames, s ? s : g_strdup("?"));
		}
	}
	for (guint k = 0; k < offs->len; k++) {
		struct qxlm_sheet *s = g_new0(struct qxlm_sheet, 1);

		s->name = g_strdup(g_ptr_array_index(snames, k));
		s->text = g_string_new(NULL);
		sheet_formulas(wb, len, g_array_index(offs, guint32, k),
		    s->text, names, &budget);
		g_ptr_array_add(out, s);
	}
done:
	g_ptr_array_free(names, TRUE);
	g_ptr_array_free(snames, TRUE);
	g_array_free(offs, TRUE);
	return out;
}
