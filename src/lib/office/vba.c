/*
 * vba.c - [MS-OVBA] decompression, dir stream, source analysis.
 */
#include "config.h"

#include "core/bytes.h"

#include <string.h>

#include "vba.h"

#define CHUNK_MAX 4096		/* decompressed bytes per chunk */
#define LIST_MAX 64		/* findings kept per list */

/* ---- decompression ([MS-OVBA] 2.4.1) ---------------------------------- */

/* Bits of a copy token's offset: 2.4.1.3.19.1 CopyToken Help. */
static unsigned
copy_bits(size_t done)
{
	unsigned n = 4;

	while (((size_t)1 << n) < done)
		n++;
	return n > 12 ? 12 : n;
}

enum emf_rc
emf_vba_decompress(const uint8_t *in, size_t len, size_t cap, uint8_t **out,
    size_t *outlen, bool *capped)
{
	GByteArray *buf = g_byte_array_new();
	enum emf_rc rc = EMF_OK;
	size_t pos = 1;

	*capped = false;
	if (len == 0 || in[0] != 0x01) {
		rc = EMF_ERR_FORMAT;
		goto out;
	}
	/* 2.4.1.3.1: one CompressedChunk after another. */
	while (pos + 2 <= len) {
		uint16_t hdr = rd16(in + pos);
		size_t csize = (size_t)(hdr & 0x0FFF) + 3;
		size_t end = MIN(pos + csize, len);
		size_t start = buf->len;

		if (((hdr >> 12) & 0x07) != 0x03) {
			rc = EMF_ERR_FORMAT;
			goto out;
		}
		pos += 2;
		if (!(hdr & 0x8000)) {
			/* Raw chunk: 4096 literal bytes (fewer if cut off). */
			size_t n = MIN((size_t)CHUNK_MAX, len - pos);

			if (n > cap - buf->len) {
				n = cap - buf->len;
				*capped = true;
			}
			g_byte_array_append(buf, in + pos, (guint)n);
			if (*capped)
				goto out;
			pos += MIN((size_t)CHUNK_MAX, len - pos);
			continue;
		}
		while (pos < end && buf->len - start < CHUNK_MAX) {
			uint8_t flags = in[pos++];

			for (int bit = 0; bit < 8 && pos < end &&
			    buf->len - start < CHUNK_MAX; bit++) {
				size_t done = buf->len - start;
				unsigned nb;
				size_t length, offset;
				uint16_t tok;

				if (!(flags & (1u << bit))) {
					if (buf->len >= cap) {
						*capped = true;
						goto out;
					}
					g_byte_array_append(buf, in + pos, 1);
					pos++;
					continue;
				}
				if (pos + 2 > end)	/* cut-off token */
					goto out;
				tok = rd16(in + pos);
				pos += 2;
				nb = copy_bits(done);
				length = (size_t)(tok & (0xFFFFu >> nb)) + 3;
				offset = (size_t)(tok >> (16 - nb)) + 1;
				if (offset > done) {
					rc = EMF_ERR_FORMAT;
					goto out;
				}
				/* Never write past the chunk's 4096 bytes. */
				length = MIN(length, CHUNK_MAX - done);
				for (size_t k = 0; k < length; k++) {
					uint8_t c;

					if (buf->len >= cap) {
						*capped = true;
						goto out;
					}
					/* Byte by byte: the copy may overlap. */
					c = buf->data[buf->len - offset];
					g_byte_array_append(buf, &c, 1);
				}
			}
		}
		pos = end;
	}
out:
	{
		uint8_t nul = 0;

		*outlen = buf->len;
		g_byte_array_append(buf, &nul, 1);
		*out = g_byte_array_free(buf, FALSE);
	}
	return rc;
}

/* ---- the dir stream ([MS-OVBA] 2.3.4.2) -------------------------------- */

char *
emf_vba_to_utf8(const uint8_t *s, size_t len, unsigned cp)
{
	char *r = NULL;
	char cs[16];

	if (cp == 65001)
		return g_utf8_make_valid((const char *)s, (gssize)len);
	if (cp == 10000)
		g_strlcpy(cs, "MACINTOSH", sizeof(cs));
	else
		g_snprintf(cs, sizeof(cs), "CP%u", cp ? cp : 1252);
	r = g_convert((const char *)s, (gssize)len, "UTF-8", cs, NULL, NULL,
	    NULL);
	if (r == NULL)
		r = g_convert((const char *)s, (gssize)len, "UTF-8",
		    "ISO-8859-1", NULL, NULL, NULL);
	if (r == NULL)
		r = g_utf8_make_valid((const char *)s, (gssize)len);
	return r;
}

static char *
utf16_to_utf8(const uint8_t *p, size_t len)
{
	GString *s = g_string_sized_new(len / 2 + 1);
	char *r;

	for (size_t i = 0; i + 1 < len; i += 2) {
		gunichar c = rd16(p + i);

		if (c >= 0xD800 && c <= 0xDFFF)
			c = 0xFFFD;
		g_string_append_unichar(s, c ? c : 0xFFFD);
	}
	r = g_string_free(s, FALSE);
	return r;
}

static void
module_free(gpointer p)
{
	struct emf_vba_module *m = p;

	g_free(m->name);
	g_free(m->stream);
	g_free(m);
}

void
emf_vba_project_free(struct emf_vba_project *p)
{
	if (p == NULL)
		return;
	g_ptr_array_free(p->modules, TRUE);
	g_free(p);
}

enum emf_rc
emf_vba_dir_parse(const uint8_t *dir, size_t len, unsigned max_modules,
    struct emf_vba_project **out, bool *capped, char **why)
{
	struct emf_vba_project *p = g_new0(struct emf_vba_project, 1);
	struct emf_vba_module *cur = NULL;
	size_t pos = 0;

	*out = NULL;
	*capped = false;
	p->codepage = 1252;
	p->modules = g_ptr_array_new_with_free_func(module_free);
	/*
	 * Every record is Id (2), Size (4), Size bytes, except PROJECTVERSION
	 * whose Size says 4 but 6 bytes follow. Walking records generically
	 * (as olevba does) copes with the optional records of every version.
	 */
	while (pos + 6 <= len) {
		uint16_t id = rd16(dir + pos);
		uint32_t size = rd32(dir + pos + 2);
		const uint8_t *d = dir + pos + 6;

		if (id == 0x0009)
			size = 6;
		if (size > len - pos - 6)
			break;		/* a record running off the end */
		pos += 6 + (size_t)size;
		switch (id) {
		case 0x0003:	/* PROJECTCODEPAGE */
			if (size >= 2)
				p->codepage = rd16(d);
			break;
		case 0x0019:	/* MODULENAME: a new module starts */
			if (p->modules->len >= max_modules) {
				*capped = true;
				cur = NULL;
				goto done;
			}
			cur = g_new0(struct emf_vba_module, 1);
			cur->name = emf_vba_to_utf8(d, size, p->codepage);
			g_ptr_array_add(p->modules, cur);
			break;
		case 0x0047:	/* MODULENAMEUNICODE */
			if (cur != NULL && size > 0) {
				g_free(cur->name);
				cur->name = utf16_to_utf8(d, size);
			}
			break;
		case 0x001A:	/* MODULESTREAMNAME */
			if (cur != NULL && cur->stream == NULL)
				cur->stream = emf_vba_to_utf8(d, size,
				    p->codepage);
			break;
		case 0x0032:	/* MODULESTREAMNAME unicode part */
			if (cur != NULL && size > 0) {
				g_free(cur->stream);
				cur->stream = utf16_to_utf8(d, size);
			}
			break;
		case 0x0031:	/* MODULEOFFSET */
			if (cur != NULL && size >= 4)
				cur->offset = rd32(d);
			break;
		case 0x0022:	/* MODULETYPE: document, class or designer */
			if (cur != NULL)
				cur->is_class = true;
			break;
		case 0x002B:	/* module terminator */
			cur = NULL;
			break;
		case 0x0010:	/* end of the dir stream */
			goto done;
		default:
			break;
		}
	}
done:
	/* A module without a stream name uses its own name (lenient). */
	for (guint i = 0; i < p->modules->len; i++) {
		struct emf_vba_module *m = g_ptr_array_index(p->modules, i);

		if (m->stream == NULL || *m->stream == '\0') {
			g_free(m->stream);
			m->stream = g_strdup(m->name);
		}
	}
	if (p->modules->len == 0) {
		*why = g_strdup("no module record in the VBA dir stream");
		emf_vba_project_free(p);
		return EMF_ERR_FORMAT;
	}
	*out = p;
	return EMF_OK;
}

/* ---- source analysis ---------------------------------------------------- */

/* Procedure names that run by themselves (Word, Excel, PowerPoint, ActiveX). */
static const char *const autoexec_names[] = {
	"AutoExec", "AutoOpen", "DocumentOpen", "AutoExit", "AutoClose",
	"DocumentBeforeClose", "DocumentChange", "AutoNew", "DocumentNew",
	"NewDocument", "Document_Open", "Document_Close", "Document_New",
	"Document_BeforeClose", "Document_ContentControlOnEnter",
	"Auto_Open", "Auto_Close", "Auto_Activate", "Auto_Deactivate",
	"Workbook_Open", "Workbook_Activate", "Workbook_Close",
	"Workbook_BeforeClose", "Workbook_WindowActivate",
	"Workbook_SheetActivate", "App_WindowActivate", "Auto_Ope",
	"AutoOpen_", "UserForm_Initialize", "UserForm_Activate",
	"Presentation_Open", "OnSlideShowPageChange", NULL
};

/*
 * Events of ActiveX and form controls that fire without the user clicking
 * anything (as olevba lists them): when the document is opened and the
 * control drawn, laid out or focused, when the mouse merely passes over
 * it, or when an embedded browser loads. A procedure named Control_Event
 * with one of these events is an auto-run trigger whatever the control is
 * called (InkPicture2_Painted, Image1_MouseMove, TextBox1_Change). Click
 * events are left out: they need a deliberate click.
 */
static const char *const activex_events[] = {
	"Painted", "Painting", "GotFocus", "LostFocus", "MouseHover",
	"MouseMove", "MouseEnter", "MouseLeave", "Change", "Resize",
	"Layout", "Initialize", "Activate", "BeforeNavigate2",
	"BeforeScriptExecute", "DocumentComplete", "DownloadBegin",
	"DownloadComplete", "FileDownload", "NavigateComplete2",
	"NavigateError", "ProgressChange", "PropertyChange",
	"SetSecureLockIcon", "StatusTextChange", "TitleChange",
	"OnConnecting", "ContentControlOnEnter", NULL
};

/*
 * word (a procedure being declared) is Control_Event with an auto-firing
 * event: returns the event, else NULL. The control part must be a
 * plain identifier that is not empty.
 */
static const char *
activex_trigger(const char *word)
{
	const char *us = strrchr(word, '_');

	/* Object events that need the user (Worksheet_Change: an edit). */
	static const char *const objects[] = { "Worksheet", "Workbook",
		"Document", "Application", "App", "Class", "Chart", "Sheet",
		"Presentation", NULL };

	if (us == NULL || us == word || us[1] == '\0')
		return NULL;
	for (size_t k = 0; objects[k] != NULL; k++)
		if (g_ascii_strncasecmp(word, objects[k], strlen(objects[k]))
		    == 0 && word + strlen(objects[k]) == us)
			return NULL;
	for (size_t k = 0; activex_events[k] != NULL; k++)
		if (g_ascii_strcasecmp(us + 1, activex_events[k]) == 0)
			return activex_events[k];
	return NULL;
}

/* Identifiers that matter alone (matched as whole words). */
static const char *const suspicious_words[] = {
	"Shell", "ShellExecute", "ShellExecuteA", "CreateObject",
	"GetObject", "CallByName", "Environ", "URLDownloadToFile",
	"URLDownloadToFileA", "StrReverse", "ExecuteExcel4Macro",
	"VirtualAlloc", "VirtualAllocEx", "RtlMoveMemory", "CreateThread",
	"CreateRemoteThread", "WriteProcessMemory", "EnumSystemLocalesA",
	"SaveToFile", "CreateTextFile", "Kill", "MacroOptions",
	"FollowHyperlink", "Wscript", "Excel4IntlMacroSheets",
	"Excel4MacroSheets", NULL
};

/* Strings that matter anywhere (case-insensitive substrings). */
static const char *const suspicious_strings[] = {
	"WScript.Shell", "Shell.Application", "powershell", "rundll32",
	"regsvr32", "mshta", "cmd.exe", "cmd /c", "certutil", "bitsadmin",
	"schtasks", "wmic", "Win32_Process", "MSXML2.XMLHTTP",
	"Microsoft.XMLHTTP", "WinHttp.WinHttpRequest", "ServerXMLHTTP",
	"ADODB.Stream", "Scripting.FileSystemObject", "-EncodedCommand",
	"FromBase64String", "DownloadFile", "DownloadString",
	"Net.WebClient", "Invoke-Expression", "IEX(", "%TEMP%",
	"%APPDATA%", "\\AppData\\", ".exe\"", ".dll\"", ".vbs\"", ".js\"",
	".hta\"", ".scr\"", NULL
};

static bool
list_has(GPtrArray *a, const char *s)
{
	for (guint i = 0; a != NULL && i < a->len; i++)
		if (g_ascii_strcasecmp(g_ptr_array_index(a, i), s) == 0)
			return true;
	return false;
}

static void
list_add(GPtrArray **a, const char *s)
{
	if (*a == NULL)
		*a = g_ptr_array_new_with_free_func(g_free);
	if ((*a)->len >= LIST_MAX || list_has(*a, s))
		return;
	g_ptr_array_add(*a, g_utf8_make_valid(s, -1));
}

static bool
is_ident(char c)
{
	return g_ascii_isalnum(c) || c == '_';
}

/* Case-insensitive search for needle in s[0..len). */
static const char *
find_ci(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (g_ascii_strncasecmp(s + i, needle, n) == 0)
			return s + i;
	return NULL;
}

/* URLs: scheme://... up to a quote, space or bracket. */
static void
find_urls(const char *src, size_t len, struct emf_vba_findings *f)
{
	static const char *const schemes[] = { "http://", "https://",
		"ftp://", NULL };

	for (size_t k = 0; schemes[k] != NULL; k++) {
		size_t n = strlen(schemes[k]);

		for (size_t i = 0; n <= len && i <= len - n; i++) {
			size_t j;
			char *u;

			if (g_ascii_strncasecmp(src + i, schemes[k], n) != 0)
				continue;
			for (j = i + n; j < len && j - i < 2048; j++) {
				unsigned char c = (unsigned char)src[j];

				if (c <= ' ' || c == '"' || c == '\'' ||
				    c == '<' || c == '>' || c == '(' ||
				    c == ')' || c == '`' || c == 0x7F)
					break;
			}
			if (j - i > n + 2) {
				u = g_strndup(src + i, j - i);
				list_add(&f->urls, u);
				g_free(u);
			}
			i = j;
		}
	}
}

void
emf_vba_analyse(const char *src, size_t len, struct emf_vba_findings *f)
{
	unsigned nchr = 0, nconcat = 0;
	char word[64];
	bool decl = false;	/* the previous word was Sub or Function */

	/* Whole-word matches, case-insensitive (VBA is). */
	for (size_t i = 0; i < len;) {
		size_t j = i;

		if (!is_ident(src[i])) {
			/* '"x" & "y"': concatenation of short literals. */
			if (src[i] == '"' && i + 4 < len &&
			    (memcmp(src + i, "\" & \"", 5) == 0 ||
			    memcmp(src + i, "\" + \"", 5) == 0))
				nconcat++;
			/* "Sub" and the name it declares share a line. */
			if (src[i] != ' ' && src[i] != '\t')
				decl = false;
			i++;
			continue;
		}
		while (j < len && is_ident(src[j]))
			j++;
		if (j - i < sizeof(word)) {
			memcpy(word, src + i, j - i);
			word[j - i] = '\0';
			for (size_t k = 0; autoexec_names[k] != NULL; k++)
				if (g_ascii_strcasecmp(word,
				    autoexec_names[k]) == 0)
					list_add(&f->autoexec,
					    autoexec_names[k]);
			/* By pattern only where a procedure is declared. */
			if (decl && activex_trigger(word) != NULL)
				list_add(&f->autoexec, word);
			decl = g_ascii_strcasecmp(word, "Sub") == 0 ||
			    g_ascii_strcasecmp(word, "Function") == 0;
			for (size_t k = 0; suspicious_words[k] != NULL; k++)
				if (g_ascii_strcasecmp(word,
				    suspicious_words[k]) == 0)
					list_add(&f->suspicious,
					    suspicious_words[k]);
			if (g_ascii_strcasecmp(word, "Chr") == 0 ||
			    g_ascii_strcasecmp(word, "ChrW") == 0 ||
			    g_ascii_strcasecmp(word, "ChrB") == 0)
				nchr++;
		} else {
			decl = false;
		}
		i = j;
	}
	for (size_t k = 0; suspicious_strings[k] != NULL; k++)
		if (find_ci(src, len, suspicious_strings[k]) != NULL)
			list_add(&f->suspicious, suspicious_strings[k]);
	/* Application.Run of a name built at run time, not a literal. */
	for (const char *r = src; r != NULL && (size_t)(r - src) < len;) {
		size_t rest = len - (size_t)(r - src);

		if ((r = find_ci(r, rest, "Application.Run")) == NULL)
			break;
		r += strlen("Application.Run");
		rest = len - (size_t)(r - src);
		while (rest > 0 && (*r == ' ' || *r == '(')) {
			r++;
			rest--;
		}
		if (rest > 0 && *r != '"' && *r != '\r' && *r != '\n' &&
		    (is_ident(*r) || *r == '&')) {
			list_add(&f->suspicious, "Application.Run (built name)");
			break;
		}
	}
	/* Heavy use is what obfuscators leave; a few calls are normal. */
	if (nchr >= 20)
		list_add(&f->suspicious, "Chr() obfuscation");
	if (nconcat >= 30)
		list_add(&f->suspicious, "string concatenation obfuscation");
	find_urls(src, len, f);
}

void
emf_vba_findings_clear(struct emf_vba_findings *f)
{
	if (f->autoexec)
		g_ptr_array_free(f->autoexec, TRUE);
	if (f->suspicious)
		g_ptr_array_free(f->suspicious, TRUE);
	if (f->urls)
		g_ptr_array_free(f->urls, TRUE);
	f->autoexec = f->suspicious = f->urls = NULL;
}
