
/*
 * ngx_race workers: clocks.
 */


#ifndef _RACE_TIME_H_INCLUDED_
#define _RACE_TIME_H_INCLUDED_


#include <stdint.h>


/* milliseconds of CLOCK_MONOTONIC: for timers and backoffs */
int64_t race_time_mono_ms(void);

/* Unix milliseconds: for the "t" of what is published */
int64_t race_time_wall_ms(void);

/* sleeps ms milliseconds, less if a signal arrives */
void race_time_sleep_ms(int64_t ms);


#endif /* _RACE_TIME_H_INCLUDED_ */
