/*
 * Fuzz harnesses as plain functions. fuzz/main.c wraps one of them into a
 * libFuzzer executable (SLIDEFRAG_FUZZ builds, scripts/fuzz); the cmocka
 * test tests/test_fuzz_regressions.c links them without libFuzzer and
 * replays the inputs kept in tests/fuzz_regressions/<name>/ and the corpora.
 *
 * Each returns 0 and aborts (through SF_FUZZ_CHECK) when a property that
 * must hold for every input does not: a crash for the fuzzer, a failure
 * for the test.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*sf_fuzz_fn)(const uint8_t *data, size_t size);

int sf_fuzz_detect(const uint8_t *data, size_t size);
int sf_fuzz_morphology(const uint8_t *data, size_t size);
int sf_fuzz_merge(const uint8_t *data, size_t size);
int sf_fuzz_fragment_name(const uint8_t *data, size_t size);
int sf_fuzz_annotations_yolo(const uint8_t *data, size_t size);
int sf_fuzz_annotations_voc(const uint8_t *data, size_t size);
int sf_fuzz_annotations_csv(const uint8_t *data, size_t size);
int sf_fuzz_annotations_coco(const uint8_t *data, size_t size);
int sf_fuzz_annotations_vgg(const uint8_t *data, size_t size);
int sf_fuzz_annotations_zip(const uint8_t *data, size_t size);
int sf_fuzz_manifest(const uint8_t *data, size_t size);
int sf_fuzz_params(const uint8_t *data, size_t size);
int sf_fuzz_boxes(const uint8_t *data, size_t size);
int sf_fuzz_slide(const uint8_t *data, size_t size);
int sf_fuzz_json_read(const uint8_t *data, size_t size);
int sf_fuzz_message(const uint8_t *data, size_t size);

typedef struct sf_fuzz_target {
    const char *name; /* fuzz/corpus/<name>, tests/fuzz_regressions/<name> */
    sf_fuzz_fn run;
} sf_fuzz_target;

/* Every harness, ending with {NULL, NULL}. */
extern const sf_fuzz_target sf_fuzz_targets[];

#define SF_FUZZ_CHECK(condition)                                                                   \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- Taking parameters from the front of the input --------------------- */

typedef struct sf_fuzz_input {
    const uint8_t *data;
    size_t size;
} sf_fuzz_input;

/* 0 once the input is used up, so every input is valid. */
static inline uint8_t sf_fuzz_u8(sf_fuzz_input *in)
{
    if (in->size == 0)
        return 0;
    in->size--;
    return *in->data++;
}

static inline uint16_t sf_fuzz_u16(sf_fuzz_input *in)
{
    uint16_t hi = sf_fuzz_u8(in);
    return (uint16_t)(hi << 8 | sf_fuzz_u8(in));
}

static inline uint32_t sf_fuzz_u32(sf_fuzz_input *in)
{
    uint32_t hi = sf_fuzz_u16(in);
    return hi << 16 | sf_fuzz_u16(in);
}

/* Shared checks of annotations (fuzz/annotations.c): every vertex finite,
 * the vertex count right for the shape; mapped slides counted and written
 * in every format, each output parsing again. Pointers to sf_annotation
 * and a GPtrArray of sf_slide_annotations, kept opaque here. */
struct sf_annotation;
struct _GPtrArray;
void sf_fuzz_check_annotation(const struct sf_annotation *annotation);
void sf_fuzz_check_mapped(const struct _GPtrArray *slides, unsigned n_mapped);

/* The path of an in-memory file holding `data` (a memfd), for readers that
 * take a path; "" on failure. Closed by the next call. */
const char *sf_fuzz_memfile(const uint8_t *data, size_t size);
