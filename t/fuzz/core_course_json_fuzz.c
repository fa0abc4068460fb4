
/*
 * ngx_race: libFuzzer target for the course's compact JSON.
 *
 * race_course_decode() on any bytes refuses them with a sentence or
 * gives a course whose invariants hold and whose encoding decodes to
 * the very same course (the checks of core_course_check.h).
 */


#include "core_course_check.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc;
    char           err[RACE_COURSE_ERR_MAX], *in;
    race_course_t  c;

    in = malloc(size ? size : 1);
    f_assert(in != NULL);
    memcpy(in, data, size);

    err[0] = '\0';
    rc = race_course_decode(&c, in, size, err, sizeof(err));

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
