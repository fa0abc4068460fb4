
/*
 * ngx_race: libFuzzer target for the course parser.
 *
 * in[0] % 4 + 1 laps, the rest a file: race_course_parse() either
 * refuses it with a sentence (valid UTF-8, within its buffer) or gives
 * a course whose invariants hold: two points at least, distances
 * growing from 0 to its length, at most RACE_COURSE_POINTS_MAX a lap,
 * and its compact JSON read back as the very same course.
 */


#include "core_course_check.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc;
    char           err[RACE_COURSE_ERR_MAX], *in;
    race_course_t  c;

    if (size < 1) {
        return 0;
    }

    /* its own allocation of its exact size: ASan sees overruns */

    in = malloc(size - 1 ? size - 1 : 1);
    f_assert(in != NULL);
    memcpy(in, data + 1, size - 1);

    err[0] = '\0';
    rc = race_course_parse(&c, in, size - 1, data[0] % 4 + 1, err,
                           sizeof(err));

    if (rc == 0) {
        check_course(&c);
        race_course_free(&c);

    } else {
        f_assert(rc == -1);
        check_err(err);
    }

    free(in);

    return 0;
}
