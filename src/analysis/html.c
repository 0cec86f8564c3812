/*
 * html.c - html_write (see figures.h): report_dir/index.html, one self-contained page that can
 * be mailed as one file (inline CSS, the SVG figures inline, no script, no external address; the
 * PNGs are linked relatively from fig/ where they were drawn).  It shows the provenance (who
 * measured what with which versions, from report.json "provenance") at the top, a banner when
 * the data are simulated, report.json's method, facts and notes, summary.md (a small Markdown
 * subset: headings, pipe tables, paragraphs, **strong**, *emphasis*, `code`, backslash escapes),
 * the five figures under the reference study's numbers (a placeholder saying why for one not
 * drawn), and configs.csv as a table.  Every value from the files is HTML-escaped.  It draws
 * nothing and computes nothing.
 */
#include "analysis/figcsv.h"
#include "analysis/figures.h"
#include "analysis/report.h"

#include "json.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef JB_VERSION
#define JB_VERSION "unknown"
#endif

#define SVG_MAX_BYTES (32u << 20) /* an inlined figure larger than this is linked instead */

static void esc_c(struct strbuf *sb, char c)
{
    switch (c) {
    case '&': sb_puts(sb, "&amp;"); break;
    case '<': sb_puts(sb, "&lt;"); break;
    case '>': sb_puts(sb, "&gt;"); break;
    case '"': sb_puts(sb, "&quot;"); break;
    case '\'': sb_puts(sb, "&#39;"); break;
    default: sb_putc(sb, c);
    }
}

static void esc(struct strbuf *sb, const char *s)
{
    for (; *s; s++)
        esc_c(sb, *s);
}

static void esc_n(struct strbuf *sb, const char *b, const char *e)
{
    for (; b < e; b++)
        esc_c(sb, *b);
}

/* ---- Markdown: enough for summary.md --------------------------------------------------------
 */

static void trim_line(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

static int md_punct(char c)
{
    return c && strchr("\\`*_{}[]()#+-.!|<>&\"'~^$=", c) != NULL;
}

/* The next unescaped occurrence of the marker (len 1 or 2) in [b, e), or NULL.  closing: only
 * one that follows a non-space character (Markdown's right-flanking rule: "a * b" has none). */
static const char *md_find(const char *b, const char *e, const char *mark, size_t len, int closing)
{
    for (const char *p = b; p + len <= e; p++) {
        if (*p == '\\' && p + 1 < e && md_punct(p[1])) {
            p++;
            continue;
        }
        if (!memcmp(p, mark, len) && !(closing && p > b && (p[-1] == ' ' || p[-1] == '\t')))
            return p;
    }
    return NULL;
}

/* Inline Markdown: backslash escapes, `code`, **strong**, *emphasis*; the rest escaped.  '_' is
 * left alone (level names such as batch_size hold it). */
static void md_inline(struct strbuf *sb, const char *b, const char *e, int depth)
{
    while (b < e) {
        const char *close;

        if (*b == '\\' && b + 1 < e && md_punct(b[1])) {
            esc_c(sb, b[1]);
            b += 2;
            continue;
        }
        if (*b == '`' && (close = memchr(b + 1, '`', (size_t)(e - b - 1))) != NULL) {
            sb_puts(sb, "<code>");
            esc_n(sb, b + 1, close);
            sb_puts(sb, "</code>");
            b = close + 1;
            continue;
        }
        if (depth < 3 && b + 2 < e && b[0] == '*' && b[1] == '*' && b[2] != ' ' &&
            (close = md_find(b + 2, e, "**", 2, 1)) != NULL && close > b + 2) {
            sb_puts(sb, "<strong>");
            md_inline(sb, b + 2, close, depth + 1);
            sb_puts(sb, "</strong>");
            b = close + 2;
            continue;
        }
        if (depth < 3 && *b == '*' && b + 1 < e && b[1] != ' ' &&
            (close = md_find(b + 1, e, "*", 1, 1)) != NULL && close > b + 1) {
            sb_puts(sb, "<em>");
            md_inline(sb, b + 1, close, depth + 1);
            sb_puts(sb, "</em>");
            b = close + 1;
            continue;
        }
        esc_c(sb, *b++);
    }
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
    if (b < e && *b == '|')
        b++;
    if (e > b && e[-1] == '|' && !(e - 1 > b && e[-2] == '\\'))
        e--;
    sb_puts(sb, "<tr>");
    while (b <= e) {
        const char *cell = md_find(b, e, "|", 1, 0);
        const char *cb = b, *ce = cell ? cell : e;
        trim_line(&cb, &ce);
        sb_puts(sb, head ? "<th>" : "<td>");
        md_inline(sb, cb, ce, 0);
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
            md_inline(sb, b, e, 0);
            sb_printf(sb, "</h%d>\n", level);
            continue;
        }
        sb_puts(sb, in_par ? "\n" : "<p>");
        in_par = 1;
        md_inline(sb, b, e, 0);
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
    ".banner{background:#fdecee;border:2px solid #b00020;color:#7a0016;padding:.7em 1em;"
    "margin:1em 0;font-weight:bold}\n"
    "dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em}"
    "dl.facts dt{font-weight:bold}dl.facts dd{margin:0}\n"
    "header.prov{background:#f4f6f8;border:1px solid #dde2e6;padding:.4em 1em;margin:.6em 0}\n"
    "div.summary{background:#f9f9f9;border:1px solid #ddd;padding:.2em 1em 1em}\n"
    "figure{margin:1.5em 0;border:1px solid #e2e2e2;padding:.8em}"
    "figure svg{max-width:100%;height:auto;display:block}\n"
    "figcaption{margin-top:.5em;color:#333}.note{color:#666;font-size:.9em}\n"
    "figure.missing{background:#fafafa;border-style:dashed;color:#8a3b00}\n"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;white-space:nowrap}"
    "th{background:#eee;position:sticky;top:0}td.num{text-align:right;"
    "font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#fafafa}\n"
    "code{background:#eef;padding:0 .2em}footer{margin-top:3em;color:#777;font-size:.85em}\n";

static int is_number(const char *s, double *v)
{
    char *end;

    if (!*s)
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*v);
}

/* A path from figures.json that may be read or linked: relative, under fig/, no "..", no
 * character that would need quoting, existing. */
static int safe_fig_path(const char *report_dir, const char *rel, char *path, size_t len)
{
    if (!rel || strncmp(rel, "fig/", 4) != 0 || strstr(rel, "..") || strpbrk(rel, "\"'<>&\\ ?#"))
        return 0;
    if (snprintf(path, len, "%s/%s", report_dir, rel) >= (int)len)
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

/* "a, b, c" of a JSON array of strings; 0 when there is none. */
static int join_strings(struct strbuf *sb, const struct jb_json *a)
{
    int n = 0;

    for (size_t i = 0; a && a->type == JB_JSON_ARRAY && i < a->n; i++) {
        if (a->items[i]->type != JB_JSON_STRING || !a->items[i]->string[0])
            continue;
        if (n++)
            sb_puts(sb, ", ");
        esc(sb, a->items[i]->string);
    }
    return n;
}

/* The provenance block: what made the numbers and the report (report.json "provenance"). */
static void provenance(struct strbuf *sb, const struct jb_json *rep)
{
    static const struct {
        const char *key, *label;
    } rows[] = {{"gpus", "GPUs"},
                {"drivers", "drivers"},
                {"frameworks", "frameworks"},
                {"software", "software"},
                {"hosts", "measured on"},
                {"simulated_meters", "simulated meters"},
                {"run_joulebench_versions", "measured with joulebench"}};
    const struct jb_json *p = jb__json_get(rep, "provenance");
    const char *first, *last;

    sb_puts(sb, "<header class=\"prov\" id=\"provenance\">\n<dl class=\"facts\">\n");
    sb_puts(sb, "<dt>report</dt><dd>written by joulebench ");
    esc(sb, jb__json_str(p, "joulebench_version", JB_VERSION));
    if (jb__json_str(p, "written_utc", NULL)) {
        sb_puts(sb, " on ");
        esc(sb, jb__json_str(p, "written_utc", ""));
    }
    if (jb__json_str(p, "written_on_host", NULL)) {
        sb_puts(sb, " (host ");
        esc(sb, jb__json_str(p, "written_on_host", ""));
        sb_puts(sb, ")");
    }
    sb_puts(sb, "</dd>\n");
    for (size_t i = 0; p && i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct strbuf v = STRBUF_INIT;
        if (join_strings(&v, jb__json_get(p, rows[i].key))) {
            sb_printf(sb, "<dt>%s</dt><dd>", rows[i].label);
            sb_puts(sb, sb_str(&v));
            sb_puts(sb, "</dd>\n");
        }
        sb_free(&v);
    }
    first = jb__json_str(p, "first_start_utc", NULL);
    last = jb__json_str(p, "last_end_utc", NULL);
    if (first || last) {
        sb_puts(sb, "<dt>runs</dt><dd>");
        esc(sb, first ? first : "?");
        sb_puts(sb, " to ");
        esc(sb, last ? last : "?");
        sb_puts(sb, "</dd>\n");
    }
    if (!p)
        sb_puts(sb, "<dt>measurements</dt><dd>report.json has no provenance</dd>\n");
    sb_puts(sb, "</dl>\n</header>\n");
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

/* Appends the SVG file as an inline <svg> element: its XML declaration and namespace dropped
 * (HTML5 needs neither), made to shrink with the page.  0, or -1 when it is not one of ours. */
static int inline_svg(struct strbuf *sb, const char *path)
{
    static const char head[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\"";
    char *text = NULL, ignore[256];
    size_t len = 0;
    const char *s, *end;

    if (fs_read_file(path, &text, &len, ignore, sizeof(ignore)) < 0)
        return -1;
    s = len <= SVG_MAX_BYTES ? strstr(text, head) : NULL;
    end = s ? strstr(s, "</svg>") : NULL;
    if (!s || !end || strstr(s, "<script") || strstr(s, "<foreignObject")) {
        free(text);
        return -1;
    }
    sb_puts(sb, "<svg");
    sb_append(sb, s + sizeof(head) - 1, (size_t)(end - s) - (sizeof(head) - 1));
    sb_puts(sb, "</svg>");
    free(text);
    return 0;
}

static void figures(struct strbuf *sb, const char *report_dir, const struct jb_json *idx)
{
    const struct jb_json *list = jb__json_get(idx, "figures");

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
        const char *title = jb__json_str(f, "title", name);
        int number = (int)jb__json_num(f, "number", (double)i + 1);
        char path[PATH_MAX];
        int ok = made && made->type == JB_JSON_BOOL && made->boolean;
        size_t mark = sb->len;

        sb_puts(sb, "<figure id=\"fig-");
        esc(sb, name);
        sb_puts(sb, "\">\n");
        if (!ok || !safe_fig_path(report_dir, svg, path, sizeof(path)) ||
            inline_svg(sb, path) < 0) {
            /* the figure's place is kept, under its number, saying why it is not there */
            sb->len = mark;
            sb_puts(sb, "<figure class=\"missing\" id=\"fig-");
            esc(sb, name);
            sb_printf(sb, "\">\n<p><b>Figure %d not drawn.</b> ", number);
            esc(sb, title);
            sb_puts(sb, ": ");
            esc(sb, ok ? "its SVG file is missing from fig/ or is not joulebench's"
                       : jb__json_str(f, "reason", "no reason given"));
            sb_puts(sb, "</p>\n</figure>\n");
            continue;
        }
        sb_printf(sb, "\n<figcaption><b>Figure %d.</b> ", number);
        esc(sb, title);
        sb_puts(sb, ". ");
        esc(sb, jb__json_str(f, "caption", ""));
        if (notes_s && *notes_s) {
            sb_puts(sb, " <span class=\"note\">(");
            esc(sb, notes_s);
            sb_puts(sb, ")</span>");
        }
        if (png && safe_fig_path(report_dir, png, path, sizeof(path))) {
            sb_puts(sb, " <a href=\"");
            esc(sb, png);
            sb_puts(sb, "\">PNG</a>");
        } else if (jb__json_str(f, "png_reason", NULL)) {
            sb_puts(sb, " <span class=\"note\">(no PNG: ");
            esc(sb, jb__json_str(f, "png_reason", ""));
            sb_puts(sb, ")</span>");
        }
        if (safe_fig_path(report_dir, jb__json_str(f, "data", NULL), path, sizeof(path))) {
            sb_puts(sb, " <a href=\"");
            esc(sb, jb__json_str(f, "data", ""));
            sb_puts(sb, "\">data (CSV)</a>");
        }
        sb_puts(sb, "</figcaption>\n</figure>\n");
    }
    sb_puts(sb, "</section>\n");
}

static void table(struct strbuf *sb, const struct figcsv *t, const char *report_dir)
{
    char path[PATH_MAX];
    static const char *const files[] = {"configs.csv", "epochs.csv", "ratios.csv",      "runs.csv",
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
    sb_printf(sb,
              ".</p>\n<p>%zu configuration%s (configs.csv; numbers shown to 6 significant "
              "digits, the file has them all).</p>\n",
              t->nrows, t->nrows == 1 ? "" : "s");
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
            double d;
            if (is_number(v, &d)) {
                sb_printf(sb, "<td class=\"num\">%.6g</td>", d);
                continue;
            }
            sb_puts(sb, "<td>");
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
    const struct jb_json *prov;
    char path[PATH_MAX], ignore[256];
    char *summary = NULL;
    size_t len = 0;
    int rc = -1, sim;

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
    sim = figures_report_simulated(rep);
    prov = jb__json_get(rep, "provenance");

    sb_puts(&sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<meta name=\"generator\" content=\"joulebench ");
    esc(&sb, jb__json_str(prov, "joulebench_version", JB_VERSION));
    sb_puts(&sb, "\">\n");
    if (jb__json_str(prov, "written_utc", NULL)) {
        sb_puts(&sb, "<meta name=\"date\" content=\"");
        esc(&sb, jb__json_str(prov, "written_utc", ""));
        sb_puts(&sb, "\">\n");
    }
    {
        struct strbuf d = STRBUF_INIT;
        sb_printf(&d, "joulebench report, method %s", jb__json_str(rep, "method", "not stated"));
        if (sim)
            sb_puts(&d, "; SIMULATED meter: not a measurement");
        sb_puts(&sb, "<meta name=\"description\" content=\"");
        esc(&sb, sb_str(&d));
        sb_puts(&sb, "\">\n");
        sb_free(&d);
    }
    sb_printf(&sb, "<title>joulebench report%s</title>\n<style>\n", sim ? " (simulated)" : "");
    sb_puts(&sb, css);
    sb_puts(&sb, "</style>\n</head>\n<body>\n<h1>joulebench report</h1>\n");
    provenance(&sb, rep);
    if (sim)
        sb_puts(&sb, "<div class=\"banner\" id=\"simulated\" role=\"alert\">SIMULATED meter: the "
                     "numbers of this report come from a simulated meter (or made-up inputs), not "
                     "from a measurement. Every figure and table below is simulated data.</div>\n");
    sb_puts(&sb, "<nav><a href=\"#summary\">Summary</a> &middot; <a href=\"#figures\">Figures</a> "
                 "&middot; <a href=\"#tables\">Configurations</a></nav>\n");
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
    sb_puts(&sb, "<footer>Written by joulebench " JB_VERSION);
    if (sim)
        sb_puts(&sb, " from SIMULATED data");
    sb_puts(&sb, ".</footer>\n</body>\n</html>\n");

    if (sb_failed(&sb)) {
        snprintf(err, errlen, "'%s/index.html': out of memory", report_dir);
        goto out;
    }
    if (report_write(report_dir, "index.html", sb.buf, sb.len, err, errlen) < 0)
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
