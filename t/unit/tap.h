
/*
 * ngx_race: a tiny TAP producer for the C unit tests.
 *
 * Each test program includes it once; the functions are static inline
 * so that a program may leave some unused.  The plan is printed at the
 * end ("1..N"), which prove accepts.
 */


#ifndef _RACE_TAP_H_INCLUDED_
#define _RACE_TAP_H_INCLUDED_


#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>


static int  tap_n;
static int  tap_failed;


static inline int
tap_vok(int cond, const char *fmt, va_list ap)
{
    tap_n++;

    if (!cond) {
        tap_failed++;
        printf("not ");
    }

    printf("ok %d - ", tap_n);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);

    return cond;
}


static inline int
ok(int cond, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    cond = tap_vok(cond, fmt, ap);
    va_end(ap);

    return cond;
}


static inline void
diag(const char *fmt, ...)
{
    va_list  ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}


static inline int
is_int(int64_t got, int64_t want, const char *fmt, ...)
{
    int      cond;
    va_list  ap;

    cond = (got == want);

    va_start(ap, fmt);
    tap_vok(cond, fmt, ap);
    va_end(ap);

    if (!cond) {
        diag("  got:  %" PRId64, got);
        diag("  want: %" PRId64, want);
    }

    return cond;
}


static inline int
is_str(const char *got, const char *want, const char *fmt, ...)
{
    int      cond;
    va_list  ap;

    cond = (got != NULL && want != NULL && strcmp(got, want) == 0);

    va_start(ap, fmt);
    tap_vok(cond, fmt, ap);
    va_end(ap);

    if (!cond) {
        diag("  got:  '%s'", got ? got : "(null)");
        diag("  want: '%s'", want ? want : "(null)");
    }

    return cond;
}


/* prints the plan; the program's exit status */

static inline int
tap_done(void)
{
    printf("1..%d\n", tap_n);

    if (tap_failed) {
        printf("# %d of %d tests failed\n", tap_failed, tap_n);
        return 1;
    }

    return 0;
}


#endif /* _RACE_TAP_H_INCLUDED_ */
