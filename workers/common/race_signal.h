
/*
 * ngx_race workers: signals.  The handler only sets flags; a daemon's
 * loop reads them, drains, commits and exits.
 */


#ifndef _RACE_SIGNAL_H_INCLUDED_
#define _RACE_SIGNAL_H_INCLUDED_


#include <signal.h>


/* TERM or INT came: stop after the work in hand */
extern volatile sig_atomic_t  race_signal_stop;
/* which of them, for the log */
extern volatile sig_atomic_t  race_signal_stop_signo;
/* HUP came: the daemon decides what that means */
extern volatile sig_atomic_t  race_signal_hup;

/* installs the handlers; SIGPIPE is ignored.  0, or -1 (logged) */
int race_signal_init(void);


#endif /* _RACE_SIGNAL_H_INCLUDED_ */
