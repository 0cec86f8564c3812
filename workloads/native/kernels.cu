/*
 * kernels.cu - the few kernels the native trainer needs beside cuDNN and cuBLAS; see kernels.h.
 * Elementwise kernels are grid-stride loops; the training head is one block, since a batch's
 * logits are a few thousand values.  Built without fast math: the divisions by 255 and by the
 * batch size are IEEE divisions, like the frameworks'.
 */
#include "kernels.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#define THREADS 256

static int blocks_for(size_t n)
{
    size_t b = (n + THREADS - 1) / THREADS;
    return (int)(b > 4096 ? 4096 : (b ? b : 1));
}

static int launched(void)
{
    return (int)cudaGetLastError();
}

__global__ void gather_kernel(const uint8_t *images, const int32_t *labels, const int32_t *order,
                              const int *counter, int stride, long offset, int n, int h, int w,
                              int scale_255, int nhwc, float *x, int32_t *y)
{
    long start = counter ? (long)(*counter) * stride : offset;
    size_t total = (size_t)n * 3 * h * w, hw = (size_t)h * w;

    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t img = i / (3 * hw), rest = i % (3 * hw);
        size_t c = nhwc ? rest % 3 : rest / hw, p = nhwc ? rest / 3 : rest % hw;
        long row = order ? order[start + (long)img] : start + (long)img;
        float v = (float)images[(size_t)row * 3 * hw + p * 3 + c];

        x[i] = scale_255 ? v / 255.0f : v;
        if (rest == 0)
            y[img] = labels[row];
    }
}

extern "C" int k_gather(void *stream, const uint8_t *images, const int32_t *labels,
                        const int32_t *order, const int *counter, int stride, long offset, int n,
                        int h, int w, int scale_255, int nhwc, float *x, int32_t *y)
{
    gather_kernel<<<blocks_for((size_t)n * 3 * h * w), THREADS, 0, (cudaStream_t)stream>>>(
        images, labels, order, counter, stride, offset, n, h, w, scale_255, nhwc, x, y);
    return launched();
}

__global__ void relu_kernel(float *x, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

extern "C" int k_relu(void *stream, float *x, size_t n)
{
    relu_kernel<<<blocks_for(n), THREADS, 0, (cudaStream_t)stream>>>(x, n);
    return launched();
}

__global__ void relu_mask_kernel(float *g, const float *y, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        if (!(y[i] > 0.0f))
            g[i] = 0.0f;
}

extern "C" int k_relu_mask(void *stream, float *g, const float *y, size_t n)
{
    relu_mask_kernel<<<blocks_for(n), THREADS, 0, (cudaStream_t)stream>>>(g, y, n);
    return launched();
}

__global__ void add_relu_kernel(const float *a, const float *b, float *y, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float v = __fadd_rn(a[i], b[i]);
        y[i] = v > 0.0f ? v : 0.0f;
    }
}

extern "C" int k_add_relu(void *stream, const float *a, const float *b, float *y, size_t n)
{
    add_relu_kernel<<<blocks_for(n), THREADS, 0, (cudaStream_t)stream>>>(a, b, y, n);
    return launched();
}

__global__ void add_kernel(float *dst, const float *src, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __fadd_rn(dst[i], src[i]);
}

extern "C" int k_add(void *stream, float *dst, const float *src, size_t n)
{
    add_kernel<<<blocks_for(n), THREADS, 0, (cudaStream_t)stream>>>(dst, src, n);
    return launched();
}

__global__ void avgpool_kernel(const float *x, float *y, int n, int c, int hw, int nhwc)
{
    int nc = n * c;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < nc; i += gridDim.x * blockDim.x) {
        int img = i / c, ch = i % c;
        float s = 0.0f;
        for (int p = 0; p < hw; p++)
            s += nhwc ? x[((size_t)img * hw + p) * c + ch] : x[(size_t)i * hw + p];
        y[i] = s / (float)hw;
    }
}

extern "C" int k_avgpool(void *stream, const float *x, float *y, int n, int c, int hw, int nhwc)
{
    avgpool_kernel<<<blocks_for((size_t)n * c), THREADS, 0, (cudaStream_t)stream>>>(x, y, n, c, hw,
                                                                                    nhwc);
    return launched();
}

__global__ void avgpool_bwd_kernel(const float *dy, float *dx, int n, int c, int hw, int nhwc)
{
    size_t total = (size_t)n * c * hw;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t src = nhwc ? (i / ((size_t)hw * c)) * c + i % c : i / hw;
        dx[i] = dy[src] / (float)hw;
    }
}

extern "C" int k_avgpool_bwd(void *stream, const float *dy, float *dx, int n, int c, int hw,
                             int nhwc)
{
    avgpool_bwd_kernel<<<blocks_for((size_t)n * c * hw), THREADS, 0, (cudaStream_t)stream>>>(
        dy, dx, n, c, hw, nhwc);
    return launched();
}

__global__ void bias_add_kernel(float *logits, const float *bias, int n, int k)
{
    size_t total = (size_t)n * k;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x)
        logits[i] = __fadd_rn(logits[i], bias[i % k]);
}

extern "C" int k_bias_add(void *stream, float *logits, const float *bias, int n, int k)
{
    bias_add_kernel<<<blocks_for((size_t)n * k), THREADS, 0, (cudaStream_t)stream>>>(logits, bias,
                                                                                     n, k);
    return launched();
}

__global__ void softmax_xent_kernel(float *logits, const float *bias, const int32_t *y, int n,
                                    int k, float *dlogits, float *dbias, float *losses,
                                    int *counter)
{
    __shared__ float partial[THREADS];
    __shared__ int slot;
    float sum = 0.0f;

    if (threadIdx.x == 0)
        slot = counter ? *counter : 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float *z = logits + (size_t)i * k;
        float *d = dlogits + (size_t)i * k;
        float m = -INFINITY, s = 0.0f, lse;
        int label = y[i];

        for (int c = 0; c < k; c++) {
            z[c] = __fadd_rn(z[c], bias[c]);
            m = fmaxf(m, z[c]);
        }
        for (int c = 0; c < k; c++)
            s += expf(z[c] - m);
        lse = m + logf(s);
        sum += lse - z[label];
        for (int c = 0; c < k; c++) {
            float p = expf(z[c] - lse);
            d[c] = ((c == label) ? p - 1.0f : p) / (float)n;
        }
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half)
            partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    /* dlogits of every sample are written (and visible to the block after the barrier above). */
    for (int c = threadIdx.x; c < k; c += blockDim.x) {
        float s = 0.0f;
        for (int i = 0; i < n; i++)
            s += dlogits[(size_t)i * k + c];
        dbias[c] = s;
    }
    if (threadIdx.x == 0) {
        losses[slot] = partial[0] / (float)n;
        if (counter)
            *counter = slot + 1;
    }
}

extern "C" int k_softmax_xent(void *stream, float *logits, const float *bias, const int32_t *y,
                              int n, int k, float *dlogits, float *dbias, float *losses,
                              int *counter)
{
    softmax_xent_kernel<<<1, THREADS, 0, (cudaStream_t)stream>>>(logits, bias, y, n, k, dlogits,
                                                                 dbias, losses, counter);
    return launched();
}

__global__ void sgd_kernel(float *w, const float *g, float *buf, size_t n, float neg_lr,
                           float momentum)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        /* PyTorch's foreach SGD: buf.mul_(momentum).add_(grad); param.add_(buf, alpha=-lr). */
        float b = __fadd_rn(__fmul_rn(momentum, buf[i]), g[i]);
        buf[i] = b;
        w[i] = __fmaf_rn(neg_lr, b, w[i]);
    }
}

extern "C" int k_sgd(void *stream, float *w, const float *g, float *buf, size_t n, float lr,
                     float momentum)
{
    sgd_kernel<<<blocks_for(n), THREADS, 0, (cudaStream_t)stream>>>(w, g, buf, n, -lr, momentum);
    return launched();
}

__global__ void to_bf16_kernel(const float *x, __nv_bfloat16 *y, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16_rn(x[i]);
}

extern "C" int k_to_bf16(void *stream, const float *x, uint16_t *y, size_t n)
{
    to_bf16_kernel<<<blocks_for(n), THREADS, 0, (cudaStream_t)stream>>>(x, (__nv_bfloat16 *)y, n);
    return launched();
}

__global__ void from_bf16_kernel(const __nv_bfloat16 *x, float *y, size_t n, float beta)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float v = __bfloat162float(x[i]);
        y[i] = beta != 0.0f ? __fadd_rn(y[i], v) : v;
    }
}

extern "C" int k_from_bf16(void *stream, const uint16_t *x, float *y, size_t n, float beta)
{
    from_bf16_kernel<<<blocks_for(n), THREADS, 0, (cudaStream_t)stream>>>((const __nv_bfloat16 *)x,
                                                                          y, n, beta);
    return launched();
}
