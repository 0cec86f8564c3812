/*
 * figures.c - figures_write (see figures.h): reads report.json and configs.csv, sorts the levels
 * into roles (colour, grouping, facets), lays out the facet grid, has the figure files draw, and
 * writes fig/figures.json.  It computes no statistics: every number drawn is read from the
 * report's tables.  The drawing itself is in figures_bars.c and figures_timeseries.c, over the
 * frame of figures_frame.c and the canvas of plot.h.
 */
#include "analysis/figures.h"
#include "analysis/figures_int.h"
#include "analysis/report.h"

#include "json.h"
#include "util/fsutil.h"
#include "util/jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void ctx_note(struct fig_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctx_note(struct fig_ctx *c, const char *fmt, ...)
{
    char buf[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sb_puts(&c->notes, buf);
    sb_putc(&c->notes, '\n');
}

static int join(char *out, size_t outlen, const char *a, const char *b)
{
    if (snprintf(out, outlen, "%s/%s", a, b) >= (int)outlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* ---- levels --------------------------------------------------------------------------------- */

static int is_data_column(const char *h)
{
    static const char *const seed[] = {"total_energy_kJ", "mean_power_W", "mean_gpu_util_pct",
                                       "final_accuracy",  "total_time_s", "n"};
    static const char *const suffix[] = {"_mean", "_sd", "_ci95", "_min", "_max", "_n"};
    size_t len = strlen(h);

    for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++)
        if (strcmp(h, seed[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        size_t sl = strlen(suffix[i]);
        if (len > sl && strcmp(h + len - sl, suffix[i]) == 0)
            return 1;
    }
    return 0;
}

static int add_level(struct fig_ctx *c, const char *name, const struct jb_json *values)
{
    struct fig_level *l;
    int col = figcsv_col(&c->cfg, name);

    if (col < 0) {
        ctx_note(c, "level '%s' of report.json is not a column of configs.csv: not drawn", name);
        return 0;
    }
    for (size_t i = 0; i < c->nlev; i++)
        if (strcmp(c->lev[i].name, name) == 0)
            return 0;
    if (c->nlev == FIG_MAX_LEVELS) {
        ctx_note(c, "more than %d levels: level '%s' not drawn", FIG_MAX_LEVELS, name);
        return 0;
    }
    l = &c->lev[c->nlev];
    l->name = strdup(name);
    if (!l->name)
        return -1;
    l->col = col;
    l->nval = 0;
    l->val = NULL;
    c->nlev++;
    /* the order that report.json gives, if any, seeds the value list; unused values are dropped
     * later */
    if (values && values->type == JB_JSON_ARRAY) {
        for (size_t i = 0; i < values->n; i++) {
            const struct jb_json *v = values->items[i];
            char num[64], *s;
            char **nv;

            if (v->type == JB_JSON_STRING)
                s = strdup(v->string);
            else if (v->type == JB_JSON_NUMBER) {
                snprintf(num, sizeof(num), "%.15g", v->number);
                s = strdup(num);
            } else
                continue;
            nv = s ? realloc(l->val, (l->nval + 1) * sizeof(*nv)) : NULL;
            if (!nv) {
                free(s);
                return -1;
            }
            l->val = nv;
            l->val[l->nval++] = s;
        }
    }
    return 0;
}

static int levels_from_report(struct fig_ctx *c)
{
    const struct jb_json *lv = jb__json_get(c->report, "levels");

    if (!lv)
        return 1;
    if (lv->type == JB_JSON_OBJECT) {
        for (size_t i = 0; i < lv->n; i++)
            if (add_level(c, lv->keys[i], lv->items[i]) < 0)
                return -1;
        return 0;
    }
    if (lv->type != JB_JSON_ARRAY)
        return 1;
    for (size_t i = 0; i < lv->n; i++) {
        const struct jb_json *it = lv->items[i];
        if (it->type == JB_JSON_STRING) {
            if (add_level(c, it->string, NULL) < 0)
                return -1;
        } else if (it->type == JB_JSON_OBJECT && jb__json_str(it, "name", NULL)) {
            if (add_level(c, jb__json_str(it, "name", NULL), jb__json_get(it, "values")) < 0)
                return -1;
        }
    }
    return 0;
}

static int value_index(const struct fig_level *l, const char *v)
{
    for (size_t i = 0; i < l->nval; i++)
        if (strcmp(l->val[i], v) == 0)
            return (int)i;
    return -1;
}

static int parse_plain_number(const char *s, double *v)
{
    char *end;

    if (!*s)
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*v);
}

/* Values in display order: report.json's order where it gives one (values it lists but configs.csv
 * lacks are dropped), else numeric order when every value is a number, else first appearance. */
static int collect_values(struct fig_ctx *c, struct fig_level *l)
{
    size_t seeded = l->nval, n = 0;
    char **seen = malloc((c->cfg.nrows + seeded + 1) * sizeof(*seen));
    int numeric = 1;

    if (!seen)
        return -1;
    for (size_t r = 0; r < c->cfg.nrows; r++) {
        const char *v = figcsv_cell(&c->cfg, r, l->col);
        int dup = 0;
        for (size_t i = 0; i < n && !dup; i++)
            dup = strcmp(seen[i], v) == 0;
        if (!dup)
            seen[n++] = (char *)v;
    }
    if (seeded) {
        /* keep seeded values that occur, in their order, then the others */
        char **out = malloc((n + 1) * sizeof(*out));
        size_t k = 0;
        if (!out) {
            free(seen);
            return -1;
        }
        for (size_t i = 0; i < seeded; i++)
            for (size_t j = 0; j < n; j++)
                if (seen[j] && strcmp(seen[j], l->val[i]) == 0) {
                    out[k++] = seen[j];
                    seen[j] = NULL;
                    break;
                }
        for (size_t j = 0; j < n; j++)
            if (seen[j])
                out[k++] = seen[j];
        for (size_t i = 0; i < seeded; i++)
            free(l->val[i]);
        free(l->val);
        l->val = NULL;
        l->nval = 0;
        free(seen);
        seen = out;
        n = k;
    } else {
        for (size_t i = 0; i < n; i++) {
            double d;
            if (!parse_plain_number(seen[i], &d))
                numeric = 0;
        }
        if (numeric) {
            /* insertion sort: a handful of values */
            for (size_t i = 1; i < n; i++) {
                char *x = seen[i];
                double dx = 0, dy = 0;
                size_t j = i;
                parse_plain_number(x, &dx);
                while (j > 0 && (parse_plain_number(seen[j - 1], &dy), dy > dx)) {
                    seen[j] = seen[j - 1];
                    j--;
                }
                seen[j] = x;
            }
        }
    }
    l->val = calloc(n ? n : 1, sizeof(*l->val));
    if (!l->val) {
        free(seen);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        l->val[i] = strdup(seen[i]);
        if (!l->val[i]) {
            free(seen);
            return -1;
        }
        l->nval++;
    }
    free(seen);
    return 0;
}

static const char *shown(const char *v)
{
    return v[0] ? v : "(none)";
}

static int setup_levels(struct fig_ctx *c, char *err, size_t errlen)
{
    size_t nr = c->cfg.nrows;
    int rc = levels_from_report(c);

    if (rc < 0)
        goto oom;
    if (c->nlev == 0) {
        /* no usable "levels" in report.json: the leading columns that are not data */
        for (size_t i = 0; i < c->cfg.ncols && !is_data_column(c->cfg.header[i]); i++)
            if (add_level(c, c->cfg.header[i], NULL) < 0)
                goto oom;
        if (c->nlev)
            ctx_note(c, "report.json names no levels: the leading columns of configs.csv are "
                        "taken as levels");
    }
    if (c->nlev == 0) {
        /* A grid without levels has one configuration: a stand-in level with one value, the
         * empty cell that a column of -1 reads as, draws it as one bar. */
        struct fig_level *l = &c->lev[0];
        l->name = strdup("configuration");
        if (!l->name)
            goto oom;
        l->col = -1;
        l->nval = 0;
        l->val = NULL;
        c->nlev = 1;
        c->no_levels = 1;
    }
    for (size_t i = 0; i < c->nlev; i++)
        if (collect_values(c, &c->lev[i]) < 0)
            goto oom;
    c->vidx = calloc(nr * c->nlev + 1, sizeof(*c->vidx));
    c->panel_of_row = calloc(nr + 1, sizeof(*c->panel_of_row));
    if (!c->vidx || !c->panel_of_row)
        goto oom;
    for (size_t r = 0; r < nr; r++)
        for (size_t l = 0; l < c->nlev; l++)
            c->vidx[r * c->nlev + l] =
                value_index(&c->lev[l], figcsv_cell(&c->cfg, r, c->lev[l].col));

    c->colour = 0;
    for (size_t i = 0; i < c->nlev; i++)
        if (strcmp(c->lev[i].name, "framework") == 0)
            c->colour = (int)i;
    c->group = -1;
    for (size_t i = 0; i < c->nlev; i++)
        if (strcmp(c->lev[i].name, "batch_size") == 0 && (int)i != c->colour)
            c->group = (int)i;
    for (size_t i = c->nlev; c->group < 0 && i-- > 0;)
        if ((int)i != c->colour)
            c->group = (int)i;
    c->nfacet = 0;
    c->facet_desc[0] = '\0';
    for (size_t i = 0; i < c->nlev; i++) {
        if ((int)i == c->colour || (int)i == c->group)
            continue;
        c->facet[c->nfacet++] = (int)i;
        snprintf(c->facet_desc + strlen(c->facet_desc),
                 sizeof(c->facet_desc) - strlen(c->facet_desc), "%s%s", c->nfacet > 1 ? " / " : "",
                 c->lev[i].name);
    }
    return 0;
oom:
    snprintf(err, errlen, "'%s/configs.csv': out of memory", c->report_dir);
    return -1;
}

static char *panel_title_of_row(struct fig_ctx *c, size_t r)
{
    struct strbuf sb = STRBUF_INIT;

    for (size_t i = 0; i < c->nfacet; i++) {
        const struct fig_level *l = &c->lev[c->facet[i]];
        if (i)
            sb_puts(&sb, " / ");
        sb_puts(&sb, shown(l->val[c->vidx[r * c->nlev + (size_t)c->facet[i]]]));
    }
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return NULL;
    }
    if (!sb.buf)
        return strdup("");
    return sb.buf;
}

/* Lays out the facet panels: a rows x cols grid of the two facet levels' values when there are
 * two, else the combinations that occur, wrapped.  Returns 1 when there are too many to draw. */
static int setup_panels(struct fig_ctx *c, char *err, size_t errlen)
{
    size_t nr = c->cfg.nrows, nl = c->nlev;

    if (c->nfacet == 2) {
        c->rows = c->lev[c->facet[0]].nval;
        c->cols = c->lev[c->facet[1]].nval;
        c->npanels = c->rows * c->cols;
        if (c->npanels > FIG_MAX_PANELS)
            return 1;
        for (size_t r = 0; r < nr; r++)
            c->panel_of_row[r] = c->vidx[r * nl + (size_t)c->facet[0]] * (int)c->cols +
                                 c->vidx[r * nl + (size_t)c->facet[1]];
    } else {
        /* distinct combinations, in the order of their value indexes */
        int *key = calloc(FIG_MAX_PANELS * FIG_MAX_LEVELS, sizeof(*key));
        size_t n = 0;

        if (!key)
            goto oom;
        for (size_t r = 0; r < nr; r++) {
            int rk[FIG_MAX_LEVELS] = {0};
            size_t p, pos;

            for (size_t i = 0; i < c->nfacet; i++)
                rk[i] = c->vidx[r * nl + (size_t)c->facet[i]];
            for (p = 0; p < n; p++)
                if (memcmp(key + p * FIG_MAX_LEVELS, rk, c->nfacet * sizeof(int)) == 0)
                    break;
            if (p < n)
                continue;
            if (n == FIG_MAX_PANELS) {
                free(key);
                c->npanels = n + 1;
                return 1;
            }
            for (pos = n; pos > 0; pos--) {
                int less = 0;
                for (size_t i = 0; i < c->nfacet; i++) {
                    int a = key[(pos - 1) * FIG_MAX_LEVELS + i];
                    if (rk[i] != a) {
                        less = rk[i] < a;
                        break;
                    }
                }
                if (!less)
                    break;
                memcpy(key + pos * FIG_MAX_LEVELS, key + (pos - 1) * FIG_MAX_LEVELS,
                       FIG_MAX_LEVELS * sizeof(int));
            }
            memcpy(key + pos * FIG_MAX_LEVELS, rk, c->nfacet * sizeof(int));
            n++;
        }
        for (size_t r = 0; r < nr; r++) {
            int rk[FIG_MAX_LEVELS] = {0};
            for (size_t i = 0; i < c->nfacet; i++)
                rk[i] = c->vidx[r * nl + (size_t)c->facet[i]];
            for (size_t p = 0; p < n; p++)
                if (memcmp(key + p * FIG_MAX_LEVELS, rk, c->nfacet * sizeof(int)) == 0)
                    c->panel_of_row[r] = (int)p;
        }
        free(key);
        c->npanels = n ? n : 1;
        c->cols = c->npanels <= 4 ? c->npanels : (size_t)ceil(sqrt((double)c->npanels));
        c->rows = (c->npanels + c->cols - 1) / c->cols;
    }
    for (size_t r = 0; r < nr; r++) {
        struct fig_panel *p = &c->panel[c->panel_of_row[r]];
        if (!p->title) {
            p->title = panel_title_of_row(c, r);
            if (!p->title)
                goto oom;
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "'%s/configs.csv': out of memory", c->report_dir);
    return -1;
}

/* ---- figures.json -----------------------------------------------------------------------------
 */

static int write_index(struct fig_ctx *c, struct fig_result *res, size_t nres, char *err,
                       size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    struct jsonw w;
    int rc = -1;

    jw_init(&w, &sb, 1);
    jw_object_begin(&w);
    jw_key(&w, "figures");
    jw_array_begin(&w);
    for (size_t i = 0; i < nres; i++) {
        struct fig_result *r = &res[i];
        char f[128];

        jw_object_begin(&w);
        jw_kv_string(&w, "name", r->name);
        jw_kv_int(&w, "number", r->number);
        jw_kv_bool(&w, "made", r->made);
        jw_kv_string(&w, "title", r->title);
        if (r->made) {
            jw_kv_string(&w, "caption", r->caption);
            snprintf(f, sizeof(f), "fig/%s.svg", r->name);
            jw_kv_string(&w, "svg", f);
            jw_key(&w, "png");
            if (r->png_made) {
                snprintf(f, sizeof(f), "fig/%s.png", r->name);
                jw_string(&w, f);
            } else {
                jw_null(&w);
                jw_kv_string(&w, "png_reason", r->png_reason);
            }
            if (r->data_made) {
                snprintf(f, sizeof(f), "fig/%s.csv", r->name);
                jw_kv_string(&w, "data", f);
            }
        } else {
            jw_kv_string(&w, "reason", r->reason);
        }
        if (r->notes.len)
            jw_kv_string(&w, "notes", sb_str(&r->notes));
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_kv_bool(&w, "simulated", c->simulated);
    if (c->nlev && !c->no_levels) {
        jw_key(&w, "roles");
        jw_object_begin(&w);
        jw_kv_string(&w, "colour", c->lev[c->colour].name);
        if (c->group >= 0)
            jw_kv_string(&w, "group", c->lev[c->group].name);
        jw_key(&w, "facets");
        jw_array_begin(&w);
        for (size_t i = 0; i < c->nfacet; i++)
            jw_string(&w, c->lev[c->facet[i]].name);
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_kv_string(&w, "notes", sb_str(&c->notes));
    jw_object_end(&w);
    sb_putc(&sb, '\n');
    if (sb_failed(&sb)) {
        snprintf(err, errlen, "'%s/figures.json': out of memory", c->figdir);
        goto out;
    }
    rc = report_write(c->figdir, "figures.json", sb.buf, sb.len, err, errlen);
out:
    sb_free(&sb);
    return rc;
}

/* ---- entry point ------------------------------------------------------------------------------
 */

static void ctx_free(struct fig_ctx *c)
{
    figcsv_free(&c->cfg);
    jb__json_free(c->report);
    for (size_t i = 0; i < c->nlev; i++) {
        for (size_t j = 0; j < c->lev[i].nval; j++)
            free(c->lev[i].val[j]);
        free(c->lev[i].val);
        free(c->lev[i].name);
    }
    for (size_t i = 0; i < FIG_MAX_PANELS; i++)
        free(c->panel[i].title);
    free(c->vidx);
    free(c->panel_of_row);
    sb_free(&c->notes);
}

static int load_report(struct fig_ctx *c, char *err, size_t errlen)
{
    char path[PATH_MAX], msg[256];
    char *text = NULL;
    size_t len = 0;

    if (join(path, sizeof(path), c->report_dir, "report.json") < 0) {
        snprintf(err, errlen, "'%s/report.json': path too long", c->report_dir);
        return -1;
    }
    if (fs_read_file(path, &text, &len, err, errlen) < 0)
        return -1;
    if (jb__json_parse(text, len, &c->report, msg, sizeof(msg)) < 0) {
        snprintf(err, errlen, "'%s': %s", path, msg);
        free(text);
        return -1;
    }
    free(text);
    if (c->report->type != JB_JSON_OBJECT) {
        snprintf(err, errlen, "'%s': not a JSON object", path);
        return -1;
    }
    return 0;
}

/* 1 when report.json says the data are simulated, or lists a simulated meter ("sim0"). */
static int simulated_meter(const struct jb_json *j, int depth)
{
    if (!j || depth > 4)
        return 0;
    if (j->type == JB_JSON_STRING)
        return strncmp(j->string, "sim", 3) == 0;
    if (j->type == JB_JSON_ARRAY || j->type == JB_JSON_OBJECT)
        for (size_t i = 0; i < j->n; i++)
            if (simulated_meter(j->items[i], depth + 1))
                return 1;
    return 0;
}

int figures_report_simulated(const struct jb_json *report)
{
    const struct jb_json *sim = jb__json_get(report, "simulated");

    return (sim && sim->type == JB_JSON_BOOL && sim->boolean) ||
           simulated_meter(jb__json_get(report, "meters"), 0);
}

static void status(struct fig_status *st, const struct fig_result *res)
{
    size_t len = 0;

    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < FIG_NFIGS; i++) {
        const struct fig_result *r = &res[i];
        if (r->made) {
            st->drawn++;
            if (!r->png_made) {
                st->png_missing++;
                snprintf(st->png_reason, sizeof(st->png_reason), "%s", r->png_reason);
            }
            continue;
        }
        st->not_drawn++;
        if (len < sizeof(st->not_drawn_list))
            len += (size_t)snprintf(st->not_drawn_list + len, sizeof(st->not_drawn_list) - len,
                                    "%sFig. %d (%s): %s", len ? "; " : "", r->number, r->name,
                                    r->reason);
    }
}

int figures_write(const char *report_dir, const char *results_dir, unsigned flags,
                  struct fig_status *st, char *err, size_t errlen)
{
    static const char *const names[FIG_NFIGS] = {"timeseries", "energy", "power", "gpu_util",
                                                 "accuracy"};
    static const char *const titles[FIG_NFIGS] = {"Power, temperature and utilisation over time",
                                                  "Energy per configuration", "Average power",
                                                  "Average GPU utilisation", "Final test accuracy"};
    struct fig_ctx c;
    struct fig_result res[FIG_NFIGS];
    char path[PATH_MAX];
    int rc = -1, too_many = 0;

    memset(&c, 0, sizeof(c));
    memset(res, 0, sizeof(res));
    for (size_t i = 0; i < FIG_NFIGS; i++) {
        res[i].name = names[i];
        res[i].number = (int)i + 1; /* the reference study's numbering: Fig. 1 .. Fig. 5 */
        snprintf(res[i].title, sizeof(res[i].title), "%s", titles[i]);
    }
    c.report_dir = report_dir;
    c.results_dir = results_dir;
    if (join(c.figdir, sizeof(c.figdir), report_dir, "fig") < 0) {
        snprintf(err, errlen, "'%s': path too long", report_dir);
        return -1;
    }
    if (load_report(&c, err, errlen) < 0)
        goto out;
    c.simulated = figures_report_simulated(c.report);
    c.png = !(flags & FIG_NO_PNG) && plot_png_available();
    if (flags & FIG_NO_PNG)
        snprintf(c.png_reason, sizeof(c.png_reason), "not asked for (--no-png)");
    else if (!plot_png_available())
        snprintf(c.png_reason, sizeof(c.png_reason),
                 "this joulebench was built without cairo (cmake -DJB_WITH_CAIRO=ON with "
                 "libcairo2-dev draws PNGs)");
    if (join(path, sizeof(path), report_dir, "configs.csv") < 0) {
        snprintf(err, errlen, "'%s/configs.csv': path too long", report_dir);
        goto out;
    }
    if (figcsv_load(path, &c.cfg, err, errlen) < 0)
        goto out;
    if (fs_mkdir_p(c.figdir, err, errlen) < 0)
        goto out;
    if (flags & FIG_NO_DRAW) {
        for (size_t i = 0; i < FIG_NFIGS; i++)
            snprintf(res[i].reason, sizeof(res[i].reason), "not asked for (--no-figures)");
        goto index;
    }
    if (setup_levels(&c, err, errlen) < 0)
        goto out;
    too_many = setup_panels(&c, err, errlen);
    if (too_many < 0)
        goto out;

    if (fig_timeseries_draw(&c, &res[0], err, errlen) < 0)
        goto out;
    if (c.cfg.nrows == 0) {
        for (size_t i = 1; i < FIG_NFIGS; i++)
            snprintf(res[i].reason, sizeof(res[i].reason), "configs.csv has no configuration");
    } else if (too_many) {
        for (size_t i = 1; i < FIG_NFIGS; i++)
            snprintf(res[i].reason, sizeof(res[i].reason),
                     "too many facets (%zu combinations of %s; at most %d are drawn)", c.npanels,
                     c.facet_desc, FIG_MAX_PANELS);
    } else if (fig_bars_draw_all(&c, &res[1], FIG_NFIGS - 1, err, errlen) < 0) {
        goto out;
    }
index:
    /* a figure not drawn this time must not linger from an earlier report in the same folder */
    for (size_t i = 0; i < FIG_NFIGS; i++) {
        if (!res[i].made &&
            snprintf(path, sizeof(path), "%s/%s.svg", c.figdir, res[i].name) < (int)sizeof(path))
            unlink(path);
        if (!res[i].png_made &&
            snprintf(path, sizeof(path), "%s/%s.png", c.figdir, res[i].name) < (int)sizeof(path))
            unlink(path);
        if (!res[i].data_made &&
            snprintf(path, sizeof(path), "%s/%s.csv", c.figdir, res[i].name) < (int)sizeof(path))
            unlink(path);
    }
    if (write_index(&c, res, FIG_NFIGS, err, errlen) < 0)
        goto out;
    if (st)
        status(st, res);
    rc = 0;
out:
    for (size_t i = 0; i < FIG_NFIGS; i++)
        sb_free(&res[i].notes);
    ctx_free(&c);
    return rc;
}
