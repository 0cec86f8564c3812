/*
 * model.c - the layout of torchvision's ResNet v1.5 (workloads/common/resnet.py, the --impl matched
 * network): blocks, convolutions, batch norms, and every state_dict entry with its name, shape and
 * place in the trainer's two flat arenas (parameters in model.parameters() order, so that one
 * SGD kernel updates all of them; running statistics apart).  No arithmetic here.
 */
#include "native.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int blocks[4];
} models[] = {
    {"resnet50", {3, 4, 6, 3}},
    {"resnet101", {3, 4, 23, 3}},
    {"resnet152", {3, 8, 36, 3}},
};

static int add_tensor(struct native_model *m, const char *prefix, const char *suffix,
                      enum tensor_kind kind, int ndim, const int *shape)
{
    struct native_tensor *t = &m->tensors[m->n_tensors];

    snprintf(t->name, sizeof(t->name), "%s%s", prefix, suffix);
    t->kind = kind;
    t->ndim = ndim;
    t->count = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->count *= (size_t)shape[i];
    }
    t->trainable = kind != T_BN_MEAN && kind != T_BN_VAR;
    if (t->trainable) {
        t->offset = m->n_params;
        m->n_params += t->count;
    } else {
        t->offset = m->n_stats;
        m->n_stats += t->count;
    }
    return m->n_tensors++;
}

static void conv(struct native_model *m, struct native_conv *c, const char *name, int cin, int cout,
                 int k, int stride)
{
    int shape[4] = {cout, cin, k, k};

    c->cin = cin;
    c->cout = cout;
    c->k = k;
    c->stride = stride;
    c->pad = k / 2; /* 7x7: 3, 3x3: 1, 1x1: 0, as torchvision pads */
    c->weight = add_tensor(m, name, ".weight", T_CONV, 4, shape);
}

static void bn(struct native_model *m, struct native_bn *b, const char *name, int c)
{
    b->c = c;
    b->weight = add_tensor(m, name, ".weight", T_BN_WEIGHT, 1, &c);
    b->bias = add_tensor(m, name, ".bias", T_BN_BIAS, 1, &c);
    b->mean = add_tensor(m, name, ".running_mean", T_BN_MEAN, 1, &c);
    b->var = add_tensor(m, name, ".running_var", T_BN_VAR, 1, &c);
}

int native_model_build(struct native_model *m, const char *name, int classes, char *err,
                       size_t errlen)
{
    static const int planes[4] = {64, 128, 256, 512}, strides[4] = {1, 2, 2, 2};
    int which = -1, in_ch = 64;
    char prefix[40];

    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        if (!strcmp(models[i].name, name))
            which = (int)i;
    if (which < 0) {
        snprintf(err, errlen, "unknown model '%s' (one of resnet50, resnet101, resnet152)", name);
        return -1;
    }
    if (classes < 2) {
        snprintf(err, errlen, "a classifier needs at least 2 classes, not %d", classes);
        return -1;
    }
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->classes = classes;
    conv(m, &m->stem, "conv1", 3, 64, 7, 2);
    bn(m, &m->stem_bn, "bn1", 64);
    for (int stage = 0; stage < 4; stage++) {
        int out_ch = planes[stage] * 4;
        for (int b = 0; b < models[which].blocks[stage]; b++) {
            struct native_block *k = &m->blocks[m->n_blocks++];
            int s = b == 0 ? strides[stage] : 1;

            k->in_ch = in_ch;
            k->width = planes[stage];
            k->out_ch = out_ch;
            k->stride = s;
            k->down = b == 0 && (s != 1 || in_ch != out_ch);
            snprintf(prefix, sizeof(prefix), "layer%d.%d.conv1", stage + 1, b);
            conv(m, &k->conv1, prefix, in_ch, k->width, 1, 1);
            snprintf(prefix, sizeof(prefix), "layer%d.%d.bn1", stage + 1, b);
            bn(m, &k->bn1, prefix, k->width);
            snprintf(prefix, sizeof(prefix), "layer%d.%d.conv2", stage + 1, b);
            conv(m, &k->conv2, prefix, k->width, k->width, 3, s); /* v1.5: the stride is here */
            snprintf(prefix, sizeof(prefix), "layer%d.%d.bn2", stage + 1, b);
            bn(m, &k->bn2, prefix, k->width);
            snprintf(prefix, sizeof(prefix), "layer%d.%d.conv3", stage + 1, b);
            conv(m, &k->conv3, prefix, k->width, out_ch, 1, 1);
            snprintf(prefix, sizeof(prefix), "layer%d.%d.bn3", stage + 1, b);
            bn(m, &k->bn3, prefix, out_ch);
            if (k->down) {
                snprintf(prefix, sizeof(prefix), "layer%d.%d.downsample.0", stage + 1, b);
                conv(m, &k->convd, prefix, in_ch, out_ch, 1, s);
                snprintf(prefix, sizeof(prefix), "layer%d.%d.downsample.1", stage + 1, b);
                bn(m, &k->bnd, prefix, out_ch);
            }
            in_ch = out_ch;
        }
    }
    {
        int wshape[2] = {classes, NATIVE_FEATURES};
        m->fc_weight = add_tensor(m, "fc", ".weight", T_FC_WEIGHT, 2, wshape);
        m->fc_bias = add_tensor(m, "fc", ".bias", T_FC_BIAS, 1, &classes);
    }
    return 0;
}

int native_model_find(const struct native_model *m, const char *tensor_name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, tensor_name))
            return i;
    return -1;
}
