/*
 * svg.c - the charts of emofilter-web's statistics page, as inline SVG
 * (no script, no image files): entries per day stacked by action, and a
 * horizontal bar chart of counts (top symbols).
 */
#include "config.h"

#include <string.h>

#include "html.h"
#include "pages.h"
#include "qstats.h"

/* Colours by action (others take the grey). */
static const char *
action_colour(const char *a)
{
	static const struct {
		const char *name, *colour;
	} map[] = {
		{ "reject", "#b3261e" }, { "quarantine", "#e07b00" },
		{ "hold", "#e07b00" }, { "tag", "#d9b300" },
		{ "accept", "#3a8f3a" }, { "tempfail", "#6b5ca5" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (g_ascii_strcasecmp(a, map[i].name) == 0)
			return map[i].colour;
	return "#8a8f99";
}

/* A round step for the y axis (1, 2, 5, 10, 20, 50, ...): at most five
 * lines over max. */
static guint
axis_step(guint max)
{
	static const guint mult[] = { 1, 2, 5 };
	guint base = 1;

	for (;;) {
		for (size_t i = 0; i < G_N_ELEMENTS(mult); i++)
			if (max / (base * mult[i]) <= 5)
				return base * mult[i];
		if (base > G_MAXUINT / 100)
			return base;
		base *= 10;
	}
}

static guint
day_total(const struct qstats *st, const char *day)
{
	guint n = 0;

	for (guint j = 0; j < st->actions->len; j++)
		n += qstats_count(st, day,
		    ((struct qstat_count *)g_ptr_array_index(st->actions,
		    j))->key);
	return n;
}

static void
legend(GString *out, const struct qstats *st, int x, int y)
{
	for (guint j = 0; j < st->actions->len; j++) {
		const char *a = ((struct qstat_count *)
		    g_ptr_array_index(st->actions, j))->key;

		g_string_append_printf(out, "<rect x=\"%d\" y=\"%d\" "
		    "width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" "
		    "y=\"%d\">", x, y + (int)j * 16, action_colour(a), x + 14,
		    y + 9 + (int)j * 16);
		html_text(out, a);
		g_string_append(out, "</text>");
	}
}

void
svg_per_day(GString *out, const struct qstats *st, guint max_days)
{
	guint first = st->days->len > max_days ? st->days->len - max_days : 0;
	guint n = st->days->len - first, max = 1, step;
	const int left = 40, top = 10, h = 200, legend_w = 110;
	int bw, w;

	for (guint i = first; i < st->days->len; i++) {
		guint t = day_total(st, g_ptr_array_index(st->days, i));

		max = t > max ? t : max;
	}
	bw = n ? (n > 30 ? 14 : 24) : 24;
	w = left + (int)n * (bw + 4) + 20 + legend_w;
	step = axis_step(max);
	max = (max + step - 1) / step * step;
	g_string_append_printf(out, "<svg id=\"chart-days\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "role=\"img\" aria-label=\"entries per day by action\">", w,
	    h + top + 60);
	for (guint v = 0; v <= max; v += step) {
		int y = top + h - (int)((double)v / max * h);

		g_string_append_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
		    "y2=\"%d\" stroke=\"#e3e5ea\"/><text x=\"%d\" y=\"%d\" "
		    "text-anchor=\"end\">%u</text>", left, y, w - legend_w, y,
		    left - 4, y + 4, v);
	}
	for (guint i = first; i < st->days->len; i++) {
		const char *day = g_ptr_array_index(st->days, i);
		int x = left + 4 + (int)(i - first) * (bw + 4), y = top + h;

		for (guint j = 0; j < st->actions->len; j++) {
			const char *a = ((struct qstat_count *)
			    g_ptr_array_index(st->actions, j))->key;
			guint c = qstats_count(st, day, a);
			int bh = (int)((double)c / max * h + 0.5);

			if (c == 0)
				continue;
			y -= bh;
			g_string_append_printf(out, "<rect x=\"%d\" y=\"%d\" "
			    "width=\"%d\" height=\"%d\" fill=\"%s\"><title>",
			    x, y, bw, bh, action_colour(a));
			html_text(out, day);
			g_string_append(out, " ");
			html_text(out, a);
			g_string_append_printf(out, ": %u</title></rect>", c);
		}
		/* "MM-DD" under the bar, turned. */
		g_string_append_printf(out, "<text transform=\"translate(%d,%d) "
		    "rotate(-60)\" text-anchor=\"end\">", x + bw / 2 + 4,
		    top + h + 8);
		html_text(out, day + 5);
		g_string_append(out, "</text>");
	}
	legend(out, st, w - legend_w + 10, top);
	g_string_append(out, "</svg>\n");
}

void
svg_top(GString *out, GPtrArray *counts, guint top)
{
	guint n = counts->len < top ? counts->len : top, max = 1;
	const int label_w = 240, bar_w = 380, row = 20;

	for (guint i = 0; i < n; i++) {
		guint c = ((struct qstat_count *)g_ptr_array_index(counts,
		    i))->n;

		max = c > max ? c : max;
	}
	g_string_append_printf(out, "<svg id=\"chart-symbols\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "role=\"img\" aria-label=\"top symbols\">", label_w + bar_w + 60,
	    (int)n * row + 10);
	for (guint i = 0; i < n; i++) {
		struct qstat_count *c = g_ptr_array_index(counts, i);
		int y = 5 + (int)i * row;
		int bw = (int)((double)c->n / max * bar_w + 0.5);

		g_string_append_printf(out, "<text x=\"%d\" y=\"%d\" "
		    "text-anchor=\"end\">", label_w - 6, y + 13);
		html_cut(out, c->key, 36);
		g_string_append_printf(out, "</text><rect x=\"%d\" y=\"%d\" "
		    "width=\"%d\" height=\"%d\" fill=\"#3f6fb5\"/><text x=\"%d\" "
		    "y=\"%d\">%u</text>", label_w, y + 2, bw > 0 ? bw : 1,
		    row - 6, label_w + bw + 4, y + 13, c->n);
	}
	g_string_append(out, "</svg>\n");
}
