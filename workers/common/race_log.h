
/*
 * ngx_race workers: level-gated logging to stderr.
 *
 * One line per entry: "2024-11-23T22:13:20.123Z [warn] race-tracker[42]:
 * message".  The level test happens in the macro, so a debug line that
 * is off costs a comparison and never formats its arguments.  Exact
 * positions of riders are logged at debug only.
 */


#ifndef _RACE_LOG_H_INCLUDED_
#define _RACE_LOG_H_INCLUDED_


#define RACE_LOG_DEBUG  0
#define RACE_LOG_INFO   1
#define RACE_LOG_WARN   2
#define RACE_LOG_ERROR  3


/* level is evaluated once: it may be "failures++ == 0 ? WARN : DEBUG" */
#define race_log(level, ...)                                                  \
    do {                                                                      \
        int  race_log_l_ = (level);                                           \
                                                                              \
        if (race_log_l_ >= race_log_level) {                                  \
            race_log_write(race_log_l_, __VA_ARGS__);                         \
        }                                                                     \
    } while (0)


extern volatile int  race_log_level;


/* name is the program name put in every line; it is not copied */
void race_log_init(const char *name, int level);
void race_log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "debug", "info", "warn", "error" to RACE_LOG_*, -1 if none */
int race_log_level_parse(const char *name);


#endif /* _RACE_LOG_H_INCLUDED_ */
