/*
 * kernels.h - the trainer's own CUDA kernels (kernels.cu), launched on a given stream; everything
 * else is cuDNN and cuBLAS (gpu.c).  Each launcher returns the launch's cudaError_t as an int (0:
 * launched), so that gpu.c, which is C, needs no CUDA C++ headers.  None synchronises, and none
 * reads a host value that changes between steps, so that a captured CUDA graph replays the step
 * exactly: the batch's place in the epoch comes from a device counter.
 */
#ifndef JB_WORKLOADS_NATIVE_KERNELS_H
#define JB_WORKLOADS_NATIVE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* x[n, c, h, w] (NCHW float; NHWC when nhwc) = images[row(n)][h][w][c] * scale,
 * y[n] = labels[row(n)], with row(n) = order[start + n] (order may be NULL: start + n) and
 * start = (*counter) * stride when counter is not NULL, else offset.  scale_255: divide by 255
 * (an IEEE division, as the frameworks do); 0: raw pixel values. */
int k_gather(void *stream, const uint8_t *images, const int32_t *labels, const int32_t *order,
             const int *counter, int stride, long offset, int n, int h, int w, int scale_255,
             int nhwc, float *x, int32_t *y);

/* x = max(x, 0). */
int k_relu(void *stream, float *x, size_t n);
/* g = y > 0 ? g : 0 (ReLU backward through its output). */
int k_relu_mask(void *stream, float *g, const float *y, size_t n);
/* y = max(a + b, 0) (the residual add and the block's last ReLU). */
int k_add_relu(void *stream, const float *a, const float *b, float *y, size_t n);
/* dst += src. */
int k_add(void *stream, float *dst, const float *src, size_t n);
/* Global average pooling of n images of c channels of hw values (NCHW, or NHWC when nhwc) into
 * n x c, and its backward (dx = dy / hw). */
int k_avgpool(void *stream, const float *x, float *y, int n, int c, int hw, int nhwc);
int k_avgpool_bwd(void *stream, const float *dy, float *dx, int n, int c, int hw, int nhwc);
/* logits[n, k] += bias[k]. */
int k_bias_add(void *stream, float *logits, const float *bias, int n, int k);
/*
 * The training head, one block: logits += bias; per sample the log-softmax cross-entropy;
 * dlogits = (softmax - onehot) / n; dbias = column sums of dlogits; the mean loss stored at
 * losses[*counter] and *counter incremented (counter NULL: at losses[0]).
 */
int k_softmax_xent(void *stream, float *logits, const float *bias, const int32_t *y, int n, int k,
                   float *dlogits, float *dbias, float *losses, int *counter);
/* PyTorch's SGD with momentum (dampening 0, no weight decay, no Nesterov), over n floats:
 * buf = momentum * buf + g (buf starting at 0 is PyTorch's first step, buf = g); w -= lr * buf. */
int k_sgd(void *stream, float *w, const float *g, float *buf, size_t n, float lr, float momentum);
/* Float to bfloat16 (round to nearest even); bfloat16 to float, y = beta * y + x (beta 0 or 1). */
int k_to_bf16(void *stream, const float *x, uint16_t *y, size_t n);
int k_from_bf16(void *stream, const uint16_t *x, float *y, size_t n, float beta);

#ifdef __cplusplus
}
#endif
#endif
