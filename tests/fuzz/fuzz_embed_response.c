/*
 * The HTTP embedder's answers (embed/openai_json.c): a 2xx body checked and turned into
 * vectors (mni_openai_parse), and an error body turned into a message (mni_openai_server_message).
 * Input: a first line "N DIM" (inputs sent, 1..64, and the model's dimension, 1..64; anything
 * else means 1 and 4), then the body.
 * Checks, besides no crash or leak: an accepted answer fills every vector with finite values
 * of unit length (or all zeros); the message is one line of at most 200 bytes.
 */
#include "fuzz.h"
#include "embed/openai.h"

#include <manushya.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_N 64
#define MAX_DIM 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *head, *body, err[512], msg[512];
    fuzz_split(data, size, &head, &body);
    int n = 1, dim = 4;
    if (sscanf(head, "%d %d", &n, &dim) != 2 || n < 1 || n > MAX_N || dim < 1 || dim > MAX_DIM) {
        n = 1;
        dim = 4;
    }
    mni_embedder e = { .dim = dim, .model = "fuzz-model" };
    float out[MAX_N * MAX_DIM];
    size_t len = strlen(body);
    if (mni_openai_parse(&e, body, len, (size_t)n, out, err, sizeof err) == MN_OK) {
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int k = 0; k < dim; k++) {
                fuzz_assert(isfinite(out[i * dim + k]), "a vector has a value not finite");
                sum += (double)out[i * dim + k] * out[i * dim + k];
            }
            fuzz_assert(sum == 0 || fabs(sum - 1) < 1e-3, "a vector is not of unit length");
        }
    }
    mni_openai_server_message(body, len, msg, sizeof msg);
    fuzz_assert(strlen(msg) <= 200 && !strchr(msg, '\n'), "the message is not one short line");
    free(head);
    free(body);
    return 0;
}
