
/*
 * ngx_race workers: level-gated logging to stderr.
 *
 * librdkafka may call the logger from its own threads: each line is
 * formatted into a local buffer and written with one write(2), so lines
 * from different threads never interleave.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "race_log.h"


#define RACE_LOG_LINE_MAX  2048


volatile int  race_log_level = RACE_LOG_INFO;

static const char  *race_log_name = "race";

static const char  *race_log_levels[] = {
    "debug", "info", "warn", "error"
};


void
race_log_init(const char *name, int level)
{
    race_log_name = name;
    race_log_level = level;
}


void
race_log_write(int level, const char *fmt, ...)
{
    int               n, m;
    char              line[RACE_LOG_LINE_MAX];
    size_t            len;
    va_list           args;
    struct tm         tm;
    struct timespec   ts;

    if (level < RACE_LOG_DEBUG || level > RACE_LOG_ERROR) {
        level = RACE_LOG_ERROR;
    }

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);

    n = snprintf(line, sizeof(line),
                 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [%s] %s[%ld]: ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                 race_log_levels[level], race_log_name, (long) getpid());

    if (n < 0 || (size_t) n >= sizeof(line)) {
        return;
    }

    va_start(args, fmt);
    m = vsnprintf(line + n, sizeof(line) - n, fmt, args);
    va_end(args);

    if (m < 0) {
        return;
    }

    /* a line too long is cut, and still ends with a newline */
    len = (size_t) n + (size_t) m;
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
    }

    line[len++] = '\n';

    /* nothing useful to do if stderr is gone */
    if (write(STDERR_FILENO, line, len) < 0) {
        return;
    }
}


int
race_log_level_parse(const char *name)
{
    int  i;

    for (i = RACE_LOG_DEBUG; i <= RACE_LOG_ERROR; i++) {
        if (strcmp(name, race_log_levels[i]) == 0) {
            return i;
        }
    }

    return -1;
}
