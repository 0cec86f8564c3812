/*
 * main.c - the framework-free trainer's loop: the same job as workloads/common/driver.py (data set
 * and weights checked before the device is touched, the same batches in the same order, an
 * evaluation of the test set after every epoch, the same metrics), with the phases and metrics
 * written through libjoulebench's C protocol client.  The device is synchronised before every
 * mark; inside an epoch the host only queues steps (or replays their CUDA graphs).
 *
 * Exit status: 0 done; 2 bad input or no usable GPU, always before the first training step; 1 a
 * failure of the device or its libraries.  Messages: "workloads/native/train: error: ...".
 */
#include "gpu.h"
#include "native.h"

#include "data/npz.h"
#include "joulebench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static struct jb_client *client;

__attribute__((format(printf, 1, 2))) static void error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: error: ", NATIVE_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* A failed protocol write: one warning, then the client is off by itself. */
static void marked(int rc)
{
    if (rc == JB_EIO)
        fprintf(stderr, "joulebench: warning: %s\n", jb_client_errmsg(client));
    else if (rc != 0)
        fprintf(stderr, "%s: internal error: %s\n", NATIVE_PROG, jb_client_errmsg(client));
}

struct bounds {
    int full, rest;        /* batch size, size of the last batch (0: none) */
    size_t n_full;         /* number of full batches */
    size_t steps, trained; /* steps per epoch, images trained per epoch */
};

/* driver.batches(n, batch_size, training=True): the last batch may be smaller; a last batch of
 * one image is left out when there are others (batch norm cannot train on one). */
static struct bounds train_bounds(size_t n, int bs)
{
    struct bounds b = {bs, (int)(n % (size_t)bs), n / (size_t)bs, 0, 0};

    if (b.rest == 1 && b.n_full >= 1)
        b.rest = 0;
    b.steps = b.n_full + (b.rest ? 1 : 0);
    b.trained = b.n_full * (size_t)bs + (size_t)b.rest;
    return b;
}

static int write_check(const char *path, const struct native_model *m, const float *out0,
                       const float *out1, double loss0, double loss1, const float *train_logits,
                       const float *params, const float *stats, const float *grads, int bs,
                       char *err, size_t errlen)
{
    struct npz_writer w;
    uint64_t shape[4] = {(uint64_t)bs, (uint64_t)m->classes};
    unsigned char probs = 0;
    char name[96];

    if (npz_writer_open(&w, path, err, errlen) < 0 ||
        npz_writer_add(&w, "outputs0", "<f4", 4, shape, 2, out0, err, errlen) < 0 ||
        npz_writer_add(&w, "loss0", "<f8", 8, NULL, 0, &loss0, err, errlen) < 0 ||
        npz_writer_add(&w, "outputs1", "<f4", 4, shape, 2, out1, err, errlen) < 0 ||
        npz_writer_add(&w, "loss1", "<f8", 8, NULL, 0, &loss1, err, errlen) < 0 ||
        npz_writer_add(&w, "probs", "|b1", 1, NULL, 0, &probs, err, errlen) < 0 ||
        npz_writer_add(&w, "train_logits0", "<f4", 4, shape, 2, train_logits, err, errlen) < 0)
        return -1;
    for (int i = 0; i < m->n_tensors; i++) {
        const struct native_tensor *t = &m->tensors[i];
        for (int k = 0; k < t->ndim; k++)
            shape[k] = (uint64_t)t->shape[k];
        snprintf(name, sizeof(name), "after1/%s", t->name);
        if (npz_writer_add(&w, name, "<f4", 4, shape, t->ndim,
                           (t->trainable ? params : stats) + t->offset, err, errlen) < 0)
            return -1;
        if (!t->trainable)
            continue;
        snprintf(name, sizeof(name), "grad1/%s", t->name);
        if (npz_writer_add(&w, name, "<f4", 4, shape, t->ndim, grads + t->offset, err, errlen) < 0)
            return -1;
    }
    return npz_writer_commit(&w, err, errlen);
}

/* driver._check: outputs and losses around one SGD step on the first batch; no phases. */
static int check(struct gpu *g, const struct native_args *a, const struct native_model *m,
                 const struct native_data *d, int bs, char *err, size_t errlen)
{
    size_t nl = (size_t)bs * m->classes;
    float *out0 = malloc(nl * 4), *out1 = malloc(nl * 4), *tl = malloc(nl * 4);
    float *params = malloc(m->n_params * 4), *grads = malloc(m->n_params * 4);
    float *stats = malloc(m->n_stats * 4);
    int32_t *ident = malloc((size_t)bs * 4);
    float loss[2];
    int rc = -1;

    if (!out0 || !out1 || !tl || !params || !grads || !stats || !ident) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < bs; i++)
        ident[i] = i;
    (void)d;
    if (gpu_predict(g, 0, 0, (size_t)bs, bs, out0, err, errlen) ||
        gpu_epoch_start(g, ident, (size_t)bs, err, errlen) || gpu_train_step(g, bs, err, errlen) ||
        gpu_epoch_losses(g, &loss[0], 1, err, errlen) ||
        gpu_download(g, params, stats, grads, NULL, tl, err, errlen) ||
        gpu_predict(g, 0, 0, (size_t)bs, bs, out1, err, errlen) ||
        gpu_epoch_start(g, ident, (size_t)bs, err, errlen) || gpu_train_step(g, bs, err, errlen) ||
        gpu_epoch_losses(g, &loss[1], 1, err, errlen))
        goto out;
    if (write_check(a->check_out, m, out0, out1, loss[0], loss[1], tl, params, stats, grads, bs,
                    err, errlen) < 0)
        goto out;
    printf("check: loss before step %.6f, after %.6f -> %s\n", loss[0], loss[1], a->check_out);
    rc = 0;
out:
    free(out0);
    free(out1);
    free(tl);
    free(params);
    free(grads);
    free(stats);
    free(ident);
    return rc;
}

static int info_event(const struct native_args *a, const struct gpu_facts *f,
                      const struct native_data *d, const struct native_model *m)
{
    char cudnn[32], cublas[32], cuda[32], cc[16];
    struct jb_value v[32];
    size_t n = 0;

    snprintf(cudnn, sizeof(cudnn), "%d.%d.%d", f->cudnn_version / 10000,
             f->cudnn_version / 100 % 100, f->cudnn_version % 100);
    snprintf(cublas, sizeof(cublas), "%d.%d.%d", f->cublas_version / 10000,
             f->cublas_version / 100 % 100, f->cublas_version % 100);
    snprintf(cuda, sizeof(cuda), "%d.%d", f->runtime_version / 1000,
             f->runtime_version % 1000 / 10);
    snprintf(cc, sizeof(cc), "%d.%d", f->cc_major, f->cc_minor);
    v[n++] = jb_value_str("framework", "native");
    v[n++] = jb_value_str("framework_version", jb_version());
    v[n++] = jb_value_str("device", f->device);
    v[n++] = jb_value_str("precision", native_precision_name(a->precision));
    v[n++] = jb_value_str("impl", "matched");
    v[n++] = jb_value_str("model", a->model);
    v[n++] = jb_value_str("dataset", a->dataset);
    v[n++] = jb_value_int("batch_size", a->batch_size);
    v[n++] = jb_value_int("epochs", a->epochs);
    v[n++] = jb_value_num("lr", a->lr);
    v[n++] = jb_value_num("momentum", a->momentum);
    v[n++] = jb_value_int("seed", (long long)a->seed);
    v[n++] = jb_value_str("init", a->init);
    v[n++] = jb_value_bool("shuffle", a->shuffle);
    v[n++] = jb_value_str("input_scale", a->raw_pixels ? "raw" : "1/255");
    v[n++] = jb_value_int("num_classes", m->classes);
    v[n++] = jb_value_int("train_images", (long long)d->n_train);
    v[n++] = jb_value_int("test_images", (long long)d->n_test);
    v[n++] = jb_value_bool("data_on_device", 1);
    v[n++] = jb_value_bool("compile", 0);
    v[n++] = jb_value_bool("channels_last", a->nhwc);
    v[n++] = jb_value_str("layout", a->nhwc ? "nhwc" : "nchw");
    v[n++] = jb_value_str("mode", a->graph ? "graph" : "eager");
    v[n++] = jb_value_str("graph_capture", a->graph ? f->capture_mode : "");
    v[n++] = jb_value_str("cudnn_version", cudnn);
    v[n++] = jb_value_str("cublas_version", cublas);
    v[n++] = jb_value_str("cuda_runtime_version", cuda);
    v[n++] = jb_value_str("compute_capability", cc);
    v[n++] = jb_value_str("conv_algo_policy", a->algo == ALGO_FIND ? "find" : "heuristic");
    v[n++] = jb_value_str("conv_algos", f->algos);
    v[n++] = jb_value_num("workspace_mib", (double)f->workspace_bytes / 1048576.0);
    v[n++] = jb_value_str("warm_up", "1 step per batch size in startup, state restored");
    return jb_client_info(client, v, n);
}

int main(int argc, char **argv)
{
    struct native_args a;
    struct native_data d;
    static struct native_model m;
    struct gpu *g = NULL;
    struct gpu_opts o;
    struct gpu_facts facts;
    struct bounds tb;
    float *params = NULL, *stats = NULL, *losses = NULL, *logits = NULL;
    int32_t *order = NULL;
    char err[NATIVE_ERR];
    int rc = EXIT_USAGE, train_sizes[2], eval_sizes[2], n_train_sizes = 0, n_eval_sizes = 0;

    memset(&d, 0, sizeof(d));
    if (native_parse_args(argc, argv, &a, err, sizeof(err)) < 0) {
        fprintf(stderr, "usage: %s --dataset NAME --init FILE [options] (--help)\n", NATIVE_PROG);
        error("%s", err);
        return EXIT_USAGE;
    }
    if (a.help) {
        fputs(native_usage(), stdout);
        return 0;
    }
    if (jb_client_from_env(&client) == JB_EINVAL)
        fprintf(stderr, "joulebench: warning: %s\n", jb_client_errmsg(client));
    if (!client) {
        error("out of memory");
        return 1;
    }
    marked(jb_client_begin(client, "startup", JB_NO_INDEX));

    /* Bad input first, before the device is touched (driver.main's order). */
    if (native_data_load(a.data_dir, a.dataset, a.limit_train, a.limit_test, &d, err, sizeof(err)) <
        0) {
        error("%s", err);
        goto out;
    }
    if (a.batch_size < 2) {
        error("--batch-size must be at least 2: batch norm cannot train on one image");
        goto out;
    }
    if ((size_t)a.batch_size > d.n_train) {
        error("--batch-size %ld is larger than the %zu training images of '%s'%s", a.batch_size,
              d.n_train, a.dataset, a.limit_train ? " (after --limit-train)" : "");
        goto out;
    }
    if (d.n_test == 0) {
        error("data set '%s' has no test images: nothing to evaluate", a.dataset);
        goto out;
    }
    if (native_model_build(&m, a.model, d.num_classes, err, sizeof(err)) < 0) {
        error("%s", err);
        goto out;
    }
    if (!a.init) {
        error("--init FILE is required: the native trainer does not draw numpy's initial weights "
              "itself (make them with: python3 workloads/common/export_init.py --model %s "
              "--classes %d --seed %llu -o FILE)",
              a.model, d.num_classes, a.seed);
        goto out;
    }
    params = malloc(m.n_params * sizeof(float));
    stats = malloc(m.n_stats * sizeof(float));
    if (!params || !stats) {
        error("out of memory");
        goto out;
    }
    if (native_weights_load(a.init, &m, params, stats, err, sizeof(err)) < 0) {
        error("%s", err);
        goto out;
    }

    /* The device. */
    tb = train_bounds(d.n_train, (int)a.batch_size);
    train_sizes[n_train_sizes++] = tb.full;
    if (tb.rest)
        train_sizes[n_train_sizes++] = tb.rest;
    if (d.n_test >= (size_t)a.batch_size)
        eval_sizes[n_eval_sizes++] = (int)a.batch_size;
    if (d.n_test % (size_t)a.batch_size)
        eval_sizes[n_eval_sizes++] = (int)(d.n_test % (size_t)a.batch_size);
    memset(&o, 0, sizeof(o));
    o.precision = a.precision;
    o.algo = a.algo;
    o.graph = a.graph;
    o.workspace_bytes = (size_t)a.workspace_mib << 20;
    o.lr = (float)a.lr;
    o.momentum = (float)a.momentum;
    o.scale_255 = !a.raw_pixels;
    o.batch_size = (int)a.batch_size;
    o.nhwc = a.nhwc;
    o.profile_steps = (int)a.profile_steps;
    {
        int grc = gpu_open(&g, err, sizeof(err));
        if (grc == GPU_OK)
            grc = gpu_build(g, &m, &d, params, stats, &o, train_sizes, n_train_sizes, eval_sizes,
                            n_eval_sizes, err, sizeof(err));
        if (grc != GPU_OK) {
            error("%s", err);
            rc = grc == GPU_EFAIL ? 1 : EXIT_USAGE;
            goto out;
        }
    }
    gpu_get_facts(g, &facts);
    if (facts.profile[0])
        fprintf(stderr, "%s: profile: %s\n", NATIVE_PROG, facts.profile);
    marked(info_event(&a, &facts, &d, &m));
    printf("native %s on %s: matched %s, %s, %zu train / %zu test images, %d classes, batch %ld, "
           "%s%s\n",
           jb_version(), facts.device, a.model, a.dataset, d.n_train, d.n_test, m.classes,
           a.batch_size, native_precision_name(a.precision), a.graph ? ", graph" : "");
    fflush(stdout);
    rc = 1;
    if (a.check_out) {
        marked(jb_client_end(client, "startup", JB_NO_INDEX, NULL));
        if (check(g, &a, &m, &d, (int)a.batch_size, err, sizeof(err)) < 0) {
            error("%s", err);
            goto out;
        }
        rc = 0;
        goto out;
    }
    marked(jb_client_end(client, "startup", JB_NO_INDEX, NULL));

    order = malloc(d.n_train * sizeof(int32_t));
    losses = malloc((tb.steps ? tb.steps : 1) * sizeof(float));
    logits = malloc(d.n_test * (size_t)m.classes * sizeof(float));
    if (!order || !losses || !logits) {
        error("out of memory");
        goto out;
    }
    {
        struct native_rng rng;
        native_rng_seed(&rng, a.seed);
        for (long epoch = 1; epoch <= a.epochs; epoch++) {
            struct native_metrics res;
            struct jb_value mv[5];
            double items = (double)tb.trained, n_test = (double)d.n_test, train_loss;

            if (a.shuffle)
                native_rng_permutation(&rng, order, d.n_train);
            else
                for (size_t i = 0; i < d.n_train; i++)
                    order[i] = (int32_t)i;
            if (gpu_epoch_start(g, order, d.n_train, err, sizeof(err)))
                goto gpu_failed;
            marked(jb_client_begin(client, "epoch", epoch));
            for (size_t s = 0; s < tb.steps; s++)
                if (gpu_train_step(g, s < tb.n_full ? tb.full : tb.rest, err, sizeof(err)))
                    goto gpu_failed;
            if (gpu_sync(g, err, sizeof(err)))
                goto gpu_failed;
            marked(jb_client_end(client, "epoch", epoch, &items));
            if (gpu_epoch_losses(g, losses, tb.steps, err, sizeof(err)))
                goto gpu_failed;
            train_loss = native_mean(losses, tb.steps);
            mv[0] = jb_value_num("loss", train_loss);
            marked(jb_client_metric(client, "epoch", epoch, mv, 1));

            marked(jb_client_begin(client, "eval", epoch));
            if (gpu_predict(g, 1, 0, d.n_test, (int)a.batch_size, logits, err, sizeof(err)))
                goto gpu_failed;
            if (native_metrics_eval(logits, d.test_y, d.n_test, m.classes, &res) < 0) {
                error("out of memory");
                goto out;
            }
            marked(jb_client_end(client, "eval", epoch, &n_test));
            mv[0] = jb_value_num("accuracy", res.accuracy);
            mv[1] = jb_value_num("precision", res.precision);
            mv[2] = jb_value_num("recall", res.recall);
            mv[3] = jb_value_num("f1", res.f1);
            mv[4] = jb_value_num("loss", res.loss);
            marked(jb_client_metric(client, "eval", epoch, mv, 5));
            printf("epoch %ld: train loss %.4f, test loss %.4f, accuracy %.4f, precision %.4f, "
                   "recall %.4f, f1 %.4f\n",
                   epoch, train_loss, res.loss, res.accuracy, res.precision, res.recall, res.f1);
            fflush(stdout);
        }
    }
    rc = 0;
    goto out;
gpu_failed:
    error("%s", err);
    rc = 1;
out:
    gpu_close(g);
    native_data_free(&d);
    free(params);
    free(stats);
    free(order);
    free(losses);
    free(logits);
    jb_client_free(client);
    return rc;
}
