/*
 * phases.h - internals of the phase accountant that tests look at (not installed).
 */
#ifndef JB_SRC_LIB_PHASES_H
#define JB_SRC_LIB_PHASES_H

#include "joulebench.h"

#include <stdint.h>

/* Units of work done so far (elements visited by searches, scans, heap moves and pruning): a
 * test checks that it grows sub-quadratically with the number of open phases. */
uint64_t jb__phases_work(const struct jb_phases *p);

#endif
