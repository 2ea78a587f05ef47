/*
 * xlm.c - BIFF record walk for Excel 4.0 macro sheets, their formulas
 * (parsed tokens to text), and SYLK.
 */
#include "config.h"

#include "core/bytes.h"

#include <stdlib.h>
#include <string.h>

#include "xlm.h"

#define NAMES_MAX 64
#define ALL_NAMES_MAX 4096	/* defined names kept for PtgName */

static void check_name(struct emf_biff_info *info, char *name);

static void
add(GPtrArray **a, char *s)
{
	if (*a == NULL)
		*a = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < (*a)->len; i++)
		if (strcmp(g_ptr_array_index(*a, i), s) == 0) {
			g_free(s);
			return;
		}
	if ((*a)->len >= NAMES_MAX) {
		g_free(s);
		return;
	}
	g_ptr_array_add(*a, s);
}

/* A BIFF string: 8-bit (Latin-1) or UTF-16LE, per fHighByte. */
static char *
biff_string(const uint8_t *p, size_t avail, size_t cch, bool wide)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < cch; i++) {
		gunichar c;

		if (wide) {
			if (2 * i + 2 > avail)
				break;
			c = rd16(p + 2 * i);
			if (c >= 0xD800 && c <= 0xDFFF)
				c = 0xFFFD;
		} else {
			if (i >= avail)
				break;
			c = p[i];
		}
		g_string_append_unichar(s, c ? c : 0xFFFD);
	}
	return g_string_free(s, FALSE);
}

/* [MS-XLS] 2.5.114 (built-in name codes) as far as they matter here. */
static const char *
builtin_auto(uint8_t code)
{
	switch (code) {
	case 0x01: return "Auto_Open";
	case 0x02: return "Auto_Close";
	case 0x0A: return "Auto_Activate";
	case 0x0B: return "Auto_Deactivate";
	default: return NULL;
	}
}

void
emf_xlm_check_name(struct emf_biff_info *info, const char *name)
{
	check_name(info, g_strdup(name));
}

static void
check_name(struct emf_biff_info *info, char *name)
{
	/* Excel runs "Auto_Open", "auto_open2", "Auto_Openxyz" alike. */
	static const char *const pfx[] = { "auto_open", "auto_close",
		"auto_activate", "auto_deactivate", NULL };

	for (size_t k = 0; pfx[k] != NULL; k++)
		if (g_ascii_strncasecmp(name, pfx[k], strlen(pfx[k])) == 0) {
			add(&info->auto_names, name);
			return;
		}
	g_free(name);
}

/* Keep name at its index for PtgName (Lbl records are 1-based). */
static void
keep_name(struct emf_biff_info *info, const char *name)
{
	if (info->names == NULL)
		info->names = g_ptr_array_new_with_free_func(g_free);
	if (info->names->len < ALL_NAMES_MAX)
		g_ptr_array_add(info->names, g_strdup(name));
}

static void
lbl_record(struct emf_biff_info *info, const uint8_t *p, size_t n)
{
	uint16_t grbit;
	size_t cch;
	const char *b;
	char *name;

	if (n < 15) {
		keep_name(info, "?");
		return;
	}
	grbit = rd16(p);
	cch = p[3];
	if (grbit & 0x0020) {	/* fBuiltin: the name is one code */
		size_t off = info->biff == 8 ? 15 : 14;
		char code[24];

		b = off < n ? builtin_auto(p[off]) : NULL;
		g_snprintf(code, sizeof(code), "_xlnm.%u", off < n ?
		    p[off] : 0);
		keep_name(info, b != NULL ? b : code);
		if (b != NULL)
			add(&info->auto_names, g_strdup(b));
		return;
	}
	if (info->biff == 8)
		name = biff_string(p + 15, n - 15, cch, p[14] & 1);
	else
		name = biff_string(p + 14, n - 14, cch, false);
	keep_name(info, name);
	check_name(info, name);
}

static void
boundsheet_record(struct emf_biff_info *info, const uint8_t *p, size_t n)
{
	static const char *const state[] = { "", " (hidden)",
		" (very hidden)", "" };
	uint8_t dt;
	char *name, *label;

	if (n < 8)
		return;
	dt = p[5];
	if (dt == 6)
		info->vba_sheets++;
	if (dt != 1)
		return;
	if (info->biff == 8 && n >= 8)
		name = biff_string(p + 8, n - 8, p[6], p[7] & 1);
	else
		name = biff_string(p + 7, n - 7, p[6], false);
	label = g_strdup_printf("%s%s", name, state[p[4] & 3]);
	g_free(name);
	add(&info->macro_sheets, label);
}

/* ---- formulas ([MS-XLS] 2.5.198, parsed expressions) ------------------ */

#define STACK_MAX 64		/* operands on the evaluation stack */
#define ITEM_MAX 4096		/* bytes of one operand's text */
#define FORMULA_MAX 8192	/* bytes of one formula's text */

/* Ftab ([MS-XLS] 2.5.198.17): the functions worth a name, with the
 * argument count of their fixed-arity form (PtgFunc), -1 if variable. */
static const struct xlm_fn {
	uint16_t id;
	int8_t argc;
	const char *name;
} ftab[] = {
	{ 0, -1, "COUNT" }, { 1, -1, "IF" }, { 2, 1, "ISNA" },
	{ 3, 1, "ISERROR" }, { 4, -1, "SUM" }, { 5, -1, "AVERAGE" },
	{ 6, -1, "MIN" }, { 7, -1, "MAX" }, { 8, -1, "ROW" },
	{ 9, -1, "COLUMN" }, { 10, 0, "NA" }, { 19, 0, "PI" },
	{ 24, 1, "ABS" }, { 25, 1, "INT" }, { 27, 2, "ROUND" },
	{ 29, -1, "INDEX" }, { 30, 2, "REPT" }, { 31, 3, "MID" },
	{ 32, 1, "LEN" }, { 33, 1, "VALUE" }, { 34, 0, "TRUE" },
	{ 35, 0, "FALSE" }, { 36, -1, "AND" }, { 37, -1, "OR" },
	{ 38, 1, "NOT" }, { 39, 2, "MOD" }, { 48, 2, "TEXT" },
	{ 53, 1, "GOTO" }, { 54, -1, "HALT" }, { 55, -1, "RETURN" },
	{ 63, 0, "RAND" }, { 65, 3, "DATE" }, { 66, 3, "TIME" },
	{ 67, 1, "DAY" }, { 68, 1, "MONTH" }, { 69, 1, "YEAR" },
	{ 70, -1, "WEEKDAY" }, { 71, 1, "HOUR" }, { 72, 1, "MINUTE" },
	{ 73, 1, "SECOND" }, { 74, 0, "NOW" }, { 78, -1, "OFFSET" },
	{ 79, 2, "ABSREF" }, { 82, -1, "SEARCH" }, { 86, 1, "TYPE" },
	{ 87, -1, "ECHO" }, { 88, -1, "SET.NAME" }, { 89, 0, "CALLER" },
	{ 90, 1, "DEREF" }, { 91, -1, "WINDOWS" }, { 93, -1, "DOCUMENTS" },
	{ 94, 0, "ACTIVE.CELL" }, { 95, 0, "SELECTION" },
	{ 96, -1, "RESULT" }, { 100, -1, "CHOOSE" }, { 101, -1, "HLOOKUP" },
	{ 102, -1, "VLOOKUP" }, { 104, -1, "INPUT" }, { 105, 1, "ISREF" },
	{ 106, 1, "GET.FORMULA" }, { 107, -1, "GET.NAME" },
	{ 108, 2, "SET.VALUE" }, { 110, -1, "EXEC" }, { 111, 1, "CHAR" },
	{ 112, 1, "LOWER" }, { 113, 1, "UPPER" }, { 114, 1, "PROPER" },
	{ 115, -1, "LEFT" }, { 116, -1, "RIGHT" }, { 117, 2, "EXACT" },
	{ 118, 1, "TRIM" }, { 119, 4, "REPLACE" }, { 120, -1, "SUBSTITUTE" },
	{ 121, 1, "CODE" }, { 122, -1, "NAMES" }, { 123, -1, "DIRECTORY" },
	{ 124, -1, "FIND" }, { 125, -1, "CELL" }, { 126, 1, "ISERR" },
	{ 127, 1, "ISTEXT" }, { 128, 1, "ISNUMBER" }, { 129, 1, "ISBLANK" },
	{ 130, 1, "T" }, { 131, 1, "N" }, { 132, -1, "FOPEN" },
	{ 133, 1, "FCLOSE" }, { 134, 1, "FSIZE" }, { 135, 1, "FREADLN" },
	{ 136, 2, "FREAD" }, { 137, 2, "FWRITELN" }, { 138, 2, "FWRITE" },
	{ 139, -1, "FPOS" }, { 145, -1, "GET.DEF" }, { 146, -1, "REFTEXT" },
	{ 147, -1, "TEXTREF" }, { 148, -1, "INDIRECT" },
	{ 149, -1, "REGISTER" }, { 150, -1, "CALL" }, { 162, 1, "CLEAN" },
	{ 166, -1, "FILES" }, { 169, -1, "COUNTA" }, { 170, -1, "CANCEL.KEY" },
	{ 171, -1, "FOR" }, { 172, 1, "WHILE" }, { 173, 0, "BREAK" },
	{ 174, 0, "NEXT" }, { 175, 2, "INITIATE" }, { 176, 2, "REQUEST" },
	{ 177, 3, "POKE" }, { 178, 2, "EXECUTE" }, { 179, 1, "TERMINATE" },
	{ 185, -1, "GET.CELL" }, { 186, -1, "GET.WORKSPACE" },
	{ 187, -1, "GET.WINDOW" }, { 188, -1, "GET.DOCUMENT" },
	{ 190, 1, "ISNONTEXT" }, { 191, -1, "GET.NOTE" }, { 192, -1, "NOTE" },
	{ 197, -1, "TRUNC" }, { 198, 1, "ISLOGICAL" },
	{ 201, -1, "UNREGISTER" }, { 221, 0, "TODAY" },
	{ 236, -1, "CREATE.OBJECT" }, { 238, 0, "LAST.ERROR" },
	{ 244, 1, "INFO" }, { 246, -1, "GET.OBJECT" }, { 257, 1, "EVALUATE" },
	{ 262, -1, "APP.TITLE" }, { 263, -1, "WINDOW.TITLE" },
	{ 267, -1, "REGISTER.ID" }, { 268, -1, "GET.WORKBOOK" },
	{ 336, -1, "CONCATENATE" },
};

/* Cetab ([MS-XLS] 2.5.198.18): command equivalents (fCeFunc). */
static const struct xlm_fn cetab[] = {
	{ 0, -1, "BEEP" }, { 1, -1, "OPEN" }, { 5, -1, "SAVE.AS" },
	{ 6, -1, "FILE.DELETE" }, { 8, -1, "PRINT" }, { 10, -1, "QUIT" },
	{ 16, -1, "CLOSE" }, { 17, -1, "RUN" }, { 61, -1, "DEFINE.NAME" },
	{ 93, -1, "HIDE" }, { 94, -1, "UNHIDE" }, { 96, -1, "FORMULA" },
	{ 97, -1, "FORMULA.FILL" }, { 98, -1, "FORMULA.ARRAY" },
	{ 103, -1, "ACTIVATE" }, { 109, -1, "SELECT" },
	{ 110, -1, "DELETE.NAME" }, { 118, -1, "ALERT" },
	{ 122, -1, "MESSAGE" }, { 131, -1, "SEND.KEYS" },
	{ 140, -1, "DISABLE.INPUT" }, { 141, -1, "ECHO" },
	{ 148, -1, "ON.TIME" }, { 149, -1, "WAIT" },
	{ 168, -1, "ON.KEY" }, { 172, -1, "APP.MINIMIZE" },
	{ 173, -1, "APP.MAXIMIZE" }, { 215, -1, "HIDE.OBJECT" },
	{ 281, -1, "WORKBOOK.ADD" }, { 383, -1, "WORKBOOK.HIDE" },
	{ 384, -1, "WORKBOOK.UNHIDE" },
};

static const struct xlm_fn *
fn_find(const struct xlm_fn *t, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].id == id)
			return &t[i];
	return NULL;
}

struct fstack {
	char *item[STACK_MAX];
	unsigned n;
	bool bad;
};

static void
push(struct fstack *st, char *s)
{
	if (strlen(s) > ITEM_MAX) {
		const char *e = g_utf8_find_prev_char(s, s + ITEM_MAX);

		s[e ? e - s : 0] = '\0';
	}
	if (st->n >= STACK_MAX) {
		st->bad = true;
		g_free(s);
		return;
	}
	st->item[st->n++] = s;
}

static char *
pop(struct fstack *st)
{
	if (st->n == 0) {
		st->bad = true;
		return g_strdup("?");
	}
	return st->item[--st->n];
}

/* A quoted literal "..." with no quote inside it. */
static bool
literal(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && s[0] == '"' && s[n - 1] == '"' &&
	    memchr(s + 1, '"', n - 2) == NULL;
}

static void
binary(struct fstack *st, const char *op)
{
	char *b = pop(st), *a = pop(st);

	/* "po" & "wer": shown folded, so the keywords see "power". */
	if (strcmp(op, "&") == 0 && literal(a) && literal(b))
		push(st, g_strdup_printf("%.*s%s", (int)strlen(a) - 1, a,
		    b + 1));
	else
		push(st, g_strdup_printf("%s%s%s", a, op, b));
	g_free(a);
	g_free(b);
}

static void
call(struct fstack *st, const char *name, unsigned argc, bool user)
{
	char *args[STACK_MAX + 1];
	GString *s;

	if (argc > st->n) {
		st->bad = true;
		argc = st->n;
	}
	for (unsigned i = argc; i-- > 0;)
		args[i] = pop(st);
	/* User-defined (Ftab 255): the first operand names the function. */
	if (user && argc > 0) {
		s = g_string_new(args[0]);
		g_free(args[0]);
		memmove(args, args + 1, sizeof(args[0]) * --argc);
	} else {
		s = g_string_new(name);
	}
	/* CHAR(65) is "A": folded like the literals. */
	if (!user && strcmp(name, "CHAR") == 0 && argc == 1) {
		char *end;
		long v = strtol(args[0], &end, 10);

		if (*end == '\0' && end != args[0] && v >= 32 && v < 127 &&
		    v != '"') {
			g_string_printf(s, "\"%c\"", (int)v);
			g_free(args[0]);
			push(st, g_string_free(s, FALSE));
			return;
		}
	}
	g_string_append_c(s, '(');
	for (unsigned i = 0; i < argc; i++) {
		if (i > 0)
			g_string_append_c(s, ',');
		g_string_append(s, args[i]);
		g_free(args[i]);
	}
	g_string_append_c(s, ')');
	push(st, g_string_free(s, FALSE));
}

/* "A1" for row and column (0-based; flag bits of the column dropped). */
static char *
cell_name(unsigned row, unsigned col)
{
	char c[8];
	size_t n = 0;
	GString *s = g_string_new(NULL);

	col &= 0x3FFF;
	do {
		c[n++] = (char)('A' + col % 26);
		col = col / 26;
	} while (col-- > 0 && n < sizeof(c) - 1);
	while (n > 0)
		g_string_append_c(s, c[--n]);
	g_string_append_printf(s, "%u", row + 1);
	return g_string_free(s, FALSE);
}

/* A PtgStr body at p[0..avail): returns bytes used, 0 if it runs out. */
static size_t
ptg_str(const uint8_t *p, size_t avail, unsigned biff, struct fstack *st)
{
	size_t cch, need;
	bool wide = false;
	char *body, *q;
	GString *s;

	if (biff == 12) {
		if (avail < 2)
			return 0;
		cch = rd16(p);
		if (2 + 2 * cch > avail)
			return 0;
		body = biff_string(p + 2, avail - 2, cch, true);
		need = 2 + 2 * cch;
		goto quote;
	}
	if (avail < 1)
		return 0;
	cch = p[0];
	if (biff == 8) {
		if (avail < 2)
			return 0;
		wide = p[1] & 1;
		need = 2 + cch * (wide ? 2 : 1);
	} else {
		need = 1 + cch;
	}
	if (need > avail)
		return 0;
	body = biff_string(p + (biff == 8 ? 2 : 1), avail - (biff == 8 ?
	    2 : 1), cch, wide);
quote:
	s = g_string_new("\"");
	for (q = body; *q; q++) {
		if (*q == '"')
			g_string_append_c(s, '"');
		g_string_append_c(s, *q);
	}
	g_string_append_c(s, '"');
	g_free(body);
	push(st, g_string_free(s, FALSE));
	return need;
}

bool
emf_xlm_formula(const uint8_t *rgce, size_t len, unsigned biff,
    const GPtrArray *names, GString *out)
{
	static const char *const binops[] = { "+", "-", "*", "/", "^", "&",
		"<", "<=", "=", ">=", ">", "<>", " ", ",", ":" };
	static const char *const errs[] = { "#NULL!", "#DIV/0!", "#VALUE!",
		"#REF!", "#NAME?", "#NUM!", "#N/A" };
	struct fstack st = { .n = 0 };
	bool b12 = biff == 12;
	bool b8 = biff == 8 || b12;	/* BIFF12 as BIFF8, wider cells */
	size_t i = 0;
	bool ok = true;

	while (i < len && !st.bad) {
		uint8_t ptg = rgce[i++];
		uint8_t base = ptg < 0x20 ? ptg : (uint8_t)((ptg & 0x1F) | 0x20);
		size_t rest = len - i, need = 0;
		const uint8_t *p = rgce + i;
		char *a;

		switch (base) {
		case 0x01: case 0x02:	/* PtgExp, PtgTbl: shared formula */
			need = 4;
			if (b12 && base == 0x02)
				need = 6;
			if (need <= rest) {
				a = b12 ? cell_name(rd32(p), 0) :
				    cell_name(rd16(p), rd16(p + 2) & 0xFF);
				push(&st, g_strdup_printf("SHARED(%s)", a));
				g_free(a);
			}
			break;
		case 0x03: case 0x04: case 0x05: case 0x06: case 0x07:
		case 0x08: case 0x09: case 0x0A: case 0x0B: case 0x0C:
		case 0x0D: case 0x0E: case 0x0F: case 0x10: case 0x11:
			binary(&st, binops[base - 0x03]);
			break;
		case 0x12: case 0x13: case 0x14: case 0x15:
			a = pop(&st);
			push(&st, base == 0x12 ? g_strdup_printf("+%s", a) :
			    base == 0x13 ? g_strdup_printf("-%s", a) :
			    base == 0x14 ? g_strdup_printf("%s%%", a) :
			    g_strdup_printf("(%s)", a));
			g_free(a);
			break;
		case 0x16:		/* PtgMissArg */
			push(&st, g_strdup(""));
			break;
		case 0x17:		/* PtgStr */
			if ((need = ptg_str(p, rest, biff, &st)) == 0)
				need = rest + 1;
			break;
		case 0x19:		/* PtgAttr */
			need = 3;
			if (need <= rest && (p[0] & 0x04))	/* tAttrChoose */
				need += 2 * ((size_t)rd16(p + 1) + 1);
			if (need <= rest && (p[0] & 0x10))	/* tAttrSum */
				call(&st, "SUM", 1, false);
			break;
		case 0x1C:		/* PtgErr */
			need = 1;
			if (need <= rest) {
				unsigned e = p[0] == 0 ? 0 : p[0] == 7 ? 1 :
				    p[0] == 15 ? 2 : p[0] == 23 ? 3 :
				    p[0] == 29 ? 4 : p[0] == 36 ? 5 : 6;

				push(&st, g_strdup(errs[e]));
			}
			break;
		case 0x1D:		/* PtgBool */
			need = 1;
			if (need <= rest)
				push(&st, g_strdup(p[0] ? "TRUE" : "FALSE"));
			break;
		case 0x1E:		/* PtgInt */
			need = 2;
			if (need <= rest)
				push(&st, g_strdup_printf("%u", rd16(p)));
			break;
		case 0x1F:		/* PtgNum */
			need = 8;
			if (need <= rest) {
				uint64_t u = rd64(p);
				double v;
				char buf[G_ASCII_DTOSTR_BUF_SIZE];

				memcpy(&v, &u, sizeof(v));
				push(&st, g_strdup(g_ascii_formatd(buf,
				    sizeof(buf), "%.15g", v)));
			}
			break;
		case 0x20:		/* PtgArray: its values follow rgce */
			need = b12 ? 14 : 7;
			push(&st, g_strdup("{...}"));
			break;
		case 0x21: {		/* PtgFunc */
			const struct xlm_fn *f;

			need = 2;
			if (need > rest)
				break;
			f = fn_find(ftab, G_N_ELEMENTS(ftab), rd16(p));
			if (f == NULL || f->argc < 0) {
				/* Unknown arity: what is decoded so far. */
				ok = false;
				st.bad = true;
				break;
			}
			call(&st, f->name, (unsigned)f->argc, false);
			break;
		}
		case 0x22: {		/* PtgFuncVar */
			const struct xlm_fn *f;
			unsigned tab;
			char unk[16];

			need = 3;
			if (need > rest)
				break;
			tab = rd16(p + 1);
			if (tab & 0x8000)
				f = fn_find(cetab, G_N_ELEMENTS(cetab),
				    tab & 0x7FFF);
			else
				f = fn_find(ftab, G_N_ELEMENTS(ftab), tab);
			g_snprintf(unk, sizeof(unk), "%s%u", tab & 0x8000 ?
			    "CMD" : "FN", tab & 0x7FFF);
			call(&st, f ? f->name : unk, p[0] & 0x7F,
			    tab == 255);
			break;
		}
		case 0x23: {		/* PtgName */
			uint32_t idx;

			need = b8 ? 4 : 14;
			if (need > rest)
				break;
			idx = b8 ? rd32(p) : rd16(p);
			if (names != NULL && idx >= 1 && idx <= names->len)
				push(&st, g_strdup(g_ptr_array_index(names,
				    idx - 1)));
			else
				push(&st, g_strdup_printf("NAME%u", idx));
			break;
		}
		case 0x24: case 0x2A: case 0x2C:	/* Ref, RefErr, RefN */
			need = b12 ? 6 : b8 ? 4 : 3;
			if (need <= rest)
				push(&st, base == 0x2A ? g_strdup("#REF!") :
				    b12 ? cell_name(rd32(p), rd16(p + 4)) :
				    cell_name(b8 ? rd16(p) : rd16(p) & 0x3FFF,
				    b8 ? rd16(p + 2) : p[2]));
			break;
		case 0x25: case 0x2B: case 0x2D:	/* Area, AreaErr, AreaN */
			need = b12 ? 12 : b8 ? 8 : 6;
			if (need <= rest) {
				char *c1, *c2;

				if (b12) {
					c1 = cell_name(rd32(p), rd16(p + 8));
					c2 = cell_name(rd32(p + 4),
					    rd16(p + 10));
				} else if (b8) {
					c1 = cell_name(rd16(p), rd16(p + 4));
					c2 = cell_name(rd16(p + 2),
					    rd16(p + 6));
				} else {
					c1 = cell_name(rd16(p) & 0x3FFF,
					    p[4]);
					c2 = cell_name(rd16(p + 2) & 0x3FFF,
					    p[5]);
				}
				push(&st, g_strdup_printf("%s:%s", c1, c2));
				g_free(c1);
				g_free(c2);
			}
			break;
		case 0x26: case 0x27: case 0x28:	/* Mem*: a subexpression */
			need = 6;
			break;
		case 0x29: case 0x2E: case 0x2F:
			need = 2;
			break;
		case 0x39:		/* PtgNameX: an external or add-in name */
			need = b8 ? 6 : 24;
			if (need <= rest) {
				uint32_t idx = b8 ? rd32(p + 2) : rd16(p + 10);

				if (names != NULL && idx >= 1 &&
				    idx <= names->len)
					push(&st, g_strdup(g_ptr_array_index(
					    names, idx - 1)));
				else
					push(&st, g_strdup_printf("NAMEX%u",
					    idx));
			}
			break;
		case 0x3A: case 0x3C:	/* Ref3d, RefErr3d */
			need = b12 ? 8 : b8 ? 6 : 17;
			if (need <= rest) {
				a = base == 0x3C ? g_strdup("#REF!") : b12 ?
				    cell_name(rd32(p + 2), rd16(p + 6)) : b8 ?
				    cell_name(rd16(p + 2), rd16(p + 4)) :
				    cell_name(rd16(p + 14) & 0x3FFF, p[16]);
				push(&st, g_strdup_printf("!%s", a));
				g_free(a);
			}
			break;
		case 0x3B: case 0x3D:	/* Area3d, AreaErr3d */
			need = b12 ? 14 : b8 ? 10 : 20;
			if (need <= rest)
				push(&st, g_strdup("!AREA"));
			break;
		default:		/* PtgExtended, reserved: stop */
			ok = false;
			st.bad = true;
			break;
		}
		if (need > rest) {
			ok = false;
			break;
		}
		i += need;
	}
	if (st.bad)
		ok = false;
	/* A well-formed formula leaves one operand; else show them all. */
	for (unsigned k = 0; k < st.n; k++) {
		if (k > 0)
			g_string_append(out, " ");
		if (out->len < FORMULA_MAX)
			g_string_append(out, st.item[k]);
		g_free(st.item[k]);
	}
	if (st.n != 1)
		ok = false;
	if (out->len > FORMULA_MAX) {
		const char *e = g_utf8_find_prev_char(out->str,
		    out->str + FORMULA_MAX);

		g_string_truncate(out, e ? (gsize)(e - out->str) : 0);
	}
	return ok;
}

/* FORMULA record ([MS-XLS] 2.4.127) of a macro sheet. */
static void
formula_record(struct emf_biff_info *info, const uint8_t *p, size_t n)
{
	GString *f;
	size_t cce;
	char *cell;

	if (n < 22 || info->nformulas >= 65536)
		return;
	if (info->formulas == NULL)
		info->formulas = g_string_new(NULL);
	if (info->formulas->len >= EMF_XLM_TEXT_MAX) {
		info->formulas_cut = true;
		return;
	}
	info->nformulas++;
	cce = rd16(p + 20);
	if (cce > n - 22)
		cce = n - 22;
	f = g_string_new(NULL);
	emf_xlm_formula(p + 22, cce, info->biff, info->names, f);
	cell = cell_name(rd16(p), rd16(p + 2));
	g_string_append_printf(info->formulas, "%s: =%s\n", cell, f->str);
	g_free(cell);
	g_string_free(f, TRUE);
}

/* ---- XLM findings ------------------------------------------------------- */

void
emf_xlm_analyse(const char *src, size_t len, GPtrArray **suspicious)
{
	/* Calls that run code, load DLL functions or write formulas. */
	/* Not RUN, SET.VALUE, ON.TIME: ordinary macro sheets use them
	 * (POI's 60405.xls runs its Auto_Open with RUN). */
	static const char *const calls[] = { "EXEC", "CALL", "REGISTER",
		"FORMULA", "FORMULA.FILL", "FORMULA.ARRAY", "EXECUTE",
		"FOPEN", "FWRITE", "FWRITELN", "REGISTER.ID", "CREATE.OBJECT",
		NULL };
	unsigned nchar = 0;

	for (size_t i = 0; i < len; i++) {
		size_t j = i;

		if (src[i] == '"') {
			/* Skip a string literal: its text is not a call. */
			for (j = i + 1; j < len && src[j] != '"'; j++)
				;
			i = j;
			continue;
		}
		if (!g_ascii_isalpha(src[i]) || (i > 0 &&
		    (g_ascii_isalnum(src[i - 1]) || src[i - 1] == '.' ||
		    src[i - 1] == '_')))
			continue;
		while (j < len && (g_ascii_isalnum(src[j]) || src[j] == '.' ||
		    src[j] == '_'))
			j++;
		if (j < len && src[j] == '(') {
			for (size_t k = 0; calls[k] != NULL; k++) {
				size_t m = strlen(calls[k]);
				char *s;

				if (j - i != m || g_ascii_strncasecmp(src + i,
				    calls[k], m) != 0)
					continue;
				s = g_strdup_printf("XLM %s()", calls[k]);
				add(suspicious, s);
			}
			if (j - i == 4 && g_ascii_strncasecmp(src + i, "CHAR",
			    4) == 0)
				nchar++;
		}
		i = j - 1;
	}
	if (nchar >= 10)
		add(suspicious, g_strdup("XLM CHAR() obfuscation"));
}

/* ---- BIFF12 (.xlsb) ---------------------------------------------------- */

/*
 * The next BIFF12 record of d[*pos..len) ([MS-XLSB] 2.1.4: type and size
 * as 7-bit varints). False at the end or when it runs past it.
 */
static bool
xlsb_record(const uint8_t *d, size_t len, size_t *pos, unsigned *type,
    const uint8_t **body, size_t *n)
{
	size_t i = *pos, sz = 0;

	if (i >= len)
		return false;
	*type = d[i] & 0x7F;
	if (d[i++] & 0x80) {
		if (i >= len)
			return false;
		*type |= (unsigned)(d[i++] & 0x7F) << 7;
	}
	for (int k = 0; k < 4; k++) {
		if (i >= len)
			return false;
		sz |= (size_t)(d[i] & 0x7F) << (7 * k);
		if (!(d[i++] & 0x80))
			break;
	}
	if (sz > len - i)
		return false;
	*body = d + i;
	*n = sz;
	*pos = i + sz;
	return true;
}

unsigned
emf_xlsb_formulas(const uint8_t *d, size_t len, const GPtrArray *names,
    GString *out)
{
	size_t pos = 0;
	uint32_t row = 0;
	unsigned type, count = 0;
	const uint8_t *p;
	size_t n;

	while (count < 65536 && out->len < EMF_XLM_TEXT_MAX &&
	    xlsb_record(d, len, &pos, &type, &p, &n)) {
		size_t off = 8, cce;
		GString *f;
		char *cell;

		if (type == 0 && n >= 4) {	/* BrtRowHdr */
			row = rd32(p);
			continue;
		}
		if (type < 8 || type > 11 || n < 8)	/* BrtFmla* */
			continue;
		if (type == 8) {		/* XLWideString value */
			if (n < 12 || rd32(p + 8) > (n - 12) / 2)
				continue;
			off += 4 + 2 * (size_t)rd32(p + 8);
		} else {
			off += type == 9 ? 8 : 1;
		}
		off += 2;			/* grbitFlags */
		if (off + 4 > n)
			continue;
		cce = rd32(p + off);
		off += 4;
		cce = MIN(cce, n - off);
		f = g_string_new(NULL);
		emf_xlm_formula(p + off, cce, 12, names, f);
		cell = cell_name(row, rd32(p) & 0x3FFF);
		g_string_append_printf(out, "%s: =%s\n", cell, f->str);
		g_free(cell);
		g_string_free(f, TRUE);
		count++;
	}
	return count;
}

void
emf_xlsb_names(const uint8_t *d, size_t len, struct emf_biff_info *info)
{
	size_t pos = 0;
	unsigned type;
	const uint8_t *p;
	size_t n;

	while (xlsb_record(d, len, &pos, &type, &p, &n)) {
		size_t cch;
		char *name;

		/* BrtName: flags, chKey, itab, then the name. */
		if (type != 39 || n < 13)
			continue;
		cch = rd32(p + 9);
		if (cch > (n - 13) / 2)
			continue;
		name = biff_string(p + 13, n - 13, cch, true);
		keep_name(info, name);
		check_name(info, name);
	}
}

/* An XLNullableWideString at p[*off..n): UTF-8 (g_free), "" when null. */
static char *
xlsb_wide(const uint8_t *p, size_t n, size_t *off)
{
	uint32_t cch;
	char *s;

	if (*off + 4 > n)
		return NULL;
	cch = rd32(p + *off);
	*off += 4;
	if (cch == 0xFFFFFFFFu)
		return g_strdup("");
	if (cch > (n - *off) / 2)
		return NULL;
	s = biff_string(p + *off, n - *off, cch, true);
	*off += 2 * (size_t)cch;
	return s;
}

unsigned
emf_xlsb_dde_links(const uint8_t *d, size_t len, GPtrArray *out,
    unsigned max)
{
	size_t pos = 0;
	unsigned type, count = 0;
	const uint8_t *p;
	size_t n;

	while (count < max && xlsb_record(d, len, &pos, &type, &p, &n)) {
		size_t off = 2;
		char *svc, *topic;

		/* BrtBeginSupBook: sbt 1 is a DDE link (service, topic). */
		if (type != 360 || n < 2 || rd16(p) != 1)
			continue;
		if ((svc = xlsb_wide(p, n, &off)) == NULL)
			continue;
		if ((topic = xlsb_wide(p, n, &off)) == NULL)
			topic = g_strdup("");
		g_ptr_array_add(out, g_strdup_printf("DDE %s %s", svc, topic));
		g_free(svc);
		g_free(topic);
		count++;
	}
	return count;
}

bool
emf_biff_walk(const uint8_t *d, size_t len, struct emf_biff_info *info)
{
	size_t pos = 0;
	unsigned nsub = 0;
	bool encrypted = false, in_macro = false;

	memset(info, 0, sizeof(*info));
	if (len < 8)
		return false;
	switch (rd16(d)) {
	case 0x0809: info->biff = rd16(d + 4) == 0x0600 ? 8 : 5; break;
	case 0x0409: info->biff = 4; break;
	case 0x0209: info->biff = 3; break;
	case 0x0009: info->biff = 2; break;
	default: return false;
	}
	/* Each record is at least 4 bytes: the walk is bounded by len / 4. */
	while (pos + 4 <= len) {
		uint16_t type = rd16(d + pos);
		size_t n = rd16(d + pos + 2);
		const uint8_t *p = d + pos + 4;

		if (n > len - pos - 4) {
			info->malformed = true;
			break;
		}
		pos += 4 + n;
		switch (type) {
		case 0x0809: case 0x0409: case 0x0209: case 0x0009:
			/* BOF: clear text even after FilePass. */
			nsub++;
			in_macro = n >= 4 && rd16(p + 2) == 0x0040;
			if (in_macro) {
				char *s = g_strdup_printf("substream %u "
				    "(macro sheet)", nsub);

				add(&info->macro_sheets, s);
			}
			break;
		case 0x002F:	/* FilePass: what follows is encrypted */
			encrypted = true;
			info->encrypted = true;
			if (info->biff != 8 || n < 2 || rd16(p) == 0)
				info->encryption = "XOR";
			else if (n >= 4 && rd16(p + 2) >= 2)
				info->encryption = "RC4 CryptoAPI";
			else
				info->encryption = "RC4";
			break;
		case 0x0085:	/* BoundSheet8 */
			if (!encrypted)
				boundsheet_record(info, p, n);
			break;
		case 0x0018:	/* Lbl */
			if (!encrypted)
				lbl_record(info, p, n);
			break;
		case 0x0006:	/* Formula (BIFF5, BIFF8) */
			if (!encrypted && in_macro &&
			    (info->biff == 8 || info->biff == 5))
				formula_record(info, p, n);
			break;
		case 0x000A:	/* EOF of a substream */
			in_macro = false;
			break;
		default:
			break;
		}
	}
	/* A sheet named by BoundSheet8 also has its own BOF: keep one. */
	if (info->macro_sheets != NULL) {
		bool named = false;

		for (guint i = 0; i < info->macro_sheets->len; i++)
			if (!g_str_has_prefix(g_ptr_array_index(
			    info->macro_sheets, i), "substream "))
				named = true;
		for (guint i = info->macro_sheets->len; named && i-- > 0;)
			if (g_str_has_prefix(g_ptr_array_index(
			    info->macro_sheets, i), "substream "))
				g_ptr_array_remove_index(info->macro_sheets,
				    i);
	}
	return true;
}

void
emf_biff_info_clear(struct emf_biff_info *info)
{
	if (info->macro_sheets)
		g_ptr_array_free(info->macro_sheets, TRUE);
	if (info->auto_names)
		g_ptr_array_free(info->auto_names, TRUE);
	if (info->names)
		g_ptr_array_free(info->names, TRUE);
	if (info->formulas)
		g_string_free(info->formulas, TRUE);
	memset(info, 0, sizeof(*info));
}

/* ---- SYLK ----------------------------------------------------------------- */

bool
emf_sylk_macro(const uint8_t *d, size_t len, struct emf_biff_info *info,
    GString *formulas)
{
	bool macro = false;
	size_t pos = 0;

	memset(info, 0, sizeof(*info));
	while (pos < len) {
		const uint8_t *nl = memchr(d + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - d) : len;
		char *line = g_strndup((const char *)d + pos, end - pos);
		char **f;

		pos = end + 1;
		g_strchomp(line);
		f = g_strsplit(line, ";", 0);
		if (f[0] != NULL && strcmp(f[0], "O") == 0) {
			/* Options record: field E marks a macro sheet. */
			for (size_t i = 1; f[i] != NULL; i++)
				if (strcmp(f[i], "E") == 0)
					macro = true;
		} else if (f[0] != NULL && strcmp(f[0], "NN") == 0) {
			for (size_t i = 1; f[i] != NULL; i++)
				if (f[i][0] == 'N')
					check_name(info, g_strdup(f[i] + 1));
		} else if (f[0] != NULL && strcmp(f[0], "C") == 0 &&
		    formulas != NULL && formulas->len < 1024 * 1024) {
			for (size_t i = 1; f[i] != NULL; i++)
				if (f[i][0] == 'E') {
					g_string_append(formulas, f[i] + 1);
					g_string_append_c(formulas, '\n');
				}
		}
		g_strfreev(f);
		g_free(line);
	}
	if (macro)
		add(&info->macro_sheets, g_strdup("SYLK macro sheet"));
	return macro || info->auto_names != NULL;
}
