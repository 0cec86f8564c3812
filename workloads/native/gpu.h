/*
 * gpu.h - the native trainer's device side (gpu.c): the ResNet of native.h trained on one CUDA GPU
 * with cuDNN (convolutions, batch norm, max pooling) and cuBLAS (the fc layer), the few kernels
 * of kernels.cu, the data set and all state resident on the device, and optionally each training
 * step captured once as a CUDA graph and replayed.  Nothing here prints; each call returns 0, or
 * a negative GPU_E* code with a message in err.
 */
#ifndef JB_WORKLOADS_NATIVE_GPU_H
#define JB_WORKLOADS_NATIVE_GPU_H

#include "native.h"

#include <stddef.h>
#include <stdint.h>

enum {
    GPU_OK = 0,
    GPU_ENODEV = -1, /* no usable CUDA device (exit 2: before training) */
    GPU_ENOMEM = -2, /* device memory exhausted while setting up (exit 2) */
    GPU_EFAIL = -3,  /* a CUDA, cuDNN or cuBLAS call failed (exit 1) */
};

struct gpu;

struct gpu_opts {
    enum native_precision precision;
    enum native_algo algo;
    int graph;
    size_t workspace_bytes;
    float lr, momentum;
    int scale_255;
    int batch_size;    /* the full training batch; the last one may be smaller */
    int nhwc;          /* activations NHWC and 3x3 / 7x7 kernels KRSC on the device (else NCHW) */
    int profile_steps; /* > 0: time that many eager steps per operation kind in gpu_build */
};

/* Selects CUDA device 0 and creates the handles. */
int gpu_open(struct gpu **out, char *err, size_t errlen);
void gpu_close(struct gpu *g);

/* Facts for the info event (valid after gpu_open; algorithms after gpu_build). */
struct gpu_facts {
    char device[256];
    int cudnn_version, cublas_version, runtime_version, driver_version;
    int cc_major, cc_minor;
    double memory_mib;
    char capture_mode[16];  /* "global" or "relaxed" (graph mode), "" otherwise */
    size_t workspace_bytes; /* the largest convolution workspace chosen */
    int n_graphs;           /* captured step graphs (one per training batch size) */
    char algos[512];        /* a summary: how many convolutions use each algorithm */
    char profile[1024];     /* with profile_steps: milliseconds per step by operation kind */
};
void gpu_get_facts(const struct gpu *g, struct gpu_facts *f);

/*
 * Allocates everything, uploads the data set and the weights, selects the convolution algorithms
 * for every batch size in train_sizes (forward and backward) and eval_sizes (forward), warms up
 * one training step per training size and, with opts->graph, captures each as a CUDA graph.  The
 * warm-up's effect on the weights, momentum and running statistics is undone: training starts
 * from the given weights.
 */
int gpu_build(struct gpu *g, const struct native_model *m, const struct native_data *d,
              const float *params, const float *stats, const struct gpu_opts *opts,
              const int *train_sizes, int n_train_sizes, const int *eval_sizes, int n_eval_sizes,
              char *err, size_t errlen);

/* Uploads the epoch's order of the training images and resets the step counter (synchronous). */
int gpu_epoch_start(struct gpu *g, const int32_t *order, size_t n, char *err, size_t errlen);
/* Queues one training step of n images (the next batch of the order; no synchronisation). */
int gpu_train_step(struct gpu *g, int n, char *err, size_t errlen);
/* Waits for the queued work. */
int gpu_sync(struct gpu *g, char *err, size_t errlen);
/* The losses of the epoch's first n_steps steps (synchronous). */
int gpu_epoch_losses(struct gpu *g, float *losses, size_t n_steps, char *err, size_t errlen);
/* Eval-mode forward over images [start, start + n) of the test set (test 1) or the training set
 * (test 0) in batches of batch_size; logits (n x classes) are copied to the host (synchronous). */
int gpu_predict(struct gpu *g, int test, size_t start, size_t n, int batch_size, float *logits,
                char *err, size_t errlen);
/* Copies the parameters, running statistics, gradients and momentum back (any may be NULL);
 * the train-mode logits of the last step too (n x classes of its batch). */
int gpu_download(struct gpu *g, float *params, float *stats, float *grads, float *momentum,
                 float *train_logits, char *err, size_t errlen);

#endif
