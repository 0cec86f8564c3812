/*
 * html.c - html_write (see figures.h): report_dir/index.html, one self-contained page that works
 * offline from the folder (inline CSS, no script, no external address; figures referenced
 * relatively from fig/).  It shows report.json's method, facts and notes, summary.md (a small
 * Markdown subset: headings, pipe tables, paragraphs), the figures listed by fig/figures.json (and
 * why any was not drawn), and configs.csv as a table.  A banner marks simulated data: report.json
 * "simulated": true, or a meter id of the simulated meter ("sim...") under "meters".  Every value
 * from the files is HTML-escaped.  It draws nothing and computes nothing.
 */
#include "analysis/figcsv.h"
#include "analysis/figures.h"

#include "json.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef JB_VERSION
#define JB_VERSION "unknown"
#endif

static void esc(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_puts(sb, "&amp;"); break;
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&#39;"); break;
        default: sb_putc(sb, *s);
        }
    }
}

/* A small subset of Markdown, enough for summary.md: "#" headings, pipe tables (the |---| row
 * dropped), paragraphs.  Anything else is shown as text; all of it escaped. */
static void trim_line(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

/* [b, e) escaped for HTML, with Markdown's backslash escapes of ASCII punctuation undone (what
 * util/mdesc.c writes for level values). */
static void esc_n(struct strbuf *sb, const char *b, const char *e)
{
    char tmp[512];

    while (b < e) {
        size_t n = 0;
        while (b < e && n < sizeof(tmp) - 1) {
            if (*b == '\\' && b + 1 < e && ispunct((unsigned char)b[1]))
                b++;
            tmp[n++] = *b++;
        }
        tmp[n] = '\0';
        esc(sb, tmp);
    }
}

/* The next '|' of [b, e) that is not escaped, or NULL. */
static const char *next_pipe(const char *b, const char *e)
{
    for (; b < e; b++) {
        if (*b == '\\' && b + 1 < e)
            b++;
        else if (*b == '|')
            return b;
    }
    return NULL;
}

static int is_table_rule(const char *b, const char *e)
{
    int dash = 0;

    for (; b < e; b++) {
        if (*b == '-')
            dash = 1;
        else if (*b != '|' && *b != ':' && *b != ' ')
            return 0;
    }
    return dash;
}

static void table_row(struct strbuf *sb, const char *b, const char *e, int head)
{
    const char *cell;

    if (b < e && *b == '|')
        b++;
    if (e > b && e[-1] == '|' && !(e - 1 > b && e[-2] == '\\'))
        e--;
    sb_puts(sb, "<tr>");
    while (b <= e) {
        const char *cb, *ce;
        cell = next_pipe(b, e);
        ce = cell ? cell : e;
        cb = b;
        trim_line(&cb, &ce);
        sb_puts(sb, head ? "<th>" : "<td>");
        esc_n(sb, cb, ce);
        sb_puts(sb, head ? "</th>" : "</td>");
        if (!cell)
            break;
        b = cell + 1;
    }
    sb_puts(sb, "</tr>\n");
}

static void markdown(struct strbuf *sb, const char *text)
{
    const char *p = text;
    int in_table = 0, in_par = 0, row = 0;

    sb_puts(sb, "<div class=\"summary\">\n");
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *b = p, *e = nl ? nl : p + strlen(p);

        p = nl ? nl + 1 : e;
        trim_line(&b, &e);
        if (b < e && *b == '|') {
            if (in_par) {
                sb_puts(sb, "</p>\n");
                in_par = 0;
            }
            if (!in_table) {
                sb_puts(sb, "<div class=\"scroll\"><table>\n");
                in_table = 1;
                row = 0;
            }
            if (!is_table_rule(b, e))
                table_row(sb, b, e, row++ == 0);
            continue;
        }
        if (in_table) {
            sb_puts(sb, "</table></div>\n");
            in_table = 0;
        }
        if (b == e) {
            if (in_par) {
                sb_puts(sb, "</p>\n");
                in_par = 0;
            }
            continue;
        }
        if (*b == '#') {
            int level = 0;
            while (b < e && *b == '#') {
                b++;
                level++;
            }
            trim_line(&b, &e);
            if (in_par) {
                sb_puts(sb, "</p>\n");
                in_par = 0;
            }
            level = level + 2 > 6 ? 6 : level + 2;
            sb_printf(sb, "<h%d>", level);
            esc_n(sb, b, e);
            sb_printf(sb, "</h%d>\n", level);
            continue;
        }
        sb_puts(sb, in_par ? "\n" : "<p>");
        in_par = 1;
        esc_n(sb, b, e);
    }
    if (in_table)
        sb_puts(sb, "</table></div>\n");
    if (in_par)
        sb_puts(sb, "</p>\n");
    sb_puts(sb, "</div>\n");
}

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0 auto;max-width:1500px;padding:0 1.5em 3em;color:#1a1a1a;background:#fff;"
    "line-height:1.45}\n"
    "h1{margin:.8em 0 .2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\n"
    ".banner{background:#fff3cd;border:2px solid #b8860b;color:#5c4400;padding:.7em 1em;"
    "margin:1em 0;font-weight:bold}\n"
    "dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em}"
    "dl.facts dt{font-weight:bold}dl.facts dd{margin:0}\n"
    "div.summary{background:#f9f9f9;border:1px solid #ddd;padding:.2em 1em 1em}\n"
    "figure{margin:1.5em 0;border:1px solid #e2e2e2;padding:.8em}"
    "figure img{max-width:100%;height:auto;display:block}\n"
    "figcaption{margin-top:.5em;color:#333}.note{color:#666;font-size:.9em}\n"
    ".skipped{color:#8a3b00}\n"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;white-space:nowrap}"
    "th{background:#eee;position:sticky;top:0}td.num{text-align:right;"
    "font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#fafafa}\n"
    "footer{margin-top:3em;color:#777;font-size:.85em}\n";

static int is_number(const char *s)
{
    char *end;
    double v;

    if (!*s)
        return 0;
    errno = 0;
    v = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(v);
}

/* A path from figures.json that may go into src=: relative, under fig/, no "..", existing. */
static int safe_fig_path(const char *report_dir, const char *rel)
{
    char path[PATH_MAX];

    if (!rel || strncmp(rel, "fig/", 4) != 0 || strstr(rel, "..") || strpbrk(rel, "\"'<>&\\ ?#"))
        return 0;
    if (snprintf(path, sizeof(path), "%s/%s", report_dir, rel) >= (int)sizeof(path))
        return 0;
    return fs_exists(path);
}

static void facts(struct strbuf *sb, const struct jb_json *rep)
{
    int open = 0;

    for (size_t i = 0; rep && i < rep->n; i++) {
        const struct jb_json *v = rep->items[i];
        const char *k = rep->keys[i];

        if (strcmp(k, "notes") == 0 || strcmp(k, "simulated") == 0 || strcmp(k, "method") == 0)
            continue;
        if (v->type != JB_JSON_STRING && v->type != JB_JSON_NUMBER && v->type != JB_JSON_BOOL)
            continue;
        if (!open) {
            sb_puts(sb, "<dl class=\"facts\">\n");
            open = 1;
        }
        sb_puts(sb, "<dt>");
        esc(sb, k);
        sb_puts(sb, "</dt><dd>");
        if (v->type == JB_JSON_STRING)
            esc(sb, v->string);
        else if (v->type == JB_JSON_BOOL)
            sb_puts(sb, v->boolean ? "yes" : "no");
        else
            sb_printf(sb, "%.10g", v->number);
        sb_puts(sb, "</dd>\n");
    }
    if (open)
        sb_puts(sb, "</dl>\n");
}

static void notes(struct strbuf *sb, const struct jb_json *rep)
{
    const struct jb_json *n = jb__json_get(rep, "notes");

    if (!n)
        return;
    if (n->type == JB_JSON_STRING && n->string[0]) {
        sb_puts(sb, "<h3>Notes</h3>\n<ul>\n<li>");
        esc(sb, n->string);
        sb_puts(sb, "</li>\n</ul>\n");
    } else if (n->type == JB_JSON_ARRAY && n->n) {
        sb_puts(sb, "<h3>Notes</h3>\n<ul>\n");
        for (size_t i = 0; i < n->n; i++) {
            if (n->items[i]->type != JB_JSON_STRING)
                continue;
            sb_puts(sb, "<li>");
            esc(sb, n->items[i]->string);
            sb_puts(sb, "</li>\n");
        }
        sb_puts(sb, "</ul>\n");
    }
}

/* 1 when report.json says the data are simulated, or lists a simulated meter ("sim0"). */
static int simulated(const struct jb_json *j, int depth)
{
    if (!j || depth > 4)
        return 0;
    if (j->type == JB_JSON_STRING)
        return strncmp(j->string, "sim", 3) == 0;
    if (j->type == JB_JSON_ARRAY || j->type == JB_JSON_OBJECT)
        for (size_t i = 0; i < j->n; i++)
            if (simulated(j->items[i], depth + 1))
                return 1;
    return 0;
}

static int load_json(const char *path, struct jb_json **out, char *err, size_t errlen)
{
    char *text = NULL, msg[256];
    size_t len = 0;

    *out = NULL;
    if (fs_read_file(path, &text, &len, err, errlen) < 0)
        return -1;
    if (jb__json_parse(text, len, out, msg, sizeof(msg)) < 0) {
        snprintf(err, errlen, "'%s': %s", path, msg);
        free(text);
        return -1;
    }
    free(text);
    if ((*out)->type != JB_JSON_OBJECT) {
        snprintf(err, errlen, "'%s': not a JSON object", path);
        jb__json_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static void figures(struct strbuf *sb, const char *report_dir, const struct jb_json *idx)
{
    const struct jb_json *list = jb__json_get(idx, "figures");
    int shown = 0;

    sb_puts(sb, "<section id=\"figures\">\n<h2>Figures</h2>\n");
    if (!list || list->type != JB_JSON_ARRAY) {
        sb_puts(sb, "<p>No figures: fig/figures.json is absent (the figures were not drawn).</p>\n"
                    "</section>\n");
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        const struct jb_json *f = list->items[i];
        const struct jb_json *made = jb__json_get(f, "made");
        const char *name = jb__json_str(f, "name", "");
        const char *svg = jb__json_str(f, "svg", NULL), *png = jb__json_str(f, "png", NULL);
        const char *notes_s = jb__json_str(f, "notes", NULL);

        if (!made || made->type != JB_JSON_BOOL || !made->boolean ||
            !safe_fig_path(report_dir, svg))
            continue;
        shown++;
        sb_puts(sb, "<figure id=\"fig-");
        esc(sb, name);
        sb_puts(sb, "\">\n");
        if (png && safe_fig_path(report_dir, png)) {
            sb_puts(sb, "<a href=\"");
            esc(sb, png);
            sb_puts(sb, "\">");
        }
        sb_puts(sb, "<img src=\"");
        esc(sb, svg);
        sb_puts(sb, "\" alt=\"");
        esc(sb, jb__json_str(f, "title", name));
        sb_puts(sb, "\">");
        if (png && safe_fig_path(report_dir, png))
            sb_puts(sb, "</a>");
        sb_printf(sb, "\n<figcaption><b>Figure %d.</b> ", shown);
        esc(sb, jb__json_str(f, "title", name));
        sb_puts(sb, ". ");
        esc(sb, jb__json_str(f, "caption", ""));
        if (notes_s && *notes_s) {
            sb_puts(sb, " <span class=\"note\">(");
            esc(sb, notes_s);
            sb_puts(sb, ")</span>");
        }
        sb_puts(sb, "</figcaption>\n</figure>\n");
    }
    if (!shown)
        sb_puts(sb, "<p>No figures were drawn.</p>\n");
    for (size_t i = 0; i < list->n; i++) {
        const struct jb_json *f = list->items[i];
        const struct jb_json *made = jb__json_get(f, "made");
        const char *svg = jb__json_str(f, "svg", NULL);
        int ok = made && made->type == JB_JSON_BOOL && made->boolean;

        if (ok && safe_fig_path(report_dir, svg))
            continue;
        sb_puts(sb, "<p class=\"skipped\">Not drawn: ");
        esc(sb, jb__json_str(f, "title", jb__json_str(f, "name", "a figure")));
        sb_puts(sb, " &mdash; ");
        esc(sb,
            ok ? "its file is missing from fig/" : jb__json_str(f, "reason", "no reason given"));
        sb_puts(sb, "</p>\n");
    }
    sb_puts(sb, "</section>\n");
}

static void table(struct strbuf *sb, const struct figcsv *t, const char *report_dir)
{
    char path[PATH_MAX];
    static const char *const files[] = {"configs.csv", "epochs.csv", "ratios.csv",
                                        "report.json", "summary.md", "fig/figures.json"};
    int first = 1;

    sb_puts(sb, "<section id=\"tables\">\n<h2>Configurations</h2>\n<p>Files: ");
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (snprintf(path, sizeof(path), "%s/%s", report_dir, files[i]) >= (int)sizeof(path) ||
            !fs_exists(path))
            continue;
        sb_printf(sb, "%s<a href=\"%s\">%s</a>", first ? "" : ", ", files[i], files[i]);
        first = 0;
    }
    sb_printf(sb, ".</p>\n<p>%zu configuration%s (configs.csv).</p>\n", t->nrows,
              t->nrows == 1 ? "" : "s");
    sb_puts(sb, "<div class=\"scroll\">\n<table>\n<thead><tr>");
    for (size_t c = 0; c < t->ncols; c++) {
        sb_puts(sb, "<th>");
        esc(sb, t->header[c]);
        sb_puts(sb, "</th>");
    }
    sb_puts(sb, "</tr></thead>\n<tbody>\n");
    for (size_t r = 0; r < t->nrows; r++) {
        sb_puts(sb, "<tr>");
        for (size_t c = 0; c < t->ncols; c++) {
            const char *v = figcsv_cell(t, r, (int)c);
            sb_puts(sb, is_number(v) ? "<td class=\"num\">" : "<td>");
            esc(sb, v);
            sb_puts(sb, "</td>");
        }
        sb_puts(sb, "</tr>\n");
    }
    sb_puts(sb, "</tbody>\n</table>\n</div>\n</section>\n");
}

int html_write(const char *report_dir, char *err, size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    struct jb_json *rep = NULL, *idx = NULL;
    struct figcsv cfg;
    const struct jb_json *sim;
    char path[PATH_MAX], ignore[256];
    char *summary = NULL;
    size_t len = 0;
    int rc = -1;

    memset(&cfg, 0, sizeof(cfg));
    if (snprintf(path, sizeof(path), "%s/report.json", report_dir) >= (int)sizeof(path)) {
        snprintf(err, errlen, "'%s': path too long", report_dir);
        return -1;
    }
    if (load_json(path, &rep, err, errlen) < 0)
        goto out;
    snprintf(path, sizeof(path), "%s/configs.csv", report_dir);
    if (figcsv_load(path, &cfg, err, errlen) < 0)
        goto out;
    snprintf(path, sizeof(path), "%s/fig/figures.json", report_dir);
    if (fs_exists(path) && load_json(path, &idx, err, errlen) < 0)
        goto out;
    snprintf(path, sizeof(path), "%s/summary.md", report_dir);
    if (fs_exists(path) && fs_read_file(path, &summary, &len, ignore, sizeof(ignore)) < 0)
        summary = NULL;

    sb_puts(&sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>joulebench report</title>\n<style>\n");
    sb_puts(&sb, css);
    sb_puts(&sb, "</style>\n</head>\n<body>\n<h1>joulebench report</h1>\n"
                 "<nav><a href=\"#summary\">Summary</a> &middot; <a href=\"#figures\">Figures</a> "
                 "&middot; <a href=\"#tables\">Configurations</a></nav>\n");
    sim = jb__json_get(rep, "simulated");
    if ((sim && sim->type == JB_JSON_BOOL && sim->boolean) ||
        simulated(jb__json_get(rep, "meters"), 0))
        sb_puts(&sb, "<div class=\"banner\" id=\"simulated\">Simulated data: the numbers of this "
                     "report come from a simulated meter or made-up inputs, not from a "
                     "measurement.</div>\n");
    sb_puts(&sb, "<section id=\"summary\">\n<h2>Summary</h2>\n<p>Method: <b>");
    esc(&sb, jb__json_str(rep, "method", "not stated"));
    sb_puts(&sb, "</b></p>\n");
    facts(&sb, rep);
    if (summary)
        markdown(&sb, summary);
    notes(&sb, rep);
    sb_puts(&sb, "</section>\n");
    figures(&sb, report_dir, idx);
    table(&sb, &cfg, report_dir);
    sb_puts(&sb, "<footer>Written by joulebench " JB_VERSION ".</footer>\n</body>\n</html>\n");

    snprintf(path, sizeof(path), "%s/index.html", report_dir);
    if (sb_failed(&sb)) {
        snprintf(err, errlen, "'%s': out of memory", path);
        goto out;
    }
    if (fs_write_atomic(path, sb_str(&sb), sb.len, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    sb_free(&sb);
    jb__json_free(rep);
    jb__json_free(idx);
    figcsv_free(&cfg);
    free(summary);
    return rc;
}
