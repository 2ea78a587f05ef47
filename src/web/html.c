/*
 * html.c - escaping and the page frame of emofilter-web (see html.h).
 */
#include "config.h"

#include <string.h>

#include "html.h"
#include "qsafe.h"

static void
escape(GString *out, const char *s)
{
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '&': g_string_append(out, "&amp;"); break;
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		case '"': g_string_append(out, "&quot;"); break;
		case '\'': g_string_append(out, "&#39;"); break;
		default: g_string_append_c(out, *p);
		}
	}
}

void
html_text(GString *out, const char *s)
{
	char *safe;

	if (s == NULL)
		return;
	safe = safe_dup(s);
	escape(out, safe);
	g_free(safe);
}

void
html_lines(GString *out, const char *s)
{
	char **lines = g_strsplit(s ? s : "", "\n", -1);

	for (char **l = lines; *l; l++) {
		size_t n = strlen(*l);

		if (n > 0 && (*l)[n - 1] == '\r')
			(*l)[n - 1] = '\0';
		html_text(out, *l);
		if (l[1] != NULL)
			g_string_append_c(out, '\n');
	}
	g_strfreev(lines);
}

void
html_cut(GString *out, const char *s, long max)
{
	char *safe = safe_cut(s ? s : "", max);

	escape(out, safe);
	g_free(safe);
}

void
url_encode(GString *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (g_ascii_isalnum(*p) || strchr("-._~", *p))
			g_string_append_c(out, (char)*p);
		else
			g_string_append_printf(out, "%%%02X", *p);
	}
}

void
csrf_input(GString *out, const struct session *s)
{
	g_string_append_printf(out, "<input type=\"hidden\" name=\"csrf\" "
	    "value=\"%s\">", s->csrf);
}

void
page_begin(GString *out, const char *title, const struct session *s)
{
	g_string_append(out, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>");
	html_text(out, title);
	g_string_append(out, " - emofilter</title>"
	    "<link rel=\"stylesheet\" href=\"/style.css\"></head><body>\n"
	    "<header><span class=\"brand\">emofilter</span>");
	if (s != NULL && s->user != NULL) {
		g_string_append(out, "<nav><a href=\"/\">Quarantine</a>"
		    "<a href=\"/stats\">Statistics</a>"
		    "<a href=\"/ioc\">Indicators</a></nav>"
		    "<form class=\"logout\" method=\"post\" action=\"/logout\">"
		    "<span class=\"who\">");
		html_text(out, s->user);
		g_string_append_printf(out, " (%s)</span>", role_name(s->role));
		csrf_input(out, s);
		g_string_append(out, "<button>Log out</button></form>");
	}
	g_string_append(out, "</header>\n<main>\n<h1>");
	html_text(out, title);
	g_string_append(out, "</h1>\n");
}

void
page_end(GString *out)
{
	g_string_append(out, "</main></body></html>\n");
}

const char web_css[] =
    "body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;"
    "background:#f4f5f7;font-size:14px}\n"
    "header{background:#1d2f4f;color:#fff;padding:.5em 1em;display:flex;"
    "align-items:center;gap:1.5em}\n"
    "header a{color:#cfe0ff;margin-right:1em;text-decoration:none}\n"
    ".brand{font-weight:bold;font-size:1.1em}\n"
    ".logout{margin-left:auto}.who{margin-right:.6em}\n"
    "main{padding:1em 1.5em}\nh1{font-size:1.3em;margin:.2em 0 .6em}\n"
    "h2{font-size:1.1em;margin:1.2em 0 .4em;border-bottom:1px solid #ccd}\n"
    "table{border-collapse:collapse;background:#fff;width:100%}\n"
    "th,td{border:1px solid #d8dbe2;padding:.25em .45em;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#e8ebf1}\n"
    "table.kv th{width:12em}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".mono,code,pre{font-family:ui-monospace,monospace;font-size:12.5px}\n"
    "pre{background:#fff;border:1px solid #d8dbe2;padding:.6em;"
    "overflow:auto;max-height:40em;white-space:pre-wrap}\n"
    "form.filters{display:flex;flex-wrap:wrap;gap:.4em .8em;"
    "background:#fff;padding:.6em;border:1px solid #d8dbe2;"
    "margin-bottom:.8em}\n"
    "form.filters label{display:flex;flex-direction:column;font-size:12px}\n"
    "input,select,button{font:inherit;padding:.15em .3em}\n"
    "button{cursor:pointer}\n"
    ".act-reject{color:#a30d0d;font-weight:bold}\n"
    ".act-quarantine,.act-hold{color:#a35a00;font-weight:bold}\n"
    ".released{color:#16730f}.pending{color:#555}\n"
    ".msg{padding:.5em .8em;border:1px solid;margin:.6em 0}\n"
    ".ok{background:#e7f6e5;border-color:#7bbf73}\n"
    ".err{background:#fbe9e9;border-color:#d88}\n"
    ".pager{margin:.6em 0}.pager a{margin-right:1em}\n"
    "ul.tree{list-style:none;padding-left:1.2em;"
    "border-left:2px solid #d8dbe2}\n"
    "ul.tree li{margin:.3em 0}\n"
    ".login{max-width:22em;background:#fff;padding:1em;"
    "border:1px solid #d8dbe2}\n"
    ".login label{display:block;margin:.4em 0}\n"
    ".login input{width:100%;box-sizing:border-box}\n"
    ".actions{display:flex;gap:1em;margin:.6em 0}\n"
    "svg{background:#fff;border:1px solid #d8dbe2}\n"
    "svg text{font-size:11px;font-family:system-ui,sans-serif}\n";
