/* fuzz_mask.c — the PNG mask loader (viz/image/render.c bs_mask_load over
 * viz/image/image.c bs_png_read, libpng): any bytes as a mask file, both with
 * the lattice size given (the CLI's case) and taken from the image. */
#include "fuzz_util.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = bs_fuzz_file("mask.png", data, size);
    bs_error err;
    int sizes[2][2] = { { 32, 24 }, { 0, 0 } };
    for (int k = 0; k < 2; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        uint8_t *classes = NULL;
        if (bs_mask_load(path, &w, &h, &classes, &err) == BS_OK) {
            if (!classes || w < 1 || h < 1) abort();
            if (k == 0 && (w != 32 || h != 24)) abort();
            long n = (long)w * h, hist[256] = { 0 };
            for (long i = 0; i < n; i++) hist[classes[i]]++;
            for (int c = BS_TISSUE_COUNT; c < 256; c++)
                if (hist[c]) abort(); /* only valid tissue classes come out */
            free(classes);
        } else if (classes) {
            abort(); /* nothing is handed back on failure */
        }
    }
    return 0;
}
