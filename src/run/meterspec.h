/*
 * meterspec.h - rewriting a meter specification for one GPU (the 'run --gpus' scheduler).
 *
 * A child runner bound to one GPU measures that GPU only: GPU tokens become that GPU, simulated
 * meters stay, and CPU/DRAM domains go (runs on other GPUs share them, so their energy could not
 * be attributed to one run).  Pure string work: nothing is opened here.
 */
#ifndef JB_SRC_RUN_METERSPEC_H
#define JB_SRC_RUN_METERSPEC_H

/*
 * Returns a malloc'ed specification: every "auto", "gpu" or "gpuN" token replaced by one
 * "gpu<gpu>" (at the first such token's place), "sim..." tokens kept in order, other tokens
 * dropped (*dropped set to 1 when any was).  NULL when nothing is left, or out of memory.
 */
char *meterspec_for_gpu(const char *spec, int gpu, int *dropped);

#endif
