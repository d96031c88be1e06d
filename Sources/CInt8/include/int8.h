// 8-bit products for int8 weights (blocks of 32 with a Float scale each, as
// llama.cpp's Q8_0): the quantizer both weights and activations go through,
// and the AVX-512 VNNI dot products that Swift cannot express.
#ifndef SWIFTATTENTION_INT8_H
#define SWIFTATTENTION_INT8_H

#include <stdbool.h>
#include <stdint.h>

/// Elements per block: each block of 32 shares one scale.
#define SWIFTATTENTION_INT8_BLOCK 32

/// Quantizes `count` floats per block of 32 into `q` (`count` bytes) and
/// `scales` (one per block, the last block may be short): a block's scale is
/// its largest magnitude over 127 and each element the integer nearest to
/// `x * (127 / largest)` (ties to even), so no element moves by more than
/// about half a scale. An all-zero block has scale 0; a block holding a NaN
/// or an infinity has the first such element as its scale and zeros for elements.
void swiftattention_int8_quantize(const float *x, int64_t count, int8_t *q, float *scales);

/// Where a row prepared by `swiftattention_int8_prepare` keeps its scales
/// (after its integers, `count` rounded up to 64 bytes) and its corrections
/// (after its scales, the blocks rounded up to 16), and its size.
static inline int64_t swiftattention_int8_prepared_scales(int64_t count) { return (count + 63) / 64 * 64; }
static inline int64_t swiftattention_int8_prepared_corrections(int64_t count) {
    return swiftattention_int8_prepared_scales(count) + 4 * (((count + 31) / 32 + 15) / 16 * 16);
}
static inline int64_t swiftattention_int8_prepared_bytes(int64_t count) {
    return swiftattention_int8_prepared_corrections(count) + swiftattention_int8_prepared_scales(count);   // 4 bytes per 4
}

/// Quantizes a row of activations for the products below into `prepared`
/// (`swiftattention_int8_prepared_bytes(count)` bytes, 64-byte aligned):
/// `swiftattention_int8_quantize`'s integers zero-padded to a multiple of 64,
/// its scales zero-padded to a multiple of 16 blocks, and per 4 elements
/// `-128` times their sum (what the VNNI kernel's unsigned trick adds).
/// On a CPU with AVX-512 (F, BW, VL) this, like `swiftattention_int8_quantize`,
/// runs in vector code, writing the same bytes as the plain C below.
void swiftattention_int8_prepare(const float *x, int64_t count, void *prepared);

/// `swiftattention_int8_prepare` in plain C whatever the CPU: what it does
/// without AVX-512, and the reference its vector code is tested against.
void swiftattention_int8_prepare_plain(const float *x, int64_t count, void *prepared);

/// Whether this CPU runs `swiftattention_int8_vnni_dots` (AVX-512 F, BW, VL
/// and VNNI); false on other architectures.
bool swiftattention_int8_vnni_available(void);

/// For lines `first..<end` of int8 weights `w` (`lines × length`, scales `ws`,
/// `⌈length / 32⌉` per line) and `rows` prepared rows at `x` (each
/// `swiftattention_int8_prepared_bytes(length)` bytes after the last):
/// `y[r * lines + i] = dot + beta * y[r * lines + i]`, where a block's dot is
/// the exact integer sum of its products (`vpdpbusd`) times its two scales,
/// summed in `Float` per line in an order that does not depend on `rows`, so
/// a row's result never depends on the rows beside it. Only where
/// `swiftattention_int8_vnni_available()`.
void swiftattention_int8_vnni_dots(const int8_t *w, const float *ws, int64_t lines, int64_t length,
                                   int64_t first, int64_t end, const void *x, int64_t rows,
                                   float *y, float beta);

#endif
