/*
 * data.h - the data sets every workload reads: DATA/<name>/{train,test}_{x,y}.npy and
 * manifest.json (docs/data-format.md).  Importers for the official CIFAR-10/100 binary tarballs
 * (libarchive, read in memory, never unpacked to disk) and SVHN .mat files (libmatio), and a
 * deterministic synthetic generator; all of them write through one data_set writer that routes
 * images into the train / test split, hashes each file and writes the manifest last.
 *
 * The manifest is read back by data_manifest_read() (for the native trainer; the Python
 * workloads read it in workloads/common/data.py).  Not a loader for training: workloads read the
 * .npy files themselves (npy.h has the C reader).  Nothing here prints;
 * each function returns 0, or -1 with a message in err naming the file (and archive member or
 * .mat variable) and what is wrong.
 */
#ifndef JB_SRC_DATA_DATA_H
#define JB_SRC_DATA_DATA_H

#include "data/npy.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define DATA_H 32
#define DATA_W 32
#define DATA_C 3
#define DATA_IMAGE_BYTES (DATA_H * DATA_W * DATA_C)
#define DATA_MAX_CLASSES 1000
#define DATA_MAX_SOURCES 8
#define DATA_MAX_NAME 64

enum data_part { DATA_TRAIN = 0, DATA_TEST = 1 };

/* seed-2023: the reference study's split, the last 10% of the official training set is the test
 * set (no shuffling; the official test set is not used).  official: the official sets. */
enum data_split { DATA_SPLIT_SEED2023 = 0, DATA_SPLIT_OFFICIAL = 1 };

const char *data_split_name(enum data_split split);
int data_split_parse(const char *s, enum data_split *out); /* 0 or -1 */
/* Train and test sizes a split gives.  seed-2023: test = ceil(n_official_train / 10), as
 * sklearn's train_test_split(test_size=0.1, shuffle=False) and Keras' validation_split=0.1 do. */
void data_split_sizes(enum data_split split, uint64_t n_official_train, uint64_t n_official_test,
                      uint64_t *n_train, uint64_t *n_test);

/* A name usable as a directory: 1..63 of [A-Za-z0-9._-], not starting with '.' or '-'. */
int data_name_valid(const char *name);

struct data_source {
    char file[256]; /* base name */
    char sha256[SHA256_HEX_CHARS];
    uint64_t size_bytes;
};

/* Fills s from the file at path: base name, SHA-256, size. */
int data_source_hash(struct data_source *s, const char *path, char *err, size_t errlen);

/* The writer of one data set.  Zero it, then data_set_open(). */
struct data_set {
    char dir[PATH_MAX];
    char name[DATA_MAX_NAME];
    enum data_split split;
    int synthetic; /* 1: source "synthetic", seed and generator in the manifest */
    uint64_t seed;
    int classes;
    uint64_t n[2];     /* images each part will hold */
    uint64_t added[2]; /* images written so far */
    uint64_t official_train_seen;
    struct npy_writer x[2], y[2];
    struct data_source sources[DATA_MAX_SOURCES];
    int n_sources;
};

/* Creates root/name/ and the four temporary .npy files for n_train and n_test images. */
int data_set_open(struct data_set *ds, const char *root, const char *name, enum data_split split,
                  uint64_t n_train, uint64_t n_test, int classes, char *err, size_t errlen);
/* Records a source file (hash, size) for the manifest. */
int data_set_add_source(struct data_set *ds, const char *path, char *err, size_t errlen);
/* Appends one HWC image (DATA_IMAGE_BYTES) and its label (0..classes-1) to a part. */
int data_set_add(struct data_set *ds, enum data_part part, const uint8_t *hwc, int64_t label,
                 char *err, size_t errlen);
/* Appends the next image of the official training set: into train, or, once the split's train
 * part is full, into test (seed-2023). */
int data_set_add_official_train(struct data_set *ds, const uint8_t *hwc, int64_t label, char *err,
                                size_t errlen);
/* Checks every part is complete, renames the files into place (after removing an older
 * manifest.json, so a directory is never described by a stale manifest) and writes
 * manifest.json last.  The writer is finished either way; call data_set_abort() after failure. */
int data_set_commit(struct data_set *ds, char *err, size_t errlen);
/* Removes whatever temporary files are left. */
void data_set_abort(struct data_set *ds);

/* CIFAR-10 / CIFAR-100 from the official binary tarball (cifar-10-binary.tar.gz,
 * cifar-100-binary.tar.gz). */
struct data_import {
    const char *dataset; /* "cifar10", "cifar100", "svhn" */
    const char *path;    /* CIFAR: the .tar.gz; SVHN: the directory holding the .mat files */
    const char *root;    /* DATA */
    enum data_split split;
    int svhn_extra; /* SVHN: append extra_32x32.mat to the official training set */
};
int data_import_cifar(const struct data_import *imp, struct data_set *ds, char *err, size_t errlen);
int data_import_svhn(const struct data_import *imp, struct data_set *ds, char *err, size_t errlen);

/* Synthetic set (synth.c). */
struct data_synth {
    const char *name;
    const char *root;
    uint64_t n_train, n_test;
    uint64_t seed;
    int classes;
};
#define DATA_SYNTH_GENERATOR "joulebench-synth-1"
/* Image `index` of `part` (HWC) and its label: a pure function of its arguments. */
void data_synth_image(uint64_t seed, int classes, enum data_part part, uint64_t index, uint8_t *hwc,
                      int64_t *label);
int data_synth_write(const struct data_synth *syn, struct data_set *ds, char *err, size_t errlen);

/* ---- reading a data set's manifest ------------------------------------------------------ */

#define DATA_N_FILES 4
/* "train_x.npy", "train_y.npy", "test_x.npy", "test_y.npy": the files of a data set. */
extern const char *const data_file_names[DATA_N_FILES];

struct data_manifest {
    char sha256[DATA_N_FILES][SHA256_HEX_CHARS]; /* lower case, in data_file_names' order */
    int num_classes; /* "num_classes" (or "classes", as joulebench writes it); 0 when absent */
};

/* Reads DIR/manifest.json (path given) as workloads/common/data.py does: "files" must give a
 * SHA-256 (64 hex digits) for each of the four files; "num_classes" or "classes", when present,
 * an integer >= 2.  Other keys are ignored.  Returns 0, or -1 with a message naming the file and
 * field in err. */
int data_manifest_read(const char *path, struct data_manifest *m, char *err, size_t errlen);

/* Pixel reorderings, exposed for the tests.  CIFAR: one record's 3 planes of 32x32 (R, G, B;
 * rows top to bottom) -> HWC.  SVHN: image n of MATLAB's column-major X(32,32,3,N), i.e. element
 * (h, w, c) at h + 32 w + 1024 c -> HWC. */
void data_chw_to_hwc(const uint8_t *chw, uint8_t *hwc);
void data_colmajor_to_hwc(const uint8_t *colmajor, uint8_t *hwc);

/*
 * Checks that a Level 5 MAT-file holds every byte its elements declare (mat5.c): each element
 * ends within the file, each numeric matrix holds one value per element of its dimensions, and
 * the compressed matrices named in vars (NULL-terminated; NULL: none) inflate to their whole
 * length.  Other MAT-file versions pass unchecked.  Returns 0, or -1 with "'PATH': damaged or cut
 * short MAT-file: ..." in err.  Reads f from its start; O(file size), constant memory.
 */
int data_mat5_check(FILE *f, const char *path, const char *const *vars, char *err, size_t errlen);

#endif
