// The C interfaces SwiftAttention uses: CBLAS (with OpenBLAS's extensions,
// such as openblas_set_num_threads) and LAPACKE. Nothing else lives here.
#include <cblas.h>
#include <lapacke.h>
