// Software prefetch for the pure-Swift kernels, which Swift cannot express.
#ifndef SWIFTATTENTION_PREFETCH_H
#define SWIFTATTENTION_PREFETCH_H

/// Asks the CPU to bring the cache line at `address` toward its caches for a
/// read (`__builtin_prefetch`, highest locality). Never faults, whatever the address.
static inline __attribute__((always_inline)) void swiftattention_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Asks the CPU to bring the cache line at `address` into its outer caches,
/// not the first level (`__builtin_prefetch` locality 1: `prefetcht2` on x86),
/// for a stream read beside data that must stay in the first-level cache.
/// Never faults, whatever the address.
static inline __attribute__((always_inline)) void swiftattention_prefetch_outer(const void *address) {
    __builtin_prefetch(address, 0, 1);
}

#endif
