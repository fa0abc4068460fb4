
/*
 * ngx_race: JSON numbers as every side writes them.
 *
 * A pure core.  A double gets the fewest significant digits, 15, 16 or
 * 17, that read back as the same double: what a phone sent survives
 * exactly (45.07 stays "45.07", never "45.070000000000000284"), and
 * whole values print as integers ("brg":270), so readers must take any
 * JSON number.  snprintf() and strtod() are used in the C locale, which
 * neither nginx nor the workers change.
 */


#ifndef _RACE_JSON_H_INCLUDED_
#define _RACE_JSON_H_INCLUDED_


#include <stddef.h>


/* enough for any number race_json_number() writes ("%.17g": 24) */
#define RACE_JSON_NUMBER_SIZE   32


/*
 * A finite double as a JSON number into buf, NUL-terminated; -0.0 is
 * written as "0".  Returns its length, or 0 (and "" in buf, if it has
 * room) when it does not fit.
 */
size_t race_json_number(double v, char *buf, size_t size);


#endif /* _RACE_JSON_H_INCLUDED_ */
