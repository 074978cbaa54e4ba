/* SPDX-License-Identifier: MIT */
/*
 * models.c - the table of device models procvisor-dm knows.
 */
#include <string.h>

#include "vfu_devices.h"

const struct vfu_model *vfu_model_find(const char *name)
{
    static const struct vfu_model *const models[] = {&vfu_model_edu,
                                                     &vfu_model_mtty};

    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        if (strcmp(models[i]->name, name) == 0) {
            return models[i];
        }
    }
    return NULL;
}
