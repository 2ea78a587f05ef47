/*
 * pages.h - the pages and actions of emofilter-web, between the HTTP
 * server (main.c) and what they show (pages.c, svg.c).
 */
#ifndef EMF_PAGES_H
#define EMF_PAGES_H

#include <microhttpd.h>

#include "web.h"

/* One request, as main.c hands it to a page. */
struct req {
	struct web *w;
	struct MHD_Connection *conn;
	const char *method, *url;
	struct session *s;	/* NULL: no session cookie that is alive */
	GHashTable *post;	/* name -> GPtrArray of char * (POST) */
};

/* What a page answers. body may be NULL (a redirect). */
struct resp {
	unsigned status;
	GString *body;
	const char *ctype;	/* NULL: text/html; charset=utf-8 */
	char *location;		/* a redirect */
	char *cookie;		/* Set-Cookie value */
	char *disposition;	/* Content-Disposition, for downloads */
};

/* A GET argument, NULL when absent or empty. */
const char *get_arg(const struct req *r, const char *name);
/* A POST field (its first value), NULL when absent. */
const char *post_arg(const struct req *r, const char *name);

void page_login(struct req *r, struct resp *p, const char *error);
void action_login(struct req *r, struct resp *p);
void action_logout(struct req *r, struct resp *p);
void page_list(struct req *r, struct resp *p);
void page_entry(struct req *r, struct resp *p);
void page_stats(struct req *r, struct resp *p);
void page_ioc(struct req *r, struct resp *p);
void action_release(struct req *r, struct resp *p);
void action_delete(struct req *r, struct resp *p);
void action_bulk(struct req *r, struct resp *p);
/* A short error page. */
void page_error(struct resp *p, unsigned status, const char *text,
    const struct session *s);

/* svg.c: the charts of the statistics page. */
struct qstats;
void svg_per_day(GString *out, const struct qstats *st, guint max_days);
void svg_top(GString *out, GPtrArray *counts, guint top);

#endif /* EMF_PAGES_H */
