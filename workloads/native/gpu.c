/*
 * gpu.c - the native trainer on the device (see gpu.h): the --impl matched ResNet of native.h in
 * NCHW float32, convolutions, batch norm and max pooling through cuDNN's legacy API (the calls
 * PyTorch itself makes for batch norm), the fc layer through cuBLAS, and kernels.cu for the rest.
 *
 * Memory: one allocation each for the parameters, their gradients, the momentum, the running
 * statistics, the saved batch statistics, the activations and the workspace; every pointer is
 * fixed after gpu_build, which is what lets a CUDA graph replay a step.  Gradients are written,
 * never accumulated (cuDNN and cuBLAS with beta 0), so nothing is zeroed between steps.
 *
 * One training step, for a batch of n: gather (uint8 -> float / 255, rows from the epoch's order
 * at the device counter) -> stem (conv, BN, ReLU, max pool) -> bottleneck blocks -> average
 * pool (an alias when the last feature map is 1x1, as on 32x32 images) -> fc -> loss and its
 * gradient (one kernel, which also stores the loss and advances the counter) -> the backward
 * pass in reverse -> one SGD kernel over the parameter arena.  Batch norm in training mode uses
 * the batch's biased variance to normalise and updates the running statistics with momentum 0.1
 * and the unbiased variance, which is PyTorch's convention and cuDNN's.
 *
 * --precision bf16: the convolutions and the fc layer take bfloat16 copies of their inputs and of
 * the weights (one cast kernel over the parameter arena per step) and accumulate in float32; the
 * results, batch norm, the loss, the gradients of the weights and the update stay float32.
 */
#include "gpu.h"

#include "kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLANS 8
#define MAX_CONVS (1 + 4 * NATIVE_MAX_BLOCKS)
#define MAX_ALGOS 256
#define MAX_DESCS 256
#define N_PERF 16

struct conv_algo {
    int n, cin, h, w, cout, k, stride, pad; /* the key */
    int oh, ow;
    int backward; /* backward algorithms selected too */
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd; /* math type set by the precision */
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    size_t ws[3];
};

struct tdesc {
    int n, c, h, w;
    cudnnDataType_t type;
    cudnnTensorDescriptor_t d;
};

struct plan {
    int n;
    int train;
    struct conv_algo *conv[MAX_CONVS];
    cudaGraph_t graph;
    cudaGraphExec_t exec;
};

struct blockbuf {
    float *t1, *r1, *t2, *r2, *t3, *td, *y;
    uint16_t *xb[4]; /* bf16: the inputs of conv1..3 and the downsample conv, for wgrad */
    int hi, wi, ho, wo;
};

struct gpu {
    char err[512];
    cudaStream_t stream;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    struct gpu_facts facts;
    struct gpu_opts o;
    const struct native_model *m;
    int classes, h0, w0;
    size_t n_train, n_test;

    /* arenas */
    float *params, *grads, *momentum, *stats, *saved;
    size_t saved_off[MAX_CONVS];
    uint16_t *params_bf16;
    unsigned char *arena; /* activations and scratch */
    void *workspace;
    size_t workspace_bytes;
    void *blas_workspace;

    /* data */
    uint8_t *train_x, *test_x;
    int32_t *train_y, *test_y, *order;
    int *counter;
    float *losses;
    size_t max_steps;

    /* activations, sized for the largest batch */
    int nmax;
    float *x0;
    int32_t *labels;
    float *c1, *s1, *p;
    int h1, w1, h2, w2;
    struct blockbuf bb[NATIVE_MAX_BLOCKS];
    float *tmp_a, *tmp_b, *feat, *logits, *dlogits, *dfeat, *eval_logits;
    float *gp, *gq, *s_1, *s_2, *s_3;
    uint16_t *xb_stem, *act_b16, *dy_b16, *dx_b16, *feat_b16, *dl_b16;
    uint16_t *wgrad_b16;
    int hf, wf; /* last feature map */
    size_t max_act;

    cudnnPoolingDescriptor_t pool;
    struct tdesc descs[MAX_DESCS];
    int n_descs;
    cudnnTensorDescriptor_t bn_descs[8]; /* by channel count: 64, 128, 256, 512, 1024, 2048 */
    int bn_c[8], n_bn;
    struct conv_algo algos[MAX_ALGOS];
    int n_algos;
    struct plan plans[MAX_PLANS];
    int n_plans;
    int last_train_n;

    cudnnTensorFormat_t fmt;
    cudnnBatchNormMode_t bn_train_mode;

    /* profiling (opts.profile_steps): an event at the start of every operation */
    int prof;
    cudaEvent_t *ev;
    int *ev_cat, n_ev, cap_ev;
};

enum {
    P_GATHER,
    P_CONV_FWD,
    P_CONV_DGRAD,
    P_CONV_WGRAD,
    P_BN_FWD,
    P_BN_BWD,
    P_POOL,
    P_ELTWISE,
    P_FC,
    P_LOSS,
    P_SGD,
    P_CAST,
    P_N
};
static const char *const prof_names[P_N] = {"gather", "conv_fwd", "conv_dgrad", "conv_wgrad",
                                            "bn_fwd", "bn_bwd",   "pool",       "eltwise",
                                            "fc",     "loss",     "sgd",        "bf16_cast"};

static void prof(struct gpu *g, int cat)
{
    if (!g->prof || g->n_ev >= g->cap_ev)
        return;
    cudaEventRecord(g->ev[g->n_ev], g->stream);
    g->ev_cat[g->n_ev++] = cat;
}

static const float one = 1.0f, zero = 0.0f;

__attribute__((format(printf, 2, 3))) static int fail(struct gpu *g, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(g->err, sizeof(g->err), fmt, ap);
    va_end(ap);
    return GPU_EFAIL;
}

#define CUDA(call)                                                                                 \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess)                                                                     \
            return fail(g, "%s failed: %s (gpu.c:%d)", #call, cudaGetErrorString(e_), __LINE__);   \
    } while (0)
#define DNN(call)                                                                                  \
    do {                                                                                           \
        cudnnStatus_t e_ = (call);                                                                 \
        if (e_ != CUDNN_STATUS_SUCCESS)                                                            \
            return fail(g, "%s failed: %s (gpu.c:%d)", #call, cudnnGetErrorString(e_), __LINE__);  \
    } while (0)
#define BLAS(call)                                                                                 \
    do {                                                                                           \
        cublasStatus_t e_ = (call);                                                                \
        if (e_ != CUBLAS_STATUS_SUCCESS)                                                           \
            return fail(g, "%s failed: %s (gpu.c:%d)", #call, cublasGetStatusString(e_),           \
                        __LINE__);                                                                 \
    } while (0)
#define KERN(call)                                                                                 \
    do {                                                                                           \
        int e_ = (call);                                                                           \
        if (e_)                                                                                    \
            return fail(g, "%s failed: %s (gpu.c:%d)", #call, cudaGetErrorString((cudaError_t)e_), \
                        __LINE__);                                                                 \
    } while (0)
#define KERNP(cat, call)                                                                           \
    do {                                                                                           \
        prof(g, cat);                                                                              \
        KERN(call);                                                                                \
    } while (0)
#define DNNP(cat, call)                                                                            \
    do {                                                                                           \
        prof(g, cat);                                                                              \
        DNN(call);                                                                                 \
    } while (0)
#define BLASP(cat, call)                                                                           \
    do {                                                                                           \
        prof(g, cat);                                                                              \
        BLAS(call);                                                                                \
    } while (0)
#define TRY(call)                                                                                  \
    do {                                                                                           \
        int r_ = (call);                                                                           \
        if (r_)                                                                                    \
            return r_;                                                                             \
    } while (0)

static int copy_err(const struct gpu *g, int rc, char *err, size_t errlen)
{
    if (rc)
        snprintf(err, errlen, "%s", g->err);
    return rc;
}

/* ---- setup ------------------------------------------------------------------------------ */

int gpu_open(struct gpu **out, char *err, size_t errlen)
{
    struct cudaDeviceProp prop;
    struct gpu *g;
    cudaError_t e;
    int count = 0;
    size_t blas_ws = 32u << 20;

    *out = NULL;
    e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        snprintf(err, errlen,
                 "no CUDA device: %s (the native trainer needs an NVIDIA GPU and its driver)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return GPU_ENODEV;
    }
    g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return GPU_ENOMEM;
    }
    *out = g;
    if ((e = cudaSetDevice(0)) != cudaSuccess || (e = cudaGetDeviceProperties(&prop, 0))) {
        snprintf(err, errlen, "cannot use CUDA device 0: %s", cudaGetErrorString(e));
        return GPU_ENODEV;
    }
    snprintf(g->facts.device, sizeof(g->facts.device), "%s", prop.name);
    g->facts.cc_major = prop.major;
    g->facts.cc_minor = prop.minor;
    g->facts.memory_mib = (double)prop.totalGlobalMem / (1024.0 * 1024.0);
    cudaRuntimeGetVersion(&g->facts.runtime_version);
    cudaDriverGetVersion(&g->facts.driver_version);
    g->facts.cudnn_version = (int)cudnnGetVersion();
#define OPEN_CHECK(cond, what)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(err, errlen, "cannot set up the GPU: %s failed", what);                       \
            return GPU_EFAIL;                                                                      \
        }                                                                                          \
    } while (0)
    OPEN_CHECK(cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking) == cudaSuccess,
               "cudaStreamCreate");
    OPEN_CHECK(cudnnCreate(&g->dnn) == CUDNN_STATUS_SUCCESS, "cudnnCreate");
    OPEN_CHECK(cudnnSetStream(g->dnn, g->stream) == CUDNN_STATUS_SUCCESS, "cudnnSetStream");
    OPEN_CHECK(cublasCreate(&g->blas) == CUBLAS_STATUS_SUCCESS, "cublasCreate");
    OPEN_CHECK(cublasSetStream(g->blas, g->stream) == CUBLAS_STATUS_SUCCESS, "cublasSetStream");
    OPEN_CHECK(cublasGetVersion(g->blas, &g->facts.cublas_version) == CUBLAS_STATUS_SUCCESS,
               "cublasGetVersion");
    /* A workspace of its own, so that cuBLAS allocates nothing while a graph is captured. */
    OPEN_CHECK(cudaMalloc(&g->blas_workspace, blas_ws) == cudaSuccess, "cudaMalloc");
    OPEN_CHECK(cublasSetWorkspace(g->blas, g->blas_workspace, blas_ws) == CUBLAS_STATUS_SUCCESS,
               "cublasSetWorkspace");
    OPEN_CHECK(cudnnCreatePoolingDescriptor(&g->pool) == CUDNN_STATUS_SUCCESS,
               "cudnnCreatePoolingDescriptor");
    OPEN_CHECK(cudnnSetPooling2dDescriptor(g->pool, CUDNN_POOLING_MAX_DETERMINISTIC,
                                           CUDNN_NOT_PROPAGATE_NAN, 3, 3, 1, 1, 2,
                                           2) == CUDNN_STATUS_SUCCESS,
               "cudnnSetPooling2dDescriptor");
#undef OPEN_CHECK
    return GPU_OK;
}

void gpu_close(struct gpu *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_plans; i++) {
        if (g->plans[i].exec)
            cudaGraphExecDestroy(g->plans[i].exec);
        if (g->plans[i].graph)
            cudaGraphDestroy(g->plans[i].graph);
    }
    for (int i = 0; i < g->n_algos; i++) {
        cudnnDestroyFilterDescriptor(g->algos[i].wd);
        cudnnDestroyConvolutionDescriptor(g->algos[i].cd);
    }
    for (int i = 0; i < g->n_descs; i++)
        cudnnDestroyTensorDescriptor(g->descs[i].d);
    for (int i = 0; i < g->n_bn; i++)
        cudnnDestroyTensorDescriptor(g->bn_descs[i]);
    if (g->pool)
        cudnnDestroyPoolingDescriptor(g->pool);
    cudaFree(g->params);
    cudaFree(g->grads);
    cudaFree(g->momentum);
    cudaFree(g->stats);
    cudaFree(g->saved);
    cudaFree(g->params_bf16);
    cudaFree(g->arena);
    cudaFree(g->workspace);
    cudaFree(g->train_x);
    cudaFree(g->test_x);
    cudaFree(g->train_y);
    cudaFree(g->test_y);
    cudaFree(g->order);
    cudaFree(g->counter);
    cudaFree(g->losses);
    if (g->blas)
        cublasDestroy(g->blas);
    cudaFree(g->blas_workspace);
    if (g->dnn)
        cudnnDestroy(g->dnn);
    if (g->stream)
        cudaStreamDestroy(g->stream);
    free(g);
}

void gpu_get_facts(const struct gpu *g, struct gpu_facts *f)
{
    *f = g->facts;
}

static int dev_alloc(struct gpu *g, void **p, size_t bytes, const char *what)
{
    cudaError_t e = cudaMalloc(p, bytes ? bytes : 16);

    if (e != cudaSuccess) {
        size_t free_b = 0, total_b = 0;
        cudaGetLastError();
        cudaMemGetInfo(&free_b, &total_b);
        snprintf(g->err, sizeof(g->err),
                 "out of device memory: %s needs %.1f MiB, %.1f MiB of %.1f MiB free (%s; use a "
                 "smaller --batch-size or --workspace-mib)",
                 what, (double)bytes / 1048576.0, (double)free_b / 1048576.0,
                 (double)total_b / 1048576.0, cudaGetErrorString(e));
        return GPU_ENOMEM;
    }
    return GPU_OK;
}

static int tensor(struct gpu *g, int n, int c, int h, int w, cudnnDataType_t type,
                  cudnnTensorDescriptor_t *out)
{
    struct tdesc *t;

    for (int i = 0; i < g->n_descs; i++) {
        t = &g->descs[i];
        if (t->n == n && t->c == c && t->h == h && t->w == w && t->type == type) {
            *out = t->d;
            return GPU_OK;
        }
    }
    if (g->n_descs == MAX_DESCS)
        return fail(g, "too many tensor shapes");
    t = &g->descs[g->n_descs];
    DNN(cudnnCreateTensorDescriptor(&t->d));
    g->n_descs++;
    DNN(cudnnSetTensor4dDescriptor(t->d, g->fmt, type, n, c, h, w));
    t->n = n, t->c = c, t->h = h, t->w = w, t->type = type;
    *out = t->d;
    return GPU_OK;
}

static int bn_desc(struct gpu *g, int c, cudnnTensorDescriptor_t *out)
{
    cudnnTensorDescriptor_t x;

    for (int i = 0; i < g->n_bn; i++)
        if (g->bn_c[i] == c) {
            *out = g->bn_descs[i];
            return GPU_OK;
        }
    if (g->n_bn == 8)
        return fail(g, "too many batch-norm widths");
    TRY(tensor(g, 1, c, 1, 1, CUDNN_DATA_FLOAT, &x));
    DNN(cudnnCreateTensorDescriptor(&g->bn_descs[g->n_bn]));
    g->bn_c[g->n_bn] = c;
    DNN(cudnnDeriveBNTensorDescriptor(g->bn_descs[g->n_bn], x, CUDNN_BATCHNORM_SPATIAL));
    *out = g->bn_descs[g->n_bn++];
    return GPU_OK;
}

static cudnnDataType_t conv_type(const struct gpu *g)
{
    return g->o.precision == PREC_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
}

/* ---- algorithm selection ------------------------------------------------------------------ */

static void count_algo(struct gpu *g, const char *dir, int algo)
{
    char key[16];
    char *p;
    size_t len = strlen(g->facts.algos);

    snprintf(key, sizeof(key), "%s%d:", dir, algo);
    p = strstr(g->facts.algos, key);
    if (p) { /* "fwd1:12 " -> "fwd1:13 " */
        char *num = p + strlen(key), *end;
        long v = strtol(num, &end, 10) + 1;
        char rest[512];
        snprintf(rest, sizeof(rest), "%s", end);
        snprintf(num, sizeof(g->facts.algos) - (size_t)(num - g->facts.algos), "%ld%s", v, rest);
    } else if (len + strlen(key) + 4 < sizeof(g->facts.algos)) {
        snprintf(g->facts.algos + len, sizeof(g->facts.algos) - len, "%s1 ", key);
    }
}

/* Picks the first result that ran and fits the workspace. */
#define PICK(perf, ret, cap, out, ws, what)                                                        \
    do {                                                                                           \
        int found_ = 0;                                                                            \
        for (int i_ = 0; i_ < (ret) && !found_; i_++)                                              \
            if ((perf)[i_].status == CUDNN_STATUS_SUCCESS && (perf)[i_].memory <= (cap)) {         \
                (out) = (perf)[i_].algo;                                                           \
                (ws) = (perf)[i_].memory;                                                          \
                found_ = 1;                                                                        \
            }                                                                                      \
        if (!found_)                                                                               \
            return fail(g,                                                                         \
                        "no cuDNN %s algorithm for %dx%dx%dx%d -> %d (k %d, stride %d) fits "      \
                        "a %.0f MiB workspace",                                                    \
                        what, a->n, a->cin, a->h, a->w, a->cout, a->k, a->stride,                  \
                        (double)(cap) / 1048576.0);                                                \
    } while (0)

static int select_algos(struct gpu *g, struct conv_algo *a, int backward)
{
    cudnnTensorDescriptor_t xd = NULL, yd = NULL; /* set by tensor(); NULL for gcc -O3 */
    cudnnDataType_t type = conv_type(g);
    size_t cap = g->workspace_bytes;
    int ret = 0;
    void *x = g->s_1, *y = g->s_2, *dx = g->s_3;
    void *w = g->o.precision == PREC_BF16 ? (void *)g->params_bf16 : (void *)g->params;
    void *dw = g->o.precision == PREC_BF16 ? (void *)g->wgrad_b16 : (void *)g->grads;

    TRY(tensor(g, a->n, a->cin, a->h, a->w, type, &xd));
    TRY(tensor(g, a->n, a->cout, a->oh, a->ow, type, &yd));
    if (!a->wd) {
        int n, c, h, w2;
        cudnnMathType_t math = g->o.precision == PREC_FP32   ? CUDNN_FMA_MATH
                               : g->o.precision == PREC_BF16 ? CUDNN_TENSOR_OP_MATH
                                                             : CUDNN_DEFAULT_MATH;
        DNN(cudnnCreateFilterDescriptor(&a->wd));
        DNN(cudnnSetFilter4dDescriptor(a->wd, type, g->fmt, a->cout, a->cin, a->k, a->k));
        DNN(cudnnCreateConvolutionDescriptor(&a->cd));
        DNN(cudnnSetConvolution2dDescriptor(a->cd, a->pad, a->pad, a->stride, a->stride, 1, 1,
                                            CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        DNN(cudnnSetConvolutionMathType(a->cd, math));
        DNN(cudnnGetConvolution2dForwardOutputDim(a->cd, xd, a->wd, &n, &c, &h, &w2));
        if (n != a->n || c != a->cout || h != a->oh || w2 != a->ow)
            return fail(g, "internal error: cuDNN gives a %dx%dx%dx%d output, expected %dx%dx%dx%d",
                        n, c, h, w2, a->n, a->cout, a->oh, a->ow);
        {
            cudnnConvolutionFwdAlgoPerf_t perf[N_PERF];
            if (g->o.algo == ALGO_FIND)
                DNN(cudnnFindConvolutionForwardAlgorithmEx(g->dnn, xd, x, a->wd, w, a->cd, yd, y,
                                                           N_PERF, &ret, perf, g->workspace, cap));
            else
                DNN(cudnnGetConvolutionForwardAlgorithm_v7(g->dnn, xd, a->wd, a->cd, yd, N_PERF,
                                                           &ret, perf));
            PICK(perf, ret, cap, a->fwd, a->ws[0], "forward");
            DNN(cudnnGetConvolutionForwardWorkspaceSize(g->dnn, xd, a->wd, a->cd, yd, a->fwd,
                                                        &a->ws[0]));
            count_algo(g, "fwd", (int)a->fwd);
        }
    }
    if (backward && !a->backward) {
        cudnnConvolutionBwdDataAlgoPerf_t pd[N_PERF];
        cudnnConvolutionBwdFilterAlgoPerf_t pf[N_PERF];

        if (g->o.algo == ALGO_FIND) {
            DNN(cudnnFindConvolutionBackwardDataAlgorithmEx(g->dnn, a->wd, w, yd, y, a->cd, xd, dx,
                                                            N_PERF, &ret, pd, g->workspace, cap));
        } else {
            DNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(g->dnn, a->wd, yd, a->cd, xd, N_PERF,
                                                            &ret, pd));
        }
        PICK(pd, ret, cap, a->bwd_data, a->ws[1], "backward-data");
        DNN(cudnnGetConvolutionBackwardDataWorkspaceSize(g->dnn, a->wd, yd, a->cd, xd, a->bwd_data,
                                                         &a->ws[1]));
        if (g->o.algo == ALGO_FIND) {
            DNN(cudnnFindConvolutionBackwardFilterAlgorithmEx(
                g->dnn, xd, x, yd, y, a->cd, a->wd, dw, N_PERF, &ret, pf, g->workspace, cap));
        } else {
            DNN(cudnnGetConvolutionBackwardFilterAlgorithm_v7(g->dnn, xd, yd, a->cd, a->wd, N_PERF,
                                                              &ret, pf));
        }
        PICK(pf, ret, cap, a->bwd_filter, a->ws[2], "backward-filter");
        DNN(cudnnGetConvolutionBackwardFilterWorkspaceSize(g->dnn, xd, yd, a->cd, a->wd,
                                                           a->bwd_filter, &a->ws[2]));
        count_algo(g, "bwd_data", (int)a->bwd_data);
        count_algo(g, "bwd_filter", (int)a->bwd_filter);
        a->backward = 1;
    }
    for (int i = 0; i < 3; i++)
        if (a->ws[i] > g->facts.workspace_bytes)
            g->facts.workspace_bytes = a->ws[i];
    return GPU_OK;
}

static int conv_algo_for(struct gpu *g, const struct native_conv *c, int n, int h, int w,
                         int backward, struct conv_algo **out)
{
    struct conv_algo *a;
    int oh = (h + 2 * c->pad - c->k) / c->stride + 1, ow = (w + 2 * c->pad - c->k) / c->stride + 1;

    for (int i = 0; i < g->n_algos; i++) {
        a = &g->algos[i];
        if (a->n == n && a->cin == c->cin && a->h == h && a->w == w && a->cout == c->cout &&
            a->k == c->k && a->stride == c->stride && a->pad == c->pad) {
            TRY(select_algos(g, a, backward));
            *out = a;
            return GPU_OK;
        }
    }
    if (g->n_algos == MAX_ALGOS)
        return fail(g, "too many convolution shapes");
    a = &g->algos[g->n_algos++];
    memset(a, 0, sizeof(*a));
    a->n = n, a->cin = c->cin, a->h = h, a->w = w, a->cout = c->cout, a->k = c->k;
    a->stride = c->stride, a->pad = c->pad, a->oh = oh, a->ow = ow;
    TRY(select_algos(g, a, backward));
    *out = a;
    return GPU_OK;
}

/* ---- the layers --------------------------------------------------------------------------- */

static float *W(const struct gpu *g, int tensor_index)
{
    return g->params + g->m->tensors[tensor_index].offset;
}

static float *GW(const struct gpu *g, int tensor_index)
{
    return g->grads + g->m->tensors[tensor_index].offset;
}

static float *STAT(const struct gpu *g, int tensor_index)
{
    return g->stats + g->m->tensors[tensor_index].offset;
}

static uint16_t *WB(const struct gpu *g, int tensor_index)
{
    return g->params_bf16 + g->m->tensors[tensor_index].offset;
}

static size_t elems(int n, int c, int h, int w)
{
    return (size_t)n * c * h * w;
}

/* y = conv(x).  bf16: x is cast into xb (kept for the weight gradient) and y comes back as
 * float32 through the bf16 scratch. */
static int conv_fwd(struct gpu *g, const struct conv_algo *a, const struct native_conv *c,
                    const float *x, uint16_t *xb, float *y)
{
    cudnnTensorDescriptor_t xd = NULL, yd = NULL; /* set by tensor(); NULL for gcc -O3 */
    cudnnDataType_t type = conv_type(g);

    TRY(tensor(g, a->n, a->cin, a->h, a->w, type, &xd));
    TRY(tensor(g, a->n, a->cout, a->oh, a->ow, type, &yd));
    if (type == CUDNN_DATA_BFLOAT16) {
        size_t ny = elems(a->n, a->cout, a->oh, a->ow);
        prof(g, P_CAST);
        KERN(k_to_bf16(g->stream, x, xb, elems(a->n, a->cin, a->h, a->w)));
        prof(g, P_CONV_FWD);
        DNN(cudnnConvolutionForward(g->dnn, &one, xd, xb, a->wd, WB(g, c->weight), a->cd, a->fwd,
                                    g->workspace, a->ws[0], &zero, yd, g->act_b16));
        prof(g, P_CAST);
        KERN(k_from_bf16(g->stream, g->act_b16, y, ny, 0.0f));
        return GPU_OK;
    }
    prof(g, P_CONV_FWD);
    DNN(cudnnConvolutionForward(g->dnn, &one, xd, x, a->wd, W(g, c->weight), a->cd, a->fwd,
                                g->workspace, a->ws[0], &zero, yd, y));
    return GPU_OK;
}

/* The weight gradient (written) and, when dx is not NULL, the input gradient (dx = beta * dx +
 * dgrad).  x is the layer's input (xb its bf16 copy). */
static int conv_bwd(struct gpu *g, const struct conv_algo *a, const struct native_conv *c,
                    const float *x, const uint16_t *xb, const float *dy, float *dx, float beta)
{
    cudnnTensorDescriptor_t xd = NULL, yd = NULL; /* set by tensor(); NULL for gcc -O3 */
    cudnnDataType_t type = conv_type(g);

    TRY(tensor(g, a->n, a->cin, a->h, a->w, type, &xd));
    TRY(tensor(g, a->n, a->cout, a->oh, a->ow, type, &yd));
    if (type == CUDNN_DATA_BFLOAT16) {
        const struct native_tensor *t = &g->m->tensors[c->weight];
        prof(g, P_CAST);
        KERN(k_to_bf16(g->stream, dy, g->dy_b16, elems(a->n, a->cout, a->oh, a->ow)));
        prof(g, P_CONV_WGRAD);
        DNN(cudnnConvolutionBackwardFilter(g->dnn, &one, xd, xb, yd, g->dy_b16, a->cd,
                                           a->bwd_filter, g->workspace, a->ws[2], &zero, a->wd,
                                           g->wgrad_b16));
        prof(g, P_CAST);
        KERN(k_from_bf16(g->stream, g->wgrad_b16, GW(g, c->weight), t->count, 0.0f));
        if (dx) {
            prof(g, P_CONV_DGRAD);
            DNN(cudnnConvolutionBackwardData(g->dnn, &one, a->wd, WB(g, c->weight), yd, g->dy_b16,
                                             a->cd, a->bwd_data, g->workspace, a->ws[1], &zero, xd,
                                             g->dx_b16));
            prof(g, P_CAST);
            KERN(k_from_bf16(g->stream, g->dx_b16, dx, elems(a->n, a->cin, a->h, a->w), beta));
        }
        return GPU_OK;
    }
    (void)xb;
    prof(g, P_CONV_WGRAD);
    DNN(cudnnConvolutionBackwardFilter(g->dnn, &one, xd, x, yd, dy, a->cd, a->bwd_filter,
                                       g->workspace, a->ws[2], &zero, a->wd, GW(g, c->weight)));
    prof(g, P_CONV_DGRAD);
    if (dx)
        DNN(cudnnConvolutionBackwardData(g->dnn, &one, a->wd, W(g, c->weight), yd, dy, a->cd,
                                         a->bwd_data, g->workspace, a->ws[1], &beta, xd, dx));
    return GPU_OK;
}

/* bn_id: 0 for the stem, 1 + 4 * block + {0, 1, 2, 3} for bn1, bn2, bn3, the downsample's. */
static int bn_fwd(struct gpu *g, int train, int bn_id, const struct native_bn *b, int n, int h,
                  int w, const float *x, float *y)
{
    cudnnTensorDescriptor_t xd = NULL, pd = NULL; /* set by tensor(); NULL for gcc -O3 */
    float *mean = g->saved + g->saved_off[bn_id], *invvar = mean + b->c;

    TRY(tensor(g, n, b->c, h, w, CUDNN_DATA_FLOAT, &xd));
    TRY(bn_desc(g, b->c, &pd));
    prof(g, P_BN_FWD);
    if (train)
        DNN(cudnnBatchNormalizationForwardTraining(
            g->dnn, g->bn_train_mode, &one, &zero, xd, x, xd, y, pd, W(g, b->weight), W(g, b->bias),
            NATIVE_BN_MOMENTUM, STAT(g, b->mean), STAT(g, b->var), NATIVE_BN_EPS, mean, invvar));
    else
        DNN(cudnnBatchNormalizationForwardInference(
            g->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, xd, x, xd, y, pd, W(g, b->weight),
            W(g, b->bias), STAT(g, b->mean), STAT(g, b->var), NATIVE_BN_EPS));
    return GPU_OK;
}

static int bn_bwd(struct gpu *g, int bn_id, const struct native_bn *b, int n, int h, int w,
                  const float *x, const float *dy, float *dx)
{
    cudnnTensorDescriptor_t xd = NULL, pd = NULL; /* set by tensor(); NULL for gcc -O3 */
    const float *mean = g->saved + g->saved_off[bn_id], *invvar = mean + b->c;

    TRY(tensor(g, n, b->c, h, w, CUDNN_DATA_FLOAT, &xd));
    TRY(bn_desc(g, b->c, &pd));
    prof(g, P_BN_BWD);
    DNN(cudnnBatchNormalizationBackward(g->dnn, g->bn_train_mode, &one, &zero, &one, &zero, xd, x,
                                        xd, dy, xd, dx, pd, W(g, b->weight), GW(g, b->weight),
                                        GW(g, b->bias), NATIVE_BN_EPS, mean, invvar));
    return GPU_OK;
}

/* ---- forward and backward ----------------------------------------------------------------- */

static int cid(int block, int j)
{
    return 1 + 4 * block + j;
}

static int forward(struct gpu *g, const struct plan *p, int train)
{
    const struct native_model *m = g->m;
    int n = p->n;
    const float *x;
    cudnnTensorDescriptor_t sd, pd;

    if (g->o.precision == PREC_BF16)
        KERNP(P_CAST, k_to_bf16(g->stream, g->params, g->params_bf16, m->n_params));
    TRY(conv_fwd(g, p->conv[0], &m->stem, g->x0, g->xb_stem, g->c1));
    TRY(bn_fwd(g, train, 0, &m->stem_bn, n, g->h1, g->w1, g->c1, g->s1));
    KERNP(P_ELTWISE, k_relu(g->stream, g->s1, elems(n, 64, g->h1, g->w1)));
    TRY(tensor(g, n, 64, g->h1, g->w1, CUDNN_DATA_FLOAT, &sd));
    TRY(tensor(g, n, 64, g->h2, g->w2, CUDNN_DATA_FLOAT, &pd));
    DNNP(P_POOL, cudnnPoolingForward(g->dnn, g->pool, &one, sd, g->s1, &zero, pd, g->p));
    x = g->p;
    for (int b = 0; b < m->n_blocks; b++) {
        const struct native_block *k = &m->blocks[b];
        struct blockbuf *bb = &g->bb[b];
        size_t nout = elems(n, k->out_ch, bb->ho, bb->wo);

        TRY(conv_fwd(g, p->conv[cid(b, 0)], &k->conv1, x, bb->xb[0], bb->t1));
        TRY(bn_fwd(g, train, cid(b, 0), &k->bn1, n, bb->hi, bb->wi, bb->t1, bb->r1));
        KERNP(P_ELTWISE, k_relu(g->stream, bb->r1, elems(n, k->width, bb->hi, bb->wi)));
        TRY(conv_fwd(g, p->conv[cid(b, 1)], &k->conv2, bb->r1, bb->xb[1], bb->t2));
        TRY(bn_fwd(g, train, cid(b, 1), &k->bn2, n, bb->ho, bb->wo, bb->t2, bb->r2));
        KERNP(P_ELTWISE, k_relu(g->stream, bb->r2, elems(n, k->width, bb->ho, bb->wo)));
        TRY(conv_fwd(g, p->conv[cid(b, 2)], &k->conv3, bb->r2, bb->xb[2], bb->t3));
        TRY(bn_fwd(g, train, cid(b, 2), &k->bn3, n, bb->ho, bb->wo, bb->t3, g->tmp_a));
        if (k->down) {
            TRY(conv_fwd(g, p->conv[cid(b, 3)], &k->convd, x, bb->xb[3], bb->td));
            TRY(bn_fwd(g, train, cid(b, 3), &k->bnd, n, bb->ho, bb->wo, bb->td, g->tmp_b));
            KERNP(P_ELTWISE, k_add_relu(g->stream, g->tmp_a, g->tmp_b, bb->y, nout));
        } else {
            KERNP(P_ELTWISE, k_add_relu(g->stream, g->tmp_a, x, bb->y, nout));
        }
        x = bb->y;
    }
    if (g->hf * g->wf != 1)
        KERNP(P_POOL,
              k_avgpool(g->stream, x, g->feat, n, NATIVE_FEATURES, g->hf * g->wf, g->o.nhwc));
    else
        g->feat = (float *)x;
    {
        const float *fw = W(g, m->fc_weight);
        int k = g->classes;
        if (g->o.precision == PREC_BF16) {
            KERNP(P_CAST, k_to_bf16(g->stream, g->feat, g->feat_b16, (size_t)n * NATIVE_FEATURES));
            BLASP(P_FC, cublasGemmEx(g->blas, CUBLAS_OP_T, CUBLAS_OP_N, k, n, NATIVE_FEATURES, &one,
                                     WB(g, m->fc_weight), CUDA_R_16BF, NATIVE_FEATURES, g->feat_b16,
                                     CUDA_R_16BF, NATIVE_FEATURES, &zero, g->logits, CUDA_R_32F, k,
                                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        } else {
            BLASP(P_FC,
                  cublasSgemm(g->blas, CUBLAS_OP_T, CUBLAS_OP_N, k, n, NATIVE_FEATURES, &one, fw,
                              NATIVE_FEATURES, g->feat, NATIVE_FEATURES, &zero, g->logits, k));
        }
    }
    return GPU_OK;
}

static int backward(struct gpu *g, const struct plan *p)
{
    const struct native_model *m = g->m;
    int n = p->n, k = g->classes;
    float *dy, *dx;

    /* fc: dW = dlogits^T feat, dfeat = dlogits W (dbias came with the loss). */
    if (g->o.precision == PREC_BF16) {
        /* The weight gradient from bf16 operands, float32 result, as autocast's linear. */
        KERNP(P_CAST, k_to_bf16(g->stream, g->dlogits, g->dl_b16, (size_t)n * k));
        BLASP(P_FC, cublasGemmEx(g->blas, CUBLAS_OP_N, CUBLAS_OP_T, NATIVE_FEATURES, k, n, &one,
                                 g->feat_b16, CUDA_R_16BF, NATIVE_FEATURES, g->dl_b16, CUDA_R_16BF,
                                 k, &zero, GW(g, m->fc_weight), CUDA_R_32F, NATIVE_FEATURES,
                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    } else {
        BLASP(P_FC, cublasSgemm(g->blas, CUBLAS_OP_N, CUBLAS_OP_T, NATIVE_FEATURES, k, n, &one,
                                g->feat, NATIVE_FEATURES, g->dlogits, k, &zero, GW(g, m->fc_weight),
                                NATIVE_FEATURES));
    }
    dy = g->gp;
    dx = g->gq;
    {
        float *dfeat = g->hf * g->wf == 1 ? dy : g->dfeat;
        if (g->o.precision == PREC_BF16)
            BLASP(P_FC, cublasGemmEx(g->blas, CUBLAS_OP_N, CUBLAS_OP_N, NATIVE_FEATURES, n, k, &one,
                                     WB(g, m->fc_weight), CUDA_R_16BF, NATIVE_FEATURES, g->dl_b16,
                                     CUDA_R_16BF, k, &zero, dfeat, CUDA_R_32F, NATIVE_FEATURES,
                                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        else
            BLASP(P_FC, cublasSgemm(g->blas, CUBLAS_OP_N, CUBLAS_OP_N, NATIVE_FEATURES, n, k, &one,
                                    W(g, m->fc_weight), NATIVE_FEATURES, g->dlogits, k, &zero,
                                    dfeat, NATIVE_FEATURES));
        if (g->hf * g->wf != 1)
            KERNP(P_POOL, k_avgpool_bwd(g->stream, g->dfeat, dy, n, NATIVE_FEATURES, g->hf * g->wf,
                                        g->o.nhwc));
    }
    for (int b = m->n_blocks - 1; b >= 0; b--) {
        const struct native_block *kb = &m->blocks[b];
        const struct blockbuf *bb = &g->bb[b];
        const float *x = b ? g->bb[b - 1].y : g->p;
        float *tmp;

        KERNP(P_ELTWISE, k_relu_mask(g->stream, dy, bb->y, elems(n, kb->out_ch, bb->ho, bb->wo)));
        TRY(bn_bwd(g, cid(b, 2), &kb->bn3, n, bb->ho, bb->wo, bb->t3, dy, g->s_1));
        TRY(conv_bwd(g, p->conv[cid(b, 2)], &kb->conv3, bb->r2, bb->xb[2], g->s_1, g->s_2, 0.0f));
        KERNP(P_ELTWISE,
              k_relu_mask(g->stream, g->s_2, bb->r2, elems(n, kb->width, bb->ho, bb->wo)));
        TRY(bn_bwd(g, cid(b, 1), &kb->bn2, n, bb->ho, bb->wo, bb->t2, g->s_2, g->s_1));
        TRY(conv_bwd(g, p->conv[cid(b, 1)], &kb->conv2, bb->r1, bb->xb[1], g->s_1, g->s_2, 0.0f));
        KERNP(P_ELTWISE,
              k_relu_mask(g->stream, g->s_2, bb->r1, elems(n, kb->width, bb->hi, bb->wi)));
        TRY(bn_bwd(g, cid(b, 0), &kb->bn1, n, bb->hi, bb->wi, bb->t1, g->s_2, g->s_1));
        TRY(conv_bwd(g, p->conv[cid(b, 0)], &kb->conv1, x, bb->xb[0], g->s_1, dx, 0.0f));
        if (kb->down) {
            TRY(bn_bwd(g, cid(b, 3), &kb->bnd, n, bb->ho, bb->wo, bb->td, dy, g->s_3));
            TRY(conv_bwd(g, p->conv[cid(b, 3)], &kb->convd, x, bb->xb[3], g->s_3, dx, 1.0f));
        } else {
            KERNP(P_ELTWISE, k_add(g->stream, dx, dy, elems(n, kb->in_ch, bb->hi, bb->wi)));
        }
        tmp = dy;
        dy = dx;
        dx = tmp;
    }
    /* Stem: max pool, ReLU, batch norm, and the weight gradient only (the input needs none). */
    {
        cudnnTensorDescriptor_t sd, pd;
        TRY(tensor(g, n, 64, g->h1, g->w1, CUDNN_DATA_FLOAT, &sd));
        TRY(tensor(g, n, 64, g->h2, g->w2, CUDNN_DATA_FLOAT, &pd));
        DNNP(P_POOL, cudnnPoolingBackward(g->dnn, g->pool, &one, pd, g->p, pd, dy, sd, g->s1, &zero,
                                          sd, g->s_1));
        KERNP(P_ELTWISE, k_relu_mask(g->stream, g->s_1, g->s1, elems(n, 64, g->h1, g->w1)));
        TRY(bn_bwd(g, 0, &m->stem_bn, n, g->h1, g->w1, g->c1, g->s_1, g->s_2));
        TRY(conv_bwd(g, p->conv[0], &m->stem, g->x0, g->xb_stem, g->s_2, NULL, 0.0f));
    }
    return GPU_OK;
}

/* One whole training step, queued on the stream (also what a graph captures). */
static int train_step(struct gpu *g, const struct plan *p)
{
    const struct native_model *m = g->m;

    KERNP(P_GATHER,
          k_gather(g->stream, g->train_x, g->train_y, g->order, g->counter, g->o.batch_size, 0,
                   p->n, g->h0, g->w0, g->o.scale_255, g->o.nhwc, g->x0, g->labels));
    TRY(forward(g, p, 1));
    KERNP(P_LOSS, k_softmax_xent(g->stream, g->logits, W(g, m->fc_bias), g->labels, p->n,
                                 g->classes, g->dlogits, GW(g, m->fc_bias), g->losses, g->counter));
    TRY(backward(g, p));
    KERNP(P_SGD,
          k_sgd(g->stream, g->params, g->grads, g->momentum, m->n_params, g->o.lr, g->o.momentum));
    return GPU_OK;
}

/* ---- building --------------------------------------------------------------------------- */

static struct plan *plan_for(struct gpu *g, int n)
{
    for (int i = 0; i < g->n_plans; i++)
        if (g->plans[i].n == n)
            return &g->plans[i];
    return NULL;
}

static int make_plan(struct gpu *g, int n, int train)
{
    const struct native_model *m = g->m;
    struct plan *p = plan_for(g, n);

    if (!p) {
        if (g->n_plans == MAX_PLANS)
            return fail(g, "too many batch sizes");
        p = &g->plans[g->n_plans++];
        memset(p, 0, sizeof(*p));
        p->n = n;
    }
    p->train |= train;
    TRY(conv_algo_for(g, &m->stem, n, g->h0, g->w0, train, &p->conv[0]));
    for (int b = 0; b < m->n_blocks; b++) {
        const struct native_block *k = &m->blocks[b];
        const struct blockbuf *bb = &g->bb[b];
        TRY(conv_algo_for(g, &k->conv1, n, bb->hi, bb->wi, train, &p->conv[cid(b, 0)]));
        TRY(conv_algo_for(g, &k->conv2, n, bb->hi, bb->wi, train, &p->conv[cid(b, 1)]));
        TRY(conv_algo_for(g, &k->conv3, n, bb->ho, bb->wo, train, &p->conv[cid(b, 2)]));
        if (k->down)
            TRY(conv_algo_for(g, &k->convd, n, bb->hi, bb->wi, train, &p->conv[cid(b, 3)]));
    }
    return GPU_OK;
}

/* Carves the activation arena: returns the bytes needed (with base NULL) or assigns pointers. */
static size_t carve(struct gpu *g, unsigned char *base)
{
    const struct native_model *m = g->m;
    size_t off = 0;
    int n = g->nmax, h, w, bf16 = g->o.precision == PREC_BF16;

#define TAKE(ptr, count, type)                                                                     \
    do {                                                                                           \
        size_t bytes_ = ((size_t)(count) * sizeof(type) + 255) & ~(size_t)255;                     \
        if (base)                                                                                  \
            (ptr) = (type *)(void *)(base + off);                                                  \
        off += bytes_;                                                                             \
    } while (0)
#define TAKE16(ptr, count)                                                                         \
    do {                                                                                           \
        if (bf16)                                                                                  \
            TAKE(ptr, count, uint16_t);                                                            \
    } while (0)

    g->h1 = (g->h0 + 6 - 7) / 2 + 1;
    g->w1 = (g->w0 + 6 - 7) / 2 + 1;
    g->h2 = (g->h1 + 2 - 3) / 2 + 1;
    g->w2 = (g->w1 + 2 - 3) / 2 + 1;
    g->max_act = elems(n, 64, g->h1, g->w1);
    TAKE(g->x0, elems(n, 3, g->h0, g->w0), float);
    TAKE16(g->xb_stem, elems(n, 3, g->h0, g->w0));
    TAKE(g->labels, n, int32_t);
    TAKE(g->c1, elems(n, 64, g->h1, g->w1), float);
    TAKE(g->s1, elems(n, 64, g->h1, g->w1), float);
    TAKE(g->p, elems(n, 64, g->h2, g->w2), float);
    h = g->h2;
    w = g->w2;
    for (int b = 0; b < m->n_blocks; b++) {
        const struct native_block *k = &m->blocks[b];
        struct blockbuf *bb = &g->bb[b];
        size_t sizes[4];

        bb->hi = h;
        bb->wi = w;
        bb->ho = (h + 2 - 3) / k->stride + 1;
        bb->wo = (w + 2 - 3) / k->stride + 1;
        sizes[0] = elems(n, k->width, bb->hi, bb->wi);
        sizes[1] = elems(n, k->width, bb->ho, bb->wo);
        sizes[2] = elems(n, k->out_ch, bb->ho, bb->wo);
        sizes[3] = elems(n, k->in_ch, bb->hi, bb->wi);
        for (int i = 0; i < 4; i++)
            if (sizes[i] > g->max_act)
                g->max_act = sizes[i];
        TAKE(bb->t1, sizes[0], float);
        TAKE(bb->r1, sizes[0], float);
        TAKE(bb->t2, sizes[1], float);
        TAKE(bb->r2, sizes[1], float);
        TAKE(bb->t3, sizes[2], float);
        if (k->down)
            TAKE(bb->td, sizes[2], float);
        TAKE(bb->y, sizes[2], float);
        TAKE16(bb->xb[0], sizes[3]);
        TAKE16(bb->xb[1], sizes[0]);
        TAKE16(bb->xb[2], sizes[1]);
        if (k->down)
            TAKE16(bb->xb[3], sizes[3]);
        h = bb->ho;
        w = bb->wo;
    }
    g->hf = h;
    g->wf = w;
    TAKE(g->tmp_a, g->max_act, float);
    TAKE(g->tmp_b, g->max_act, float);
    TAKE(g->gp, g->max_act, float);
    TAKE(g->gq, g->max_act, float);
    TAKE(g->s_1, g->max_act, float);
    TAKE(g->s_2, g->max_act, float);
    TAKE(g->s_3, g->max_act, float);
    TAKE16(g->act_b16, g->max_act);
    TAKE16(g->dy_b16, g->max_act);
    TAKE16(g->dx_b16, g->max_act);
    TAKE(g->feat, (size_t)n * NATIVE_FEATURES, float);
    TAKE(g->dfeat, (size_t)n * NATIVE_FEATURES, float);
    TAKE16(g->feat_b16, (size_t)n * NATIVE_FEATURES);
    TAKE(g->logits, (size_t)n * g->classes, float);
    TAKE(g->dlogits, (size_t)n * g->classes, float);
    TAKE16(g->dl_b16, (size_t)n * g->classes);
    {
        size_t ne = g->n_test > (size_t)n ? g->n_test : (size_t)n;
        TAKE(g->eval_logits, ne * g->classes, float);
    }
    {
        size_t wmax = 0;
        for (int i = 0; i < m->n_tensors; i++)
            if (m->tensors[i].kind == T_CONV && m->tensors[i].count > wmax)
                wmax = m->tensors[i].count;
        TAKE16(g->wgrad_b16, wmax);
    }
#undef TAKE
#undef TAKE16
    return off;
}

static int upload(struct gpu *g, void **dst, const void *src, size_t bytes, const char *what)
{
    TRY(dev_alloc(g, dst, bytes, what));
    if (bytes)
        CUDA(cudaMemcpy(*dst, src, bytes, cudaMemcpyHostToDevice));
    return GPU_OK;
}

static int capture(struct gpu *g, struct plan *p)
{
    enum cudaStreamCaptureMode modes[2] = {cudaStreamCaptureModeGlobal,
                                           cudaStreamCaptureModeRelaxed};
    const char *names[2] = {"global", "relaxed"};
    char first[512] = "";

    for (int i = 0; i < 2; i++) {
        cudaError_t e = cudaStreamBeginCapture(g->stream, modes[i]);
        int rc = e == cudaSuccess ? train_step(g, p)
                                  : fail(g, "cudaStreamBeginCapture: %s", cudaGetErrorString(e));
        cudaGraph_t graph = NULL;
        cudaError_t e2 = cudaStreamEndCapture(g->stream, &graph);

        if (rc == GPU_OK && e2 == cudaSuccess) {
            e = cudaGraphInstantiate(&p->exec, graph, 0);
            if (e == cudaSuccess) {
                p->graph = graph;
                snprintf(g->facts.capture_mode, sizeof(g->facts.capture_mode), "%s", names[i]);
                g->facts.n_graphs++;
                return GPU_OK;
            }
            fail(g, "cudaGraphInstantiate: %s", cudaGetErrorString(e));
        } else if (rc == GPU_OK) {
            fail(g, "cudaStreamEndCapture: %s", cudaGetErrorString(e2));
        }
        if (graph)
            cudaGraphDestroy(graph);
        cudaGetLastError();
        if (!first[0])
            snprintf(first, sizeof(first), "%s", g->err);
    }
    return fail(g, "cannot capture the training step as a CUDA graph: %s", first);
}

/* Convolution kernels of the parameter arena (or of a gradient arena) between PyTorch's OIHW and
 * the KRSC (OHWI) that cuDNN's NHWC filters use; 1x1 kernels are the same in both. */
static void reorder_kernels(const struct native_model *m, float *arena, int to_krsc)
{
    float *tmp = NULL;
    size_t cap = 0;

    for (int i = 0; i < m->n_tensors; i++) {
        const struct native_tensor *t = &m->tensors[i];
        int o = t->shape[0], c = t->shape[1], hw = t->shape[2] * t->shape[3];
        float *w = arena + t->offset;

        if (t->kind != T_CONV || hw == 1)
            continue;
        if (t->count > cap) {
            float *p = realloc(tmp, t->count * sizeof(float));
            if (!p)
                break; /* cannot happen for these sizes; the check run would show it */
            tmp = p;
            cap = t->count;
        }
        for (int k = 0; k < o; k++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < hw; p++) {
                    size_t oihw = ((size_t)k * c + ch) * hw + p,
                           ohwi = ((size_t)k * hw + p) * c + ch;
                    if (to_krsc)
                        tmp[ohwi] = w[oihw];
                    else
                        tmp[oihw] = w[ohwi];
                }
        memcpy(w, tmp, t->count * sizeof(float));
    }
    free(tmp);
}

/* Times profile_steps eager training steps by operation kind (an event at the start of each
 * operation; the stream runs them one after the other). */
static int profile(struct gpu *g, struct plan *p)
{
    double ms[P_N] = {0}, total = 0;
    size_t len = 0;
    int steps = g->o.profile_steps;

    g->cap_ev = 4096;
    g->ev = calloc((size_t)g->cap_ev + 1, sizeof(cudaEvent_t));
    g->ev_cat = calloc((size_t)g->cap_ev + 1, sizeof(int));
    if (!g->ev || !g->ev_cat)
        return fail(g, "out of memory");
    for (int i = 0; i <= g->cap_ev; i++)
        CUDA(cudaEventCreate(&g->ev[i]));
    for (int s = 0; s < steps; s++) {
        CUDA(cudaMemsetAsync(g->counter, 0, sizeof(int), g->stream));
        g->prof = 1;
        g->n_ev = 0;
        TRY(train_step(g, p));
        g->prof = 0;
        CUDA(cudaEventRecord(g->ev[g->n_ev], g->stream));
        CUDA(cudaStreamSynchronize(g->stream));
        for (int i = 0; i < g->n_ev; i++) {
            float t = 0;
            CUDA(cudaEventElapsedTime(&t, g->ev[i], g->ev[i + 1]));
            ms[g->ev_cat[i]] += t;
            total += t;
        }
    }
    len = (size_t)snprintf(g->facts.profile, sizeof(g->facts.profile),
                           "batch %d, %d eager steps, %d operations a step, %.3f ms a step:", p->n,
                           steps, g->n_ev, total / steps);
    for (int c = 0; c < P_N && len < sizeof(g->facts.profile); c++)
        if (ms[c] > 0)
            len += (size_t)snprintf(g->facts.profile + len, sizeof(g->facts.profile) - len,
                                    " %s %.3f", prof_names[c], ms[c] / steps);
    for (int i = 0; i <= g->cap_ev; i++)
        cudaEventDestroy(g->ev[i]);
    free(g->ev);
    free(g->ev_cat);
    g->ev = NULL;
    g->ev_cat = NULL;
    return GPU_OK;
}

/* The warm-up steps and graph captures of gpu_build, between a copy of the state into backup
 * and its restoration. */
static int warm_up(struct gpu *g, const struct native_data *d, void *const backup[2], char *err,
                   size_t errlen)
{
    const struct native_model *m = g->m;
    size_t np = m->n_params * sizeof(float), ns = m->n_stats * sizeof(float);
    int32_t *ident;
    int rc;

    CUDA(cudaMemcpyAsync(backup[0], g->params, np, cudaMemcpyDeviceToDevice, g->stream));
    CUDA(cudaMemcpyAsync(backup[1], g->stats, ns, cudaMemcpyDeviceToDevice, g->stream));
    ident = malloc(d->n_train * sizeof(int32_t));
    if (!ident)
        return fail(g, "out of memory");
    for (size_t i = 0; i < d->n_train; i++)
        ident[i] = (int32_t)i;
    rc = gpu_epoch_start(g, ident, d->n_train, err, errlen);
    free(ident);
    if (rc)
        return rc;
    for (int i = 0; i < g->n_plans; i++) {
        if (!g->plans[i].train)
            continue;
        CUDA(cudaMemsetAsync(g->counter, 0, sizeof(int), g->stream));
        TRY(train_step(g, &g->plans[i]));
        CUDA(cudaStreamSynchronize(g->stream));
    }
    if (g->o.profile_steps > 0)
        TRY(profile(g, plan_for(g, g->o.batch_size)));
    if (g->o.graph)
        for (int i = 0; i < g->n_plans; i++)
            if (g->plans[i].train)
                TRY(capture(g, &g->plans[i]));
    CUDA(cudaMemcpyAsync(g->params, backup[0], np, cudaMemcpyDeviceToDevice, g->stream));
    CUDA(cudaMemcpyAsync(g->stats, backup[1], ns, cudaMemcpyDeviceToDevice, g->stream));
    CUDA(cudaMemsetAsync(g->momentum, 0, np, g->stream));
    CUDA(cudaMemsetAsync(g->counter, 0, sizeof(int), g->stream));
    CUDA(cudaStreamSynchronize(g->stream));
    return GPU_OK;
}

int gpu_build(struct gpu *g, const struct native_model *m, const struct native_data *d,
              const float *params, const float *stats, const struct gpu_opts *opts,
              const int *train_sizes, int n_train_sizes, const int *eval_sizes, int n_eval_sizes,
              char *err, size_t errlen)
{
    size_t saved = 0, arena_bytes, np = m->n_params * sizeof(float);
    void *backup[2] = {NULL, NULL};
    int rc;

#define B(call)                                                                                    \
    do {                                                                                           \
        if ((rc = (call)) != GPU_OK)                                                               \
            goto out;                                                                              \
    } while (0)
    g->m = m;
    g->o = *opts;
    /* NHWC: PyTorch's channels-last choices, including the persistent batch-norm kernels. */
    g->fmt = opts->nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    g->bn_train_mode = opts->nhwc ? CUDNN_BATCHNORM_SPATIAL_PERSISTENT : CUDNN_BATCHNORM_SPATIAL;
    g->classes = m->classes;
    g->h0 = d->h;
    g->w0 = d->w;
    g->n_train = d->n_train;
    g->n_test = d->n_test;
    g->nmax = 0;
    for (int i = 0; i < n_train_sizes; i++)
        if (train_sizes[i] > g->nmax)
            g->nmax = train_sizes[i];
    for (int i = 0; i < n_eval_sizes; i++)
        if (eval_sizes[i] > g->nmax)
            g->nmax = eval_sizes[i];
    g->max_steps = d->n_train / (size_t)opts->batch_size + 2;
    if (cublasSetMathMode(g->blas, opts->precision == PREC_TF32
                                       ? CUBLAS_TF32_TENSOR_OP_MATH
                                       : CUBLAS_DEFAULT_MATH) != CUBLAS_STATUS_SUCCESS) {
        rc = fail(g, "cublasSetMathMode failed");
        goto out;
    }
    {
        float *dev_order = malloc(np);
        if (!dev_order) {
            rc = fail(g, "out of memory");
            goto out;
        }
        memcpy(dev_order, params, np);
        if (opts->nhwc)
            reorder_kernels(m, dev_order, 1);
        rc = upload(g, (void **)&g->params, dev_order, np, "the parameters");
        free(dev_order);
        if (rc)
            goto out;
    }
    B(dev_alloc(g, (void **)&g->grads, np, "the gradients"));
    B(dev_alloc(g, (void **)&g->momentum, np, "the momentum"));
    if (cudaMemset(g->momentum, 0, np) != cudaSuccess || cudaMemset(g->grads, 0, np)) {
        rc = fail(g, "cudaMemset failed: %s", cudaGetErrorString(cudaGetLastError()));
        goto out;
    }
    B(upload(g, (void **)&g->stats, stats, m->n_stats * sizeof(float), "the running statistics"));
    g->saved_off[0] = 0;
    saved = 2 * 64;
    for (int b = 0; b < m->n_blocks; b++) {
        const struct native_block *k = &m->blocks[b];
        const int cs[4] = {k->width, k->width, k->out_ch, k->down ? k->out_ch : 0};
        for (int j = 0; j < 4; j++) {
            g->saved_off[cid(b, j)] = saved;
            saved += 2 * (size_t)cs[j];
        }
    }
    B(dev_alloc(g, (void **)&g->saved, saved * sizeof(float), "the batch statistics"));
    if (opts->precision == PREC_BF16)
        B(dev_alloc(g, (void **)&g->params_bf16, m->n_params * 2, "the bf16 weights"));
    B(upload(g, (void **)&g->train_x, d->train_x, d->n_train * 3 * d->h * d->w,
             "the training images"));
    B(upload(g, (void **)&g->train_y, d->train_y, d->n_train * 4, "the training labels"));
    B(upload(g, (void **)&g->test_x, d->test_x, d->n_test * 3 * d->h * d->w, "the test images"));
    B(upload(g, (void **)&g->test_y, d->test_y, d->n_test * 4, "the test labels"));
    B(dev_alloc(g, (void **)&g->order, d->n_train * 4, "the order"));
    B(dev_alloc(g, (void **)&g->counter, sizeof(int), "the step counter"));
    B(dev_alloc(g, (void **)&g->losses, g->max_steps * sizeof(float), "the losses"));
    arena_bytes = carve(g, NULL);
    B(dev_alloc(g, (void **)&g->arena, arena_bytes, "the activations"));
    carve(g, g->arena);
    g->workspace_bytes = opts->workspace_bytes;
    B(dev_alloc(g, &g->workspace, g->workspace_bytes, "the convolution workspace"));
    for (int i = 0; i < n_train_sizes; i++)
        B(make_plan(g, train_sizes[i], 1));
    for (int i = 0; i < n_eval_sizes; i++)
        B(make_plan(g, eval_sizes[i], 0));

    /* Warm-up: one step per training size (cuDNN's lazy set-up, and proof that every chosen
     * algorithm runs), then the graphs; then the state as it was. */
    B(dev_alloc(g, &backup[0], np, "a copy of the parameters"));
    B(dev_alloc(g, &backup[1], m->n_stats * sizeof(float), "a copy of the statistics"));
    B(warm_up(g, d, backup, err, errlen));
    rc = GPU_OK;
out:
    cudaFree(backup[0]);
    cudaFree(backup[1]);
#undef B
    return copy_err(g, rc, err, errlen);
}

/* ---- running ------------------------------------------------------------------------------ */

int gpu_epoch_start(struct gpu *g, const int32_t *order, size_t n, char *err, size_t errlen)
{
    int rc = GPU_OK;

    if (cudaMemcpyAsync(g->order, order, n * sizeof(int32_t), cudaMemcpyHostToDevice, g->stream) !=
            cudaSuccess ||
        cudaMemsetAsync(g->counter, 0, sizeof(int), g->stream) != cudaSuccess ||
        cudaStreamSynchronize(g->stream) != cudaSuccess)
        rc = fail(g, "cannot upload the epoch's order: %s", cudaGetErrorString(cudaGetLastError()));
    return copy_err(g, rc, err, errlen);
}

int gpu_train_step(struct gpu *g, int n, char *err, size_t errlen)
{
    struct plan *p = plan_for(g, n);
    int rc;

    if (!p || !p->train)
        return copy_err(g, fail(g, "internal error: no training plan for batch %d", n), err,
                        errlen);
    g->last_train_n = n;
    if (p->exec) {
        cudaError_t e = cudaGraphLaunch(p->exec, g->stream);
        rc = e == cudaSuccess ? GPU_OK : fail(g, "cudaGraphLaunch: %s", cudaGetErrorString(e));
    } else {
        rc = train_step(g, p);
    }
    return copy_err(g, rc, err, errlen);
}

int gpu_sync(struct gpu *g, char *err, size_t errlen)
{
    cudaError_t e = cudaStreamSynchronize(g->stream);
    int rc = GPU_OK;

    if (e != cudaSuccess)
        rc = fail(g, "the GPU failed: %s", cudaGetErrorString(e));
    return copy_err(g, rc, err, errlen);
}

int gpu_epoch_losses(struct gpu *g, float *losses, size_t n_steps, char *err, size_t errlen)
{
    int rc = GPU_OK;

    /* The stream does not synchronise with the legacy default stream (cudaStreamNonBlocking):
     * wait for it before any cudaMemcpy. */
    if (n_steps > g->max_steps)
        rc = fail(g, "internal error: %zu steps, room for %zu", n_steps, g->max_steps);
    else if (cudaStreamSynchronize(g->stream) != cudaSuccess ||
             cudaMemcpy(losses, g->losses, n_steps * sizeof(float), cudaMemcpyDeviceToHost) !=
                 cudaSuccess)
        rc = fail(g, "cannot read the losses: %s", cudaGetErrorString(cudaGetLastError()));
    return copy_err(g, rc, err, errlen);
}

static int predict_batches(struct gpu *g, int test, size_t start, size_t n, int batch_size)
{
    const struct native_model *m = g->m;

    for (size_t s = 0; s < n; s += (size_t)batch_size) {
        int bn = (int)(n - s < (size_t)batch_size ? n - s : (size_t)batch_size);
        struct plan *p = plan_for(g, bn);
        float *out = g->eval_logits + s * (size_t)g->classes;

        if (!p)
            return fail(g, "internal error: no plan for batch %d", bn);
        KERNP(P_GATHER, k_gather(g->stream, test ? g->test_x : g->train_x,
                                 test ? g->test_y : g->train_y, NULL, NULL, 0, (long)(start + s),
                                 bn, g->h0, g->w0, g->o.scale_255, g->o.nhwc, g->x0, g->labels));
        TRY(forward(g, p, 0));
        CUDA(cudaMemcpyAsync(out, g->logits, (size_t)bn * g->classes * sizeof(float),
                             cudaMemcpyDeviceToDevice, g->stream));
        KERNP(P_FC, k_bias_add(g->stream, out, W(g, m->fc_bias), bn, g->classes));
    }
    return GPU_OK;
}

int gpu_predict(struct gpu *g, int test, size_t start, size_t n, int batch_size, float *logits,
                char *err, size_t errlen)
{
    int rc = predict_batches(g, test, start, n, batch_size);

    if (rc == GPU_OK && cudaMemcpyAsync(logits, g->eval_logits, n * g->classes * sizeof(float),
                                        cudaMemcpyDeviceToHost, g->stream) != cudaSuccess)
        rc = fail(g, "cannot read the logits: %s", cudaGetErrorString(cudaGetLastError()));
    if (rc == GPU_OK) {
        cudaError_t e = cudaStreamSynchronize(g->stream);
        if (e != cudaSuccess)
            rc = fail(g, "the GPU failed: %s", cudaGetErrorString(e));
    }
    return copy_err(g, rc, err, errlen);
}

int gpu_download(struct gpu *g, float *params, float *stats, float *grads, float *momentum,
                 float *train_logits, char *err, size_t errlen)
{
    size_t np = g->m->n_params * sizeof(float);
    int rc = GPU_OK;

    if (cudaStreamSynchronize(g->stream) != cudaSuccess ||
        (params && cudaMemcpy(params, g->params, np, cudaMemcpyDeviceToHost)) ||
        (stats &&
         cudaMemcpy(stats, g->stats, g->m->n_stats * sizeof(float), cudaMemcpyDeviceToHost)) ||
        (grads && cudaMemcpy(grads, g->grads, np, cudaMemcpyDeviceToHost)) ||
        (momentum && cudaMemcpy(momentum, g->momentum, np, cudaMemcpyDeviceToHost)) ||
        (train_logits &&
         cudaMemcpy(train_logits, g->logits, (size_t)g->last_train_n * g->classes * sizeof(float),
                    cudaMemcpyDeviceToHost)))
        rc = fail(g, "cannot read the state back: %s", cudaGetErrorString(cudaGetLastError()));
    if (rc == GPU_OK && g->o.nhwc) {
        if (params)
            reorder_kernels(g->m, params, 0);
        if (grads)
            reorder_kernels(g->m, grads, 0);
        if (momentum)
            reorder_kernels(g->m, momentum, 0);
    }
    return copy_err(g, rc, err, errlen);
}
