
/*
 * ngx_race: JSON numbers as every side writes them.
 */


#include <stdio.h>
#include <stdlib.h>

#include "race_json.h"


size_t
race_json_number(double v, char *buf, size_t size)
{
    int  prec, n;

    /* -0.0 would print as "-0" */

    if (v == 0) {
        v = 0;
    }

    n = 0;

    /* 17 significant digits always read back; fewer usually do */

    for (prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, v);

        if (n < 0 || (size_t) n >= size) {
            if (size > 0) {
                buf[0] = '\0';
            }

            return 0;
        }

        if (strtod(buf, NULL) == v) {
            break;
        }
    }

    return (size_t) n;
}
