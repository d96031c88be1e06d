// Software prefetch for the pure-Swift kernels, which Swift cannot express.
#ifndef SWIFTATTENTION_PREFETCH_H
#define SWIFTATTENTION_PREFETCH_H

/// Asks the CPU to bring the cache line at `address` toward its caches for a
/// read (`__builtin_prefetch`, highest locality). Never faults, whatever the address.
static inline __attribute__((always_inline)) void swiftattention_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
