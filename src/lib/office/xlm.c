/*
 * xlm.c - BIFF record walk for Excel 4.0 macro sheets, and SYLK.
 */
#include "config.h"

#include "core/bytes.h"

#include <string.h>

#include "xlm.h"

#define NAMES_MAX 64

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

static void
lbl_record(struct emf_biff_info *info, const uint8_t *p, size_t n)
{
	uint16_t grbit;
	size_t cch;
	const char *b;

	if (n < 15)
		return;
	grbit = rd16(p);
	cch = p[3];
	if (grbit & 0x0020) {	/* fBuiltin: the name is one code */
		size_t off = info->biff == 8 ? 15 : 14;

		if (off < n && (b = builtin_auto(p[off])) != NULL)
			add(&info->auto_names, g_strdup(b));
		return;
	}
	if (info->biff == 8)
		check_name(info, biff_string(p + 15, n - 15, cch, p[14] & 1));
	else
		check_name(info, biff_string(p + 14, n - 14, cch, false));
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

bool
emf_biff_walk(const uint8_t *d, size_t len, struct emf_biff_info *info)
{
	size_t pos = 0;
	unsigned nsub = 0;
	bool encrypted = false;

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
			if (n >= 4 && rd16(p + 2) == 0x0040) {
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
