// CPrefetch is header-only (prefetch.h); SwiftPM wants a source file per C target.
#include "prefetch.h"
