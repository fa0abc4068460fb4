
/*
 * ngx_race: writes a rider's track as GPX 1.1 to stdout, for
 * t/gpx_schema.t to validate: names that need escaping or are not
 * UTF-8, points with and without elevation, with milliseconds, at the
 * edges of the coordinate ranges (and beyond, left out).
 */


#include <stdio.h>
#include <string.h>

#include "race_stats.h"


#define T0  1732400000000LL


int
main(void)
{
    size_t               n;
    race_buf_t           b;
    race_rider_sample_t  s[] = {
        { T0, 0, 0, 45.07, 7.68, 239.5, 1 },
        { T0 + 1500, 12, 8, 45.0701, 7.6801, 0, 0 },
        { T0 + 2000, 20, 8, 90, 180, -12.25, 1 },
        { T0 + 3000, 30, 8, -90, -180, 8848, 1 },
        { T0 + 4000, 40, 8, 90.5, 0, 0, 0 },
        { T0 + 5001, 50, 8, 0.0000001, -0.0000001, 0, 1 }
    };

    n = sizeof(s) / sizeof(s[0]);
    memset(&b, 0, sizeof(b));

    if (race_stats_gpx(&b, "Tour <de> \"l'Est\" & \x01\xff", "R\xc3\xa9my ]]>",
                       T0, s, n) != 0)
    {
        fprintf(stderr, "gpx_sample: out of memory\n");
        return 1;
    }

    fwrite(b.data, 1, b.len, stdout);
    race_buf_free(&b);

    return 0;
}
