#include "int8.h"
#include <math.h>
#include <string.h>

/// Quantizes one block of `n` (at most 32) floats into `q` and returns its scale.
static inline float plainBlock(const float *v, int64_t n, int8_t *q) {
    float largest = 0;
    int finite = 1;
    for (int64_t i = 0; i < n; i++) {
        const float a = fabsf(v[i]);
        largest = a > largest ? a : largest;
        finite &= a <= 3.40282347e38f;                           // false for NaN and infinities
    }
    if (!finite) {                                               // the first non-finite element, for `nonFinite` to report
        int64_t i = 0;
        while (fabsf(v[i]) <= 3.40282347e38f) i++;
        memset(q, 0, (size_t)n);
        return v[i];
    }
    const float inverse = largest > 0 ? 127 / largest : 0;
    for (int64_t i = 0; i < n; i++) {
        // Adding and taking away 1.5 · 2^23 rounds to the nearest integer (ties to even) for |t| ≤ 2^22,
        // in plain float arithmetic the compiler vectorizes.
        const float t = v[i] * inverse;
        q[i] = (int8_t)(int32_t)((t + 12582912.0f) - 12582912.0f);
    }
    return largest / 127;
}

/// The corrections of a prepared row's integers `q` (`padded` of them, a multiple of 64): per 4, `-128` times their sum.
static void plainCorrections(const int8_t *q, int64_t padded, int32_t *corrections) {
    for (int64_t l = 0; l < padded / 4; l++) {
        corrections[l] = -128 * ((int32_t)q[4 * l] + q[4 * l + 1] + q[4 * l + 2] + q[4 * l + 3]);
    }
}

/// Zeroes what lies between a prepared row's parts (`count` integers, then scales, then corrections).
static void zeroPadding(int64_t count, void *prepared) {
    int8_t *bytes = prepared;
    const int64_t blocks = (count + 31) / 32, scales = swiftattention_int8_prepared_scales(count);
    memset(bytes + count, 0, (size_t)(scales - count));
    memset(bytes + scales + 4 * blocks, 0, (size_t)(swiftattention_int8_prepared_corrections(count) - scales - 4 * blocks));
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define NEAREST_EVEN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/// Whether this CPU has AVX-512 F, BW and VL (what `vectorBlock` and `vectorCorrections` need).
static bool avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

/// `plainBlock` in AVX-512, to the same bits: the same products `v[i] * inverse`, rounded to
/// nearest even by the conversion; a block holding a NaN or an infinity goes to `plainBlock`.
static inline AVX512 float vectorBlock(const float *v, int64_t n, int8_t *q) {
    const __mmask16 low = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    const __mmask16 high = n >= 32 ? 0xffff : (n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1));
    const __m512 a = _mm512_maskz_loadu_ps(low, v), b = _mm512_maskz_loadu_ps(high, v + 16);   // lanes past n: 0
    const __m512 absA = _mm512_abs_ps(a), absB = _mm512_abs_ps(b), finiteLimit = _mm512_set1_ps(3.40282347e38f);
    // Not ≤ the largest finite Float (unordered too): an infinity or a NaN in either half.
    if (_mm512_cmp_ps_mask(absA, finiteLimit, _CMP_NLE_UQ) | _mm512_cmp_ps_mask(absB, finiteLimit, _CMP_NLE_UQ)) {
        return plainBlock(v, n, q);
    }
    const float largest = _mm512_reduce_max_ps(_mm512_max_ps(absA, absB));
    const float inverse = largest > 0 ? 127 / largest : 0;
    const __m512 by = _mm512_set1_ps(inverse);
    _mm_mask_storeu_epi8(q, low, _mm512_cvtepi32_epi8(_mm512_cvt_roundps_epi32(_mm512_mul_ps(a, by), NEAREST_EVEN)));
    _mm_mask_storeu_epi8(q + 16, high, _mm512_cvtepi32_epi8(_mm512_cvt_roundps_epi32(_mm512_mul_ps(b, by), NEAREST_EVEN)));
    return largest / 127;
}

/// `plainCorrections` in AVX-512: 64 integers at a time, summed in pairs (times 1) and then in
/// pairs of pairs (times -128).
static AVX512 void vectorCorrections(const int8_t *q, int64_t padded, int32_t *corrections) {
    const __m512i ones = _mm512_set1_epi8(1), minus128 = _mm512_set1_epi16(-128);
    for (int64_t c = 0; c < padded; c += 64) {
        const __m512i pairs = _mm512_maddubs_epi16(ones, _mm512_loadu_si512(q + c));          // 32 int16: q[2j] + q[2j + 1]
        _mm512_storeu_si512(corrections + c / 4, _mm512_madd_epi16(pairs, minus128));       // 16 int32
    }
}

static AVX512 void vectorQuantize(const float *x, int64_t count, int8_t *q, float *scales) {
    for (int64_t start = 0, b = 0; start < count; start += SWIFTATTENTION_INT8_BLOCK, b++) {
        const int64_t n = count - start < SWIFTATTENTION_INT8_BLOCK ? count - start : SWIFTATTENTION_INT8_BLOCK;
        scales[b] = vectorBlock(x + start, n, q + start);
    }
}
#else
static bool avx512(void) { return false; }
static void vectorQuantize(const float *x, int64_t count, int8_t *q, float *scales) { __builtin_trap(); }
static void vectorCorrections(const int8_t *q, int64_t padded, int32_t *corrections) { __builtin_trap(); }
#endif

static void plainQuantize(const float *x, int64_t count, int8_t *q, float *scales) {
    for (int64_t start = 0, b = 0; start < count; start += SWIFTATTENTION_INT8_BLOCK, b++) {
        const int64_t n = count - start < SWIFTATTENTION_INT8_BLOCK ? count - start : SWIFTATTENTION_INT8_BLOCK;
        scales[b] = plainBlock(x + start, n, q + start);
    }
}

void swiftattention_int8_quantize(const float *x, int64_t count, int8_t *q, float *scales) {
    if (avx512()) vectorQuantize(x, count, q, scales);
    else plainQuantize(x, count, q, scales);
}

/// A prepared row (see the header), in AVX-512 (`vector`) or plain C.
static void prepare(const float *x, int64_t count, void *prepared, bool vector) {
    int8_t *q = prepared;
    const int64_t padded = swiftattention_int8_prepared_scales(count);
    float *scales = (float *)(q + padded);
    int32_t *corrections = (int32_t *)(q + swiftattention_int8_prepared_corrections(count));
    zeroPadding(count, prepared);
    if (vector) {
        vectorQuantize(x, count, q, scales);
        vectorCorrections(q, padded, corrections);
    } else {
        plainQuantize(x, count, q, scales);
        plainCorrections(q, padded, corrections);
    }
}

void swiftattention_int8_prepare(const float *x, int64_t count, void *prepared) { prepare(x, count, prepared, avx512()); }

void swiftattention_int8_prepare_plain(const float *x, int64_t count, void *prepared) { prepare(x, count, prepared, false); }

#if defined(__x86_64__)

bool swiftattention_int8_vnni_available(void) {
    return avx512() && __builtin_cpu_supports("avx512vnni");
}

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))

/// Adds chunk `c` (64 weights: two blocks) of a line's dot products with `R`
/// rows into `sums`: the weights plus 128 as unsigned bytes times the row's
/// signed bytes, summed in fours into 16 int32 lanes on top of the row's
/// corrections (so each lane is the exact sum of its four products), converted
/// to Float and multiplied by the two blocks' scales (lanes 0–7 the first
/// block's, 8–15 the second's: `pair` picks them from `scales`).
static inline __attribute__((always_inline)) VNNI
void chunk(const int R, const int8_t *w, int64_t c, __mmask64 mask, const int8_t *const *row, int64_t corrections,
           const __m512 *scales, __m512i pair, __m512 *sums) {
    _mm_prefetch((const char *)(w + c * 64 + 2048), _MM_HINT_T0);
    const __m512i u = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, w + c * 64), _mm512_set1_epi8((char)0x80));
    for (int r = 0; r < R; r++) {
        const __m512i lanes = _mm512_dpbusd_epi32(_mm512_loadu_si512(row[r] + corrections + c * 64), u, _mm512_loadu_si512(row[r] + c * 64));
        sums[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lanes), _mm512_permutexvar_ps(pair, scales[r]), sums[r]);
    }
}

/// The dot products of a line with `R` prepared rows (`row[r]`), each row's
/// arithmetic the same whatever `R` is: chunks of 64 weights (`chunk`), even
/// and odd ones into two accumulators, which meet at the end.
static inline __attribute__((always_inline)) VNNI
void lineDots(const int R, const int8_t *w, const float *ws, int64_t length, const int8_t *const *row, float *dots) {
    const int64_t blocks = (length + 31) / 32, chunks = (length + 63) / 64;
    const int64_t scaleOffset = swiftattention_int8_prepared_scales(length), corrections = swiftattention_int8_prepared_corrections(length);
    const __m512i two = _mm512_set1_epi32(2);
    const __m512i firstPair = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __mmask64 tail = length % 64 ? (((__mmask64)1 << (length % 64)) - 1) : ~(__mmask64)0;
    __m512 even[4], odd[4];
    for (int r = 0; r < R; r++) { even[r] = _mm512_setzero_ps(); odd[r] = _mm512_setzero_ps(); }
    for (int64_t g = 0; g * 8 < chunks; g++) {                                     // 16 blocks share one load of scales
        const int64_t left = blocks - 16 * g;
        const __m512 lineScales = _mm512_maskz_loadu_ps(left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1), ws + 16 * g);
        __m512 scales[4];
        for (int r = 0; r < R; r++) {
            scales[r] = _mm512_mul_ps(lineScales, _mm512_loadu_ps((const float *)(row[r] + scaleOffset) + 16 * g));
        }
        __m512i pair = firstPair;
        const int64_t last = chunks < 8 * g + 8 ? chunks : 8 * g + 8;
        for (int64_t c = 8 * g; c < last; c += 2) {
            chunk(R, w, c, c == chunks - 1 ? tail : ~(__mmask64)0, row, corrections, scales, pair, even);
            pair = _mm512_add_epi32(pair, two);
            if (c + 1 == last) break;
            chunk(R, w, c + 1, c + 1 == chunks - 1 ? tail : ~(__mmask64)0, row, corrections, scales, pair, odd);
            pair = _mm512_add_epi32(pair, two);
        }
    }
    for (int r = 0; r < R; r++) dots[r] = _mm512_reduce_add_ps(_mm512_add_ps(even[r], odd[r]));
}

VNNI void swiftattention_int8_vnni_dots(const int8_t *w, const float *ws, int64_t lines, int64_t length,
                                        int64_t first, int64_t end, const void *x, int64_t rows,
                                        float *y, float beta) {
    const int64_t blocks = (length + 31) / 32, stride = swiftattention_int8_prepared_bytes(length);
    // Many rows: runs of lines about 48 KB long, each taken by every group of four rows in
    // turn, so a run is read from memory once and then from the second-level cache.
    const int64_t run = rows <= 4 ? end - first : (49152 + length - 1) / length;
    const int8_t *base = x;
    for (int64_t i0 = first; i0 < end; i0 += run) {
        const int64_t i1 = end - i0 < run ? end : i0 + run;
        for (int64_t r0 = 0; r0 < rows; r0 += 4) {
            const int count = rows - r0 < 4 ? (int)(rows - r0) : 4;
            const int8_t *row[4];                                                   // rows past the end repeat the last; dropped
            for (int r = 0; r < 4; r++) row[r] = base + (r0 + (r < count ? r : count - 1)) * stride;
            for (int64_t i = i0; i < i1; i++) {
                float dots[4];
                if (rows == 1) lineDots(1, w + i * length, ws + i * blocks, length, row, dots);
                else lineDots(4, w + i * length, ws + i * blocks, length, row, dots);
                for (int r = 0; r < count; r++) {
                    float *out = y + (r0 + r) * lines + i;
                    *out = beta == 0 ? dots[r] : fmaf(beta, *out, dots[r]);
                }
            }
        }
    }
}

#else

bool swiftattention_int8_vnni_available(void) { return false; }

void swiftattention_int8_vnni_dots(const int8_t *w, const float *ws, int64_t lines, int64_t length,
                                   int64_t first, int64_t end, const void *x, int64_t rows,
                                   float *y, float beta) {
    __builtin_trap();                                                              // never called: not available
}

#endif
