/*
 * metrics.c - the evaluation metrics of workloads/common/metrics.py in C: accuracy, macro
 * precision, recall and F1 over the classes present in the true or the predicted labels (a class
 * never predicted has precision 0, one never present recall 0, F1 0 when P + R = 0), and the mean
 * softmax cross-entropy computed in double from the logits.  argmax takes the first maximum, as
 * numpy's does.  Host code, on the logits copied back once per evaluation.
 */
#include "native.h"

#include <math.h>
#include <stdlib.h>

double native_mean(const float *v, size_t n)
{
    double s = 0;

    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i];
    return s / (double)n;
}

int native_metrics_eval(const float *logits, const int32_t *y, size_t n, int classes,
                        struct native_metrics *out)
{
    double *tp, *n_true, *n_pred, loss = 0, sp = 0, sr = 0, sf = 0, correct = 0;
    int k = 0;

    if (n == 0) {
        out->accuracy = out->precision = out->recall = out->f1 = out->loss = NAN;
        return 0;
    }
    tp = calloc((size_t)classes * 3, sizeof(double));
    if (!tp)
        return -1;
    n_true = tp + classes;
    n_pred = n_true + classes;
    for (size_t i = 0; i < n; i++) {
        const float *z = logits + i * (size_t)classes;
        int best = 0;
        double m, sum = 0;

        for (int c = 1; c < classes; c++)
            if (z[c] > z[best])
                best = c;
        m = z[best];
        for (int c = 0; c < classes; c++)
            sum += exp((double)z[c] - m);
        loss += m + log(sum) - (double)z[y[i]];
        n_true[y[i]] += 1;
        n_pred[best] += 1;
        if (best == y[i]) {
            tp[best] += 1;
            correct += 1;
        }
    }
    for (int c = 0; c < classes; c++) {
        double p, r;
        if (n_true[c] == 0 && n_pred[c] == 0)
            continue; /* not among the labels that occur */
        k++;
        p = n_pred[c] > 0 ? tp[c] / n_pred[c] : 0.0;
        r = n_true[c] > 0 ? tp[c] / n_true[c] : 0.0;
        sp += p;
        sr += r;
        sf += p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    out->accuracy = correct / (double)n;
    out->precision = sp / k;
    out->recall = sr / k;
    out->f1 = sf / k;
    out->loss = loss / (double)n;
    free(tp);
    return 0;
}
