/* jconfig.h for libjpeg-turbo 2.1.5 built without CMake (bench/riscv): the
 * values CMake writes for an 8-bit, libjpeg-6b-API, no-SIMD Linux build. */
#define JPEG_LIB_VERSION  62
#define LIBJPEG_TURBO_VERSION  2.1.5
#define LIBJPEG_TURBO_VERSION_NUMBER  2001005
#define MEM_SRCDST_SUPPORTED  1
#define BITS_IN_JSAMPLE  8
