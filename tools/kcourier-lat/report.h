/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcourier-lat's output: per stage a log2 histogram of microseconds as
 * funclatency prints it, with its count, mean and p50/p99 estimates; or
 * one JSON object per report.
 */
#ifndef KC_LAT_REPORT_H
#define KC_LAT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "kcourier_lat.h"

/* The stage's name on the command line and in JSON, and its meaning. */
const char *lat_stage_name(int stage);
const char *lat_stage_about(int stage);
/* The stage called name, or -1. */
int lat_stage_find(const char *name);

/* cur minus prev, per stage: one interval's worth. */
void lat_delta(const struct kl_hist cur[KL_NSTAGES],
	       const struct kl_hist prev[KL_NSTAGES],
	       struct kl_hist out[KL_NSTAGES]);

/* The estimate of quantile q (0..1) in microseconds; 0 when empty. */
double lat_quantile(const struct kl_hist *h, double q);

struct lat_report {
	FILE *out;
	bool json;
	int only;	/* one stage, or -1 for all */
	double seconds; /* what the histograms cover */
	bool total;	/* since attach, not one interval */
};

void lat_print(const struct lat_report *r, const struct kl_hist h[KL_NSTAGES]);

#endif
